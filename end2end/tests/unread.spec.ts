import { Browser, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { apiConversation, apiSend, apiUser, hydrated, openChat, shownTexts } from './helpers';
import { mkdirSync } from 'node:fs';

// What did I miss: the "New messages" line, the count in the tab's title
// and icon, mute, "Mark all as read", and browser notifications.

/** Records every notification the page raises (`window.__notes`) instead
 * of showing it, and lets the test hide the page (`window.__hide(true)`):
 * headless Chromium's own page is always "visible". */
const WATCH = () => {
  const w = window as any;
  w.__notes = [];
  const Real = w.Notification;
  const Fake: any = function (title: string, options?: NotificationOptions) {
    w.__notes.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' });
    return { close() {}, onclick: null };
  };
  Object.defineProperty(Fake, 'permission', { get: () => Real.permission });
  Fake.requestPermission = (...args: any[]) => Real.requestPermission(...args);
  w.Notification = Fake;
  let hidden = false;
  Object.defineProperty(Document.prototype, 'hidden', { get: () => hidden, configurable: true });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    get: () => (hidden ? 'hidden' : 'visible'),
    configurable: true,
  });
  w.__hide = (on: boolean) => {
    hidden = on;
    document.dispatchEvent(new Event('visibilitychange'));
  };
};

async function notes(page: Page): Promise<{ title: string; body: string }[]> {
  return page.evaluate(() => (window as any).__notes.map((n: any) => ({ title: n.title, body: n.body })));
}

/** A user whose browser allows notifications and records them. */
async function watchedUser(browser: Browser, prefix: string) {
  const context = await browser.newContext({ permissions: ['notifications'] });
  await context.addInitScript(WATCH);
  const page = await context.newPage();
  const user = await apiUser(page, prefix);
  return { page, ...user };
}

/** Waits until the inbox row of `conversation` previews `text`. */
async function previewed(page: Page, conversation: string, text: string) {
  await expect(
    page.locator(`[data-conversation-id="${conversation}"] [data-testid="inbox-preview"]`),
  ).toContainText(text);
}

test('the New messages line is above the first unread message, scrolled into view, and gone next time', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const chat = await apiConversation(alice, [b.id]);
  for (let n = 1; n <= 20; n++) await apiSend(bob, chat, `old ${n}`);
  // Alice's own message moves her read marker: all of that is read.
  await apiSend(alice, chat, 'read up to here');
  for (let n = 1; n <= 25; n++) await apiSend(bob, chat, `new ${n}`);

  // The server's page has the line already, right before "new 1".
  const html = await (await alice.request.get(`/c/${chat}`)).text();
  const line = html.indexOf('data-testid="unread-line"');
  expect(line).toBeGreaterThan(html.indexOf('read up to here'));
  expect(line).toBeLessThan(html.indexOf('>new 1<'));

  await openChat(alice, chat);
  const unread = alice.getByTestId('unread-line');
  await expect(unread).toHaveCount(1);
  await expect(unread).toHaveText('New messages');
  // Directly above the first unread message.
  await expect(unread.locator('xpath=following-sibling::li[1]')).toContainText('new 1');
  await expect(unread.locator('xpath=preceding-sibling::li[1]')).toContainText('read up to here');
  // Scrolled there, not to the bottom.
  await expect(unread).toBeInViewport();
  await expect(alice.locator('[data-testid="message"]', { hasText: 'new 25' })).not.toBeInViewport();

  // It stays while the conversation is open, new messages or not.
  await apiSend(bob, chat, 'one more');
  await expect(alice.locator('[data-testid="message"]', { hasText: 'one more' })).toHaveCount(1);
  await expect(unread).toHaveCount(1);

  // Opened again: everything was read, no line.
  await alice.goto('/');
  await hydrated(alice);
  await openChat(alice, chat);
  await expect(alice.locator('[data-testid="message"]', { hasText: 'one more' })).toHaveCount(1);
  await expect(alice.getByTestId('unread-line')).toHaveCount(0);
});

test('more than a page unread: the conversation opens where I left off, the line above the first unread, newer pages below', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const chat = await apiConversation(alice, [b.id]);
  for (let n = 1; n <= 10; n++) await apiSend(bob, chat, `old ${n}`);
  await apiSend(alice, chat, 'read up to here');
  for (let n = 1; n <= 90; n++) await apiSend(bob, chat, `new ${n}`);

  // The server's page starts where Alice left off, without JavaScript too.
  const html = await (await alice.request.get(`/c/${chat}`)).text();
  const line = html.indexOf('data-testid="unread-line"');
  expect(line).toBeGreaterThan(html.indexOf('read up to here'));
  expect(line).toBeLessThan(html.indexOf('>new 1<'));
  expect(html).not.toContain('class="text">new 90<');

  // Opened from the inbox, in the page.
  await alice.goto('/');
  await hydrated(alice);
  await alice.locator(`a[data-conversation-id="${chat}"]`).click();
  await expect(alice).toHaveURL(new RegExp(`/c/${chat}$`));
  const unread = alice.getByTestId('unread-line');
  await expect(unread).toHaveCount(1);
  await expect(unread.locator('xpath=following-sibling::li[1]')).toContainText('new 1');
  await expect(unread.locator('xpath=preceding-sibling::li[1]')).toContainText('read up to here');
  await expect(unread).toBeInViewport();
  const messages = alice.getByTestId('messages');
  await expect(messages.getByText('new 90', { exact: true })).toHaveCount(0);
  await expect(alice.getByTestId('jump-latest')).toBeVisible();
  // What is below is still unread: the inbox row says how much, as the
  // server counts it (the same in a fresh tab).
  const badge = (page: typeof alice) => page.locator(`a[data-conversation-id="${chat}"]`).getByTestId('unread-badge');
  const shownNewest = (await shownTexts(alice)).filter((t) => t.startsWith('new ')).length;
  await expect(badge(alice)).toHaveText(String(90 - shownNewest));
  const fresh = await alice.context().newPage();
  await fresh.goto('/');
  await expect(badge(fresh)).toHaveText(String(90 - shownNewest));
  await fresh.close();

  // Scrolling down reads on to the newest, each message once and in order.
  await expect
    .poll(async () => {
      await messages.evaluate((el) => el.scrollTo({ top: 0 }));
      return messages.getByText('new 90', { exact: true }).count();
    })
    .toBe(1);
  const texts = (await shownTexts(alice)).filter((t) => t.startsWith('new '));
  expect(texts).toEqual(Array.from({ length: 90 }, (_, i) => `new ${i + 1}`));
  await expect(alice.getByTestId('jump-latest')).toHaveCount(0);

  // Read to the end: opened again, the newest page and no line.
  await openChat(alice, chat);
  await expect(messages.getByText('new 90', { exact: true })).toBeInViewport();
  await expect(alice.getByTestId('unread-line')).toHaveCount(0);
});

test('without JavaScript "Mark all as read" is a form that clears every unread row', async ({ browser }) => {
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  const bob = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const c = await apiUser(await (await browser.newContext()).newPage(), 'carol');
  const direct = await apiConversation(alice, [b.id]);
  const group = await apiConversation(alice, [b.id, c.id], 'Plans');
  await apiSend(bob, direct, 'one');
  await apiSend(bob, group, 'two');
  await apiSend(bob, group, 'three');

  const plain = await (
    await browser.newContext({ javaScriptEnabled: false, storageState: await aliceContext.storageState() })
  ).newPage();
  await plain.goto('/');
  await expect(plain).toHaveTitle('(3) Chats · natter');
  await expect(plain.getByTestId('unread-badge')).toHaveCount(2);
  await plain.getByTestId('read-all').click();
  await expect(plain).toHaveURL(/\/$/);
  await expect(plain.getByTestId('unread-badge')).toHaveCount(0);
  await expect(plain).toHaveTitle('Chats · natter');
});

test('the tab title and icon count unread messages, rise and clear live; muted chats count only in the inbox', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const direct = await apiConversation(alice, [b.id]);
  const c = await apiUser(await (await browser.newContext()).newPage(), 'carol');
  const group = await apiConversation(alice, [b.id, c.id], 'Quiet room');

  await alice.goto('/');
  await hydrated(alice);
  await expect(alice.getByTestId('connection')).toHaveText('Connected');
  await expect(alice).toHaveTitle('Chats · natter');
  await apiSend(bob, direct, 'one');
  await expect(alice).toHaveTitle('(1) Chats · natter');
  await apiSend(bob, direct, 'two');
  await expect(alice).toHaveTitle('(2) Chats · natter');
  const icon = alice.locator('link[rel=icon]');
  await expect(icon).toHaveAttribute('href', /^data:image\/svg\+xml,.*%3E2%3C/);

  // A muted group: its row says so and keeps its badge, the title does not count it.
  const muted = await alice.request.put(`/api/v1/conversations/${group}/mute`);
  expect(muted.status()).toBe(204);
  const row = alice.locator(`[data-conversation-id="${group}"]`);
  await expect(row.getByTestId('muted-icon')).toHaveCount(1);
  await apiSend(bob, group, 'shh');
  await expect(row.getByTestId('unread-badge')).toHaveText('1');
  await expect(alice).toHaveTitle('(2) Chats · natter');

  // The server's page counts the same way.
  const html = await (await alice.request.get('/')).text();
  expect(html).toContain('<title>(2) Chats · natter</title>');

  // Reading the direct chat clears its part, live.
  await alice.locator(`[data-conversation-id="${direct}"]`).click();
  await expect(alice).toHaveURL(new RegExp(`/c/${direct}$`));
  await expect(alice).toHaveTitle(/^[^(]*natter$/);
  await expect(icon).toHaveAttribute('href', '/favicon.svg');

  // Mark all as read clears the muted one's badge too.
  await alice.getByTestId('mark-all-read').click();
  await expect(row.getByTestId('unread-badge')).toHaveCount(0);
  await expect(alice.getByTestId('mark-all-read')).toBeHidden();
  await alice.reload();
  await hydrated(alice);
  await expect(alice.getByTestId('unread-badge')).toHaveCount(0);

  // Unmuting from the conversation's header: the inbox follows.
  await openChat(alice, group);
  await expect(alice.getByTestId('mute-toggle')).toHaveText('Unmute');
  await alice.getByTestId('mute-toggle').click();
  await expect(alice.getByTestId('mute-toggle')).toHaveText('Mute');
  await expect(row.getByTestId('muted-icon')).toHaveCount(0);
  await expect(alice).toHaveURL(new RegExp(`/c/${group}$`));
});

test('a notification when the page is hidden, never asked on load; a mention notifies in a muted group, a plain message does not', async ({ browser }) => {
  const alice = await watchedUser(browser, 'alice');
  const bob = await (await browser.newContext()).newPage();
  const b = await apiUser(bob, 'bob');
  const c = await apiUser(await (await browser.newContext()).newPage(), 'carol');
  const direct = await apiConversation(alice.page, [b.id]);
  const group = await apiConversation(alice.page, [b.id, c.id], 'Trip');
  const page = alice.page;
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByTestId('connection')).toHaveText('Connected');

  // Off until the bell is pressed (no prompt on load).
  const bell = page.getByTestId('notify-toggle');
  await expect(bell).toHaveAttribute('aria-pressed', 'false');
  await apiSend(bob, direct, 'before turning them on');
  await previewed(page, direct, 'before turning them on');
  await page.evaluate(() => (window as any).__hide(true));
  await apiSend(bob, direct, 'still off');
  await previewed(page, direct, 'still off');
  expect(await notes(page)).toEqual([]);
  await page.evaluate(() => (window as any).__hide(false));

  await bell.click();
  await expect(bell).toHaveAttribute('aria-pressed', 'true');
  await page.evaluate(() => (window as any).__hide(true));
  await apiSend(bob, direct, 'are you there?');
  await expect.poll(() => notes(page)).toEqual([{ title: b.username, body: 'are you there?' }]);

  // A muted group: nothing for a plain message, something for a mention.
  expect((await page.request.put(`/api/v1/conversations/${group}/mute`)).status()).toBe(204);
  await expect(page.locator(`[data-conversation-id="${group}"] [data-testid="muted-icon"]`)).toHaveCount(1);
  await apiSend(bob, group, 'plain news');
  await previewed(page, group, 'plain news');
  expect(await notes(page)).toHaveLength(1);
  await apiSend(bob, group, `@${alice.username} look at this`);
  await expect
    .poll(() => notes(page))
    .toEqual([
      { title: b.username, body: 'are you there?' },
      { title: `${b.username} in Trip`, body: `@${alice.username} look at this` },
    ]);

  // Remembered in this browser: on after a reload.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('notify-toggle')).toHaveAttribute('aria-pressed', 'true');
});

test('screenshots: the unread line and the sidebar, wide and phone', async ({ browser }) => {
  const folder = process.env.NATTER_SHOTS ?? '/tmp/shots';
  mkdirSync(folder, { recursive: true });
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const c = await apiUser(await (await browser.newContext()).newPage(), 'carol');
  const chat = await apiConversation(alice, [b.id]);
  const group = await apiConversation(alice, [b.id, c.id], 'Weekend plans');
  await alice.request.put(`/api/v1/conversations/${group}/mute`);
  await apiSend(bob, group, 'muted, but still counted here');
  for (let n = 1; n <= 6; n++) await apiSend(bob, chat, `earlier message ${n}`);
  await apiSend(alice, chat, 'I read all of that');
  for (let n = 1; n <= 8; n++) await apiSend(bob, chat, `something new ${n}`);
  for (const [name, size] of [
    ['wide', { width: 1280, height: 720 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    await alice.setViewportSize(size);
    await alice.goto('/');
    await hydrated(alice);
    await expect(alice.getByTestId('connection')).toHaveText('Connected');
    await alice.screenshot({ path: `${folder}/unread-inbox-${name}.png` });
    // The line is drawn on the server's page: the same HTML again.
    await openChat(alice, chat);
    await expect(alice.getByTestId('unread-line')).toBeInViewport();
    await alice.screenshot({ path: `${folder}/unread-line-${name}.png` });
    // Back to unread for the next size (away from it first: an open,
    // visible conversation reads what arrives).
    await alice.goto('about:blank');
    await apiSend(alice, chat, `seen at ${name}`);
    for (let n = 1; n <= 3; n++) await apiSend(bob, chat, `${name} again ${n}`);
  }
});
