import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test, expect } from './fixtures';
import { aliceAndBob, message, openChat, write } from './helpers';

// The database really stops here, under the server the whole suite uses, so
// this file runs alone, after every other test (its own project in
// playwright.config.ts).

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.NATTER_E2E_BIN ?? 'target/release/natter';

/** `natter db stop` / `natter db url` (which starts it) on the server's
 * private cluster. */
function database(action: 'stop' | 'url'): void {
  execFileSync(path.join(ROOT, BIN), ['db', action], {
    cwd: ROOT,
    env: { ...process.env, NATTER_DATA_DIR: 'target/e2e-db' },
    stdio: 'pipe',
  });
}

const PENDING = 10;
/** How long the database stays down once the messages are written. */
const OUTAGE_MS = 8_000;

test('ten messages written while the database is down are retried gently and each delivered exactly once', async ({ browser }) => {
  test.setTimeout(120_000);
  const { alice, bob, conversation } = await aliceAndBob(browser);
  // Counted from the page's first socket on.
  let sends = 0;
  alice.on('websocket', (ws) => {
    ws.on('framesent', (frame) => {
      if (typeof frame.payload === 'string' && frame.payload.includes('"message.send"')) sends += 1;
    });
  });
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  const texts = Array.from({ length: PENDING }, (_, i) => `written during the outage ${i + 1}`);

  database('stop');
  try {
    for (const text of texts) await write(alice, text);
    // Shown at once, waiting; turned away for now they stay waiting (the
    // page tries again by itself), never failed.
    for (const text of texts) {
      await expect(message(alice, text)).toHaveAttribute('data-status', /^(pending|retrying)$/);
    }
    await expect(message(alice, texts[0])).toHaveAttribute('data-status', 'retrying');
    await alice.waitForTimeout(OUTAGE_MS);
    // Each message goes once, then again after 0.5–1 s, 1–2 s, 2–4 s and
    // 4–8 s, on its own schedule: at most five tries each in these ten
    // seconds or so (a sixth waits at least 15.5 s). Resending the whole
    // outbox on every refusal would be hundreds.
    const duringOutage = sends;
    expect(duringOutage).toBeGreaterThanOrEqual(PENDING);
    expect(duringOutage).toBeLessThanOrEqual(PENDING * 5);
    await expect(message(bob, texts[0])).toHaveCount(0);
    await expect(alice.locator('[data-testid="message"][data-status="failed"]')).toHaveCount(0);
  } finally {
    database('url');
  }

  for (const text of texts) {
    await expect(message(alice, text)).toHaveAttribute('data-status', 'sent', { timeout: 45_000 });
    await expect(message(bob, text)).toHaveCount(1);
  }
  const history = await (await bob.request.get(`/api/v1/chat/${conversation}`)).json();
  const stored = history.messages.map((m: { content: string }) => m.content).filter((c: string) => texts.includes(c));
  expect(stored.sort()).toEqual([...texts].sort());
  await bob.reload();
  for (const text of texts) await expect(message(bob, text)).toHaveCount(1);
});
