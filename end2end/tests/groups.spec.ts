import { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { aliceAndBob, apiConversation, apiSend, apiUser, hydrated, openChat, write } from './helpers';

test('leaving a group: it goes from every tab of the leaver, the others see one member fewer', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const bobContext = await browser.newContext();
  const bob = await bobContext.newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const c = await apiUser(await (await browser.newContext()).newPage(), 'carol');
  const group = await apiConversation(alice, [b.id, c.id], 'Book club');
  await apiSend(bob, group, 'I picked the last one');
  const bobTab2 = await bobContext.newPage();
  for (const page of [alice, bob, bobTab2]) await openChat(page, group);
  await expect(alice.locator('.conversation-head .subtitle')).toHaveText('3 members');

  bob.once('dialog', (dialog) => dialog.accept());
  await bob.getByTestId('leave-group').click();
  await expect(bob).toHaveURL(/\/$/);
  await expect(bob.getByTestId('inbox-row')).toHaveCount(0);
  // His other tab had the group open: it goes back to the inbox by itself.
  await expect(bobTab2).toHaveURL(/\/$/);
  await expect(bobTab2.getByTestId('inbox-row')).toHaveCount(0);
  // Alice sees it live; Bob's message keeps his name.
  await expect(alice.locator('.conversation-head .subtitle')).toHaveText('2 members');
  await expect(
    alice.locator('[data-testid="message"]', { hasText: 'I picked the last one' }).locator('.sender'),
  ).toHaveText(b.username);
  await write(alice, 'after bob left');
  await expect(alice.locator('[data-testid="message"]', { hasText: 'after bob left' })).toHaveAttribute(
    'data-status',
    'sent',
  );
});

test('blocking in a direct chat: a note instead of the composer, their sends refused; unblocking undoes it', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  await alice.getByTestId('block-user').click();
  await expect(alice.getByTestId('blocked-note')).toContainText('You blocked');
  await expect(alice.getByRole('textbox', { name: 'Message' })).toHaveCount(0);
  await expect(alice.getByTestId('block-user')).toHaveText('Unblock');

  await write(bob, 'are you there?');
  const refused = bob.locator('[data-testid="message"]', { hasText: 'are you there?' });
  await expect(refused).toHaveAttribute('data-status', 'failed');
  await expect(refused).toContainText('blocked');

  await alice.getByTestId('block-user').click();
  await expect(alice.getByTestId('block-user')).toHaveText('Block');
  await hydrated(alice);
  await expect(alice.getByTestId('connection')).toHaveText('Connected');
  await write(bob, 'now?');
  await expect(alice.locator('[data-testid="message"]', { hasText: 'now?' })).toHaveCount(1);
  await expect(alice.locator('[data-testid="message"]', { hasText: 'are you there?' })).toHaveCount(0);
});

/** Alice in sixty groups with Bob and Carol, numbered in the order made
 * (the newest is listed first). */
async function sixtyGroups(page: Page): Promise<void> {
  await apiUser(page, 'alice');
  const other = await page.context().browser()!.newContext();
  const b = await apiUser(await other.newPage(), 'bob');
  const c = await apiUser(await other.newPage(), 'carol');
  for (let n = 1; n <= 60; n++) {
    await apiConversation(page, [b.id, c.id], `Group ${n}`);
  }
}

test('the inbox shows fifty chats and the rest as the list scrolls to its end', async ({ page }) => {
  await sixtyGroups(page);
  await page.goto('/');
  await hydrated(page);
  const rows = page.getByTestId('inbox-row');
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText('Group 60');
  await page.locator('nav.inbox').evaluate((nav) => nav.scrollTo(0, nav.scrollHeight));
  await expect(rows).toHaveCount(60);
  await expect(rows.last()).toContainText('Group 1');
  await expect(page.getByTestId('inbox-more')).toHaveCount(0);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the older chats are a link away, and the newest one more', async ({ page }) => {
    await sixtyGroups(page);
    await page.goto('/');
    const rows = page.getByTestId('inbox-row');
    await expect(rows).toHaveCount(50);
    await page.getByTestId('inbox-more').click();
    await expect(page).toHaveURL(/\/\?after=/);
    await expect(rows).toHaveCount(10);
    await expect(rows.first()).toContainText('Group 10');
    await page.getByRole('link', { name: 'Newest chats' }).click();
    await expect(rows).toHaveCount(50);
    await expect(rows.first()).toContainText('Group 60');
  });

  test('leaving a group is a plain form', async ({ page, browser }) => {
    await apiUser(page, 'alice');
    const others = await browser.newContext();
    const b = await apiUser(await others.newPage(), 'bob');
    const c = await apiUser(await others.newPage(), 'carol');
    const group = await apiConversation(page, [b.id, c.id], 'Short-lived');
    await page.goto(`/c/${group}`);
    await page.getByTestId('leave-group').click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId('inbox-row')).toHaveCount(0);
  });
});
