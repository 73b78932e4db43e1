import { test, expect } from './fixtures';
import { aliceAndBob, apiConversation, hydrated, message, openChat, threePeople, write } from './helpers';

test('Alice sees Bob online, and a grey dot and "last seen" once his page closes', async ({ browser }) => {
  const { alice, bob, bobContext, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  const headerDot = alice.locator('.conversation-head .avatar');
  const rowDot = alice.locator(`[data-conversation-id="${conversation}"] .avatar`);
  const subtitle = alice.getByTestId('conversation-subtitle');
  await expect(headerDot).toHaveAttribute('data-online', 'false');
  await expect(subtitle).toHaveText('Direct chat');

  await openChat(bob, conversation);
  await expect(subtitle).toHaveText('online');
  await expect(headerDot).toHaveAttribute('data-online', 'true');
  await expect(rowDot).toHaveAttribute('data-online', 'true');
  // A message redraws the inbox in the browser: the dot stays.
  await write(alice, 'still there?');
  await expect(message(alice, 'still there?')).toHaveAttribute('data-status', 'sent');
  await expect(rowDot).toHaveClass(/\bfollowed\b/);
  await expect(rowDot).toHaveAttribute('data-online', 'true');

  await bobContext.close();
  await expect(subtitle).toHaveText(/^last seen \d\d:\d\d$/);
  await expect(headerDot).toHaveAttribute('data-online', 'false');
  await expect(rowDot).toHaveAttribute('data-online', 'false');
});

test('my message goes from one tick to delivered while Bob is elsewhere, and to seen when he opens it, without a reload', async ({ browser }) => {
  const { alice, bob, aliceContext, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  // Bob is in the app, on his inbox, not in this chat.
  await bob.goto('/');
  await hydrated(bob);
  await expect(bob.getByTestId('connection')).toHaveText('Connected');

  await write(alice, 'are you there?');
  const tick = message(alice, 'are you there?').locator('.mark');
  await expect(tick).toHaveAttribute('data-receipt', 'delivered');
  await expect(tick).toHaveText(/✓✓/);

  await openChat(bob, conversation);
  await expect(tick).toHaveAttribute('data-receipt', 'seen');
  await expect(tick).toHaveAttribute('title', 'Seen');

  // The ticks come with the page, with JavaScript off too.
  const plain = await (await browser.newContext({ javaScriptEnabled: false, storageState: await aliceContext.storageState() })).newPage();
  await plain.goto(`/c/${conversation}`);
  await expect(message(plain, 'are you there?').locator('.mark')).toHaveAttribute('data-receipt', 'seen');
});

test('in a group, my message says who has seen it', async ({ browser }) => {
  const { alice, bob, carol, b, c } = await threePeople(browser);
  const group = await apiConversation(alice, [b.id, c.id], 'Readers');
  await openChat(alice, group);
  await write(alice, 'read me');
  const tick = message(alice, 'read me').locator('.mark');
  const seenBy = message(alice, 'read me').getByTestId('seen-by');
  await expect(tick).toHaveAttribute('data-receipt', 'sent');

  await openChat(bob, group);
  await expect(seenBy).toContainText('Seen by 1');
  await expect(seenBy.locator('summary')).toHaveAttribute('title', b.username);
  await expect(tick).not.toHaveAttribute('data-receipt', 'seen');

  await openChat(carol, group);
  await expect(seenBy).toContainText('Seen by 2');
  await expect(tick).toHaveAttribute('data-receipt', 'seen');
  // A tap shows the names.
  await seenBy.locator('summary').click();
  await expect(seenBy).toContainText([b.username, c.username].sort().join(', '));
});
