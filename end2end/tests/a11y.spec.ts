import AxeBuilder from '@axe-core/playwright';
import { Browser, BrowserContext, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { apiConversation, apiSend, apiUser, hydrated, message, openChat, pdfFile, write } from './helpers';

// Every page as axe-core audits it: WCAG 2.1 A and AA, and axe's best
// practices (a level-one heading, landmarks, headings in order), at a wide
// and a phone width, as the server sends it (the bundle held back, so the
// page stays as it came) and hydrated.
// A page with any violation fails, each one listed with the elements it
// found. A page is one line of PAGES.

const RULES = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

const WIDTHS = [
  { name: 'wide', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
];

/** What the pages show: Alice's chats with Bob, with messages both ways. */
interface Seed {
  /** Alice's cookies. */
  alice: Awaited<ReturnType<BrowserContext['storageState']>>;
  /** Alice's direct chat with Bob. */
  direct: string;
  /** Her group with Bob and Carol. */
  group: string;
}

interface Audited {
  name: string;
  /** Without a session (the log-in pages) or as Alice. */
  signedIn: boolean;
  path: (seed: Seed) => string;
  /** Waits until what the page is about is on it. */
  ready: (page: Page) => Promise<void>;
}

const PAGES: Audited[] = [
  {
    name: 'log-in',
    signedIn: false,
    path: () => '/login',
    ready: (page) => expect(page.getByRole('button', { name: 'Log in' })).toBeVisible(),
  },
  {
    name: 'register',
    signedIn: false,
    path: () => '/register',
    ready: (page) => expect(page.getByRole('button', { name: 'Sign up' })).toBeVisible(),
  },
  {
    name: 'inbox',
    signedIn: true,
    path: () => '/',
    ready: (page) => expect(page.getByTestId('inbox-row')).toHaveCount(2),
  },
  {
    name: 'conversation',
    signedIn: true,
    path: (seed) => `/c/${seed.direct}`,
    ready: async (page) => {
      await expect(page.locator('[data-testid="message"]')).toHaveCount(4);
      await expect(page.getByTestId('reaction')).toHaveCount(1);
    },
  },
  {
    name: 'group',
    signedIn: true,
    path: (seed) => `/c/${seed.group}`,
    ready: (page) => expect(page.locator('[data-testid="message"]')).toHaveCount(2),
  },
  {
    name: 'new chat',
    signedIn: true,
    path: () => '/new',
    ready: (page) => expect(page.getByRole('heading', { name: 'New chat' })).toBeVisible(),
  },
  { name: 'search', signedIn: true, path: () => '/search?q=station', ready: (page) => expect(page.getByTestId('search-hit')).toHaveCount(1) },
];

function messageId(): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  return `msg_${hex}`;
}

async function send(page: Page, conversation: string, content: string, extra: Record<string, string> = {}): Promise<string> {
  const id = messageId();
  const response = await page.request.post('/api/send', {
    form: { conversation_id: conversation, message_id: id, content, ...extra },
    maxRedirects: 0,
  });
  expect(response.status()).toBeLessThan(400);
  return id;
}

/** A message with a PDF, through the composer's form. */
async function withFile(page: Page, conversation: string, content: string, name: string, replyTo?: string): Promise<string> {
  const id = messageId();
  const response = await page.request.post(`/c/${conversation}/send`, {
    multipart: {
      message_id: id,
      content,
      ...(replyTo ? { reply_to: replyTo } : {}),
      files: { name, mimeType: 'application/pdf', buffer: pdfFile() },
    },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(303);
  expect(response.headers()['location']).not.toContain('__err');
  return id;
}

async function seed(browser: Browser): Promise<Seed> {
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  const bob = await (await browser.newContext()).newPage();
  const carol = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const c = await apiUser(carol, 'carol');
  const direct = await apiConversation(alice, [b.id]);
  const group = await apiConversation(alice, [b.id, c.id], 'Weekend plans');
  // Both sides: mine with their time and ticks, theirs, replies each way,
  // a reaction, file cards each way; in the group, names over the others'
  // messages and one unread (its badge).
  const question = await send(alice, direct, 'Are we still on for Saturday?');
  await send(bob, direct, 'Yes! 10am at the station.', { reply_to: question });
  const map = await withFile(bob, direct, 'The route, in case', 'route.pdf');
  const reacted = await alice.request.post('/api/react', {
    form: { conversation_id: direct, message_id: map, action_id: messageId(), reaction: '+👍' },
    maxRedirects: 0,
  });
  expect(reacted.status()).toBeLessThan(400);
  await withFile(alice, direct, 'Great, see you there. Tickets attached', 'tickets.pdf', map);
  await send(carol, group, 'I can bring a cake');
  await send(bob, group, 'Who is bringing snacks?');
  const state = await aliceContext.storageState();
  await aliceContext.close();
  await bob.context().close();
  await carol.context().close();
  return { alice: state, direct, group };
}

/** axe's findings, one line per rule and the elements it flagged. */
function readable(violations: Awaited<ReturnType<AxeBuilder['analyze']>>['violations']): string {
  return violations
    .map((v) => {
      const where = v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`).join('\n');
      return `${v.id} (${v.impact}): ${v.help}\n${where}`;
    })
    .join('\n');
}

let seeded: Promise<Seed> | undefined;

for (const width of WIDTHS) {
  for (const audited of PAGES) {
    for (const hydrate of [false, true]) {
      const state = hydrate ? 'hydrated' : 'server-rendered';
      test(`${audited.name}, ${width.name}, ${state}: no accessibility violations`, async ({ browser }) => {
        seeded ??= seed(browser);
        const data = await seeded;
        const context = await browser.newContext({
          viewport: width.viewport,
          storageState: audited.signedIn ? data.alice : undefined,
        });
        const page = await context.newPage();
        // The page as the server sent it: its script is one that never
        // starts the bundle (axe itself runs in the page, so JavaScript
        // cannot just be off).
        if (!hydrate) {
          await page.route(/\/pkg\/natter\.[^/]*\.js$/, (route) =>
            route.fulfill({ contentType: 'text/javascript', body: 'export default () => new Promise(() => {}); export function hydrate() {}' }),
          );
        }
        await page.goto(audited.path(data));
        if (hydrate) await hydrated(page);
        await audited.ready(page);
        const results = await new AxeBuilder({ page }).withTags(RULES).analyze();
        const shots = process.env.A11Y_SHOTS;
        if (shots && hydrate) {
          const file = audited.name.replace(/\W+/g, '-');
          await page.screenshot({ path: `${shots}/a11y-${file}-${width.name}.png` });
        }
        expect(readable(results.violations), 'accessibility violations').toBe('');
        await context.close();
      });
    }
  }
}

test('a message someone else sends is told to a screen reader once; history and my own are not', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const conversation = await apiConversation(alice, [b.id]);
  // More than a page of history.
  for (let i = 1; i <= 60; i++) await apiSend(bob, conversation, `old message ${i}`);

  await openChat(alice, conversation);
  const messages = alice.getByTestId('messages');
  const said = alice.getByTestId('announcer').locator('p');
  // The list is not a live region itself: a page of older messages added to
  // it would be read out whole.
  await expect(messages).not.toHaveAttribute('aria-live');
  await expect(messages).not.toHaveAttribute('role', 'log');
  await expect(alice.getByTestId('announcer')).toHaveAttribute('aria-live', 'polite');
  await expect(said).toHaveCount(0);

  // Older pages, loaded by scrolling up: not news.
  const start = alice.getByText('This is the start of the conversation.');
  for (let i = 0; i < 20 && !(await start.isVisible()); i++) {
    await messages.evaluate((el) => el.scrollTo({ top: -el.scrollHeight }));
    await alice.waitForTimeout(200);
  }
  await expect(message(alice, 'old message 1')).toHaveCount(1);
  await expect(said).toHaveCount(0);

  // Bob writes: said, with his name.
  await apiSend(bob, conversation, 'Are you there?');
  await expect(said).toHaveText([`${b.username}: Are you there?`]);
  await said.first().evaluate((el) => el.setAttribute('data-was-here', ''));

  // Mine is not news to me.
  await write(alice, 'Yes, here');
  await expect(message(alice, 'Yes, here')).toHaveAttribute('data-status', 'sent');
  // Bob again: one more line; the first is the same node, not said again.
  const great = await send(bob, conversation, 'Great');
  await expect(said).toHaveText([`${b.username}: Are you there?`, `${b.username}: Great`]);
  await expect(said.first()).toHaveAttribute('data-was-here', '');
  await expect(message(alice, 'Great')).toHaveCount(1);

  // Deleted, its words leave the page, the region included.
  const deleted = await bob.request.post('/api/delete', {
    form: { conversation_id: conversation, message_id: great, action_id: messageId() },
    maxRedirects: 0,
  });
  expect(deleted.status()).toBeLessThan(400);
  await expect(alice.locator('[data-deleted="true"]')).toHaveCount(1);
  await expect(said).toHaveText([`${b.username}: Are you there?`]);
  await expect(alice.getByText('Great')).toHaveCount(0);
});
