import { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { aliceAndBob, hydrated, write } from './helpers';

/** The keys of this browser's outbox (messages written, not yet stored). */
async function outboxKeys(page: Page): Promise<string[]> {
  return page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('natter.outbox.')));
}

test('logging out with messages unsent asks first, then forgets them', async ({ browser }) => {
  const { alice, conversation } = await aliceAndBob(browser);
  // The network eats every message.send: they stay in the outbox.
  await alice.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((frame) => {
      if (typeof frame === 'string' && frame.includes('"message.send"')) return;
      server.send(frame);
    });
    server.onMessage((frame) => ws.send(frame));
  });
  await alice.goto(`/c/${conversation}`);
  await hydrated(alice);
  await expect(alice.getByTestId('connection')).toHaveText('Connected');
  await write(alice, 'first unsent');
  await write(alice, 'second unsent');
  await expect.poll(() => outboxKeys(alice)).toHaveLength(2);

  // Changing one's mind keeps them, and the session.
  alice.once('dialog', (dialog) => {
    expect(dialog.message()).toContain('2 message(s) not sent yet');
    void dialog.dismiss();
  });
  await alice.getByRole('button', { name: 'Log out' }).click();
  await expect(alice).toHaveURL(new RegExp(`/c/${conversation}$`));
  expect(await outboxKeys(alice)).toHaveLength(2);

  alice.once('dialog', (dialog) => void dialog.accept());
  await alice.getByRole('button', { name: 'Log out' }).click();
  await expect(alice).toHaveURL(/\/login$/);
  expect(await outboxKeys(alice)).toEqual([]);
});
