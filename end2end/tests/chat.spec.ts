import { test, expect } from './fixtures';
import { aliceAndBob, apiConversation, apiSend, apiUser, hydrated, message, openChat, expectShown, shownTexts, threePeople, write } from './helpers';

test('two people chat both ways; each message appears live in the conversation and the inbox', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);

  await write(alice, 'Hi Bob!');
  await expect(message(bob, 'Hi Bob!')).toHaveCount(1);
  await expect(message(alice, 'Hi Bob!')).toHaveAttribute('data-status', 'sent');
  await write(bob, 'Hey Alice, good to see you');
  await expect(message(alice, 'Hey Alice, good to see you')).toHaveCount(1);

  // Both inboxes show the newest message as the preview, without a reload.
  await expect(alice.getByTestId('inbox-row').first()).toContainText('Hey Alice, good to see you');
  await expect(bob.getByTestId('inbox-row').first()).toContainText('You: Hey Alice, good to see you');
  await expectShown(alice, ['Hi Bob!', 'Hey Alice, good to see you']);
  await expectShown(bob, ['Hi Bob!', 'Hey Alice, good to see you']);
});

test("a conversation with new activity moves to the top of the other person's inbox", async ({ browser }) => {
  const { alice, bob, carol, b, c } = await threePeople(browser);
  const withBob = await apiConversation(alice, [b.id]);
  const withCarol = await apiConversation(alice, [c.id]);
  await apiSend(alice, withCarol, 'first to carol');
  await apiSend(alice, withBob, 'then to bob');
  await alice.goto('/');
  await hydrated(alice);
  await expect(alice.getByTestId('connection')).toHaveText('Connected');
  await expect(alice.getByTestId('inbox-row').first()).toHaveAttribute('data-conversation-id', withBob);

  await openChat(carol, withCarol);
  await write(carol, 'carol writes back');
  await expect(alice.getByTestId('inbox-row').first()).toHaveAttribute('data-conversation-id', withCarol);
  await expect(alice.getByTestId('inbox-row').first()).toContainText('carol writes back');
});

test("the sender's second tab gets the message, and a third person in a group sees everyone's", async ({ browser }) => {
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  const bob = await (await browser.newContext()).newPage();
  const carol = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const c = await apiUser(carol, 'carol');
  const group = await apiConversation(alice, [b.id, c.id], 'Weekend plans');
  const aliceTab2 = await aliceContext.newPage();
  for (const page of [alice, aliceTab2, bob, carol]) await openChat(page, group);
  await expect(alice.getByRole('heading', { name: 'Weekend plans' })).toBeVisible();

  await write(alice, 'from alice');
  await expect(message(aliceTab2, 'from alice')).toHaveCount(1);
  await write(bob, 'from bob');
  await write(carol, 'from carol');
  for (const page of [alice, aliceTab2, bob, carol]) {
    await expect(page.locator('[data-testid="message"]')).toHaveCount(3);
    await expectShown(page, ['from alice', 'from bob', 'from carol']);
  }
  // In a group, others' messages carry their sender's name.
  await expect(carol.locator('[data-testid="message"]', { hasText: 'from bob' }).locator('.sender')).toHaveText(b.username);
});

test('a message shows as pending at once, and sent offline it is delivered exactly once when back online', async ({ browser }) => {
  const { alice, bob, aliceContext, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);

  await aliceContext.setOffline(true);
  await expect(alice.getByTestId('connection')).toHaveText('Offline');
  await write(alice, 'written on the train');
  await expect(message(alice, 'written on the train')).toHaveAttribute('data-status', 'pending');
  await bob.waitForTimeout(500);
  await expect(message(bob, 'written on the train')).toHaveCount(0);

  await aliceContext.setOffline(false);
  await expect(alice.getByTestId('connection')).toHaveText('Connected');
  await expect(message(alice, 'written on the train')).toHaveAttribute('data-status', 'sent');
  await expect(message(bob, 'written on the train')).toHaveCount(1);
  const history = await (await bob.request.get(`/api/v1/chat/${conversation}`)).json();
  expect(history.messages.filter((m: { content: string }) => m.content === 'written on the train')).toHaveLength(1);
  await bob.reload();
  await expect(message(bob, 'written on the train')).toHaveCount(1);
});

test('a reload with an unacknowledged message in the outbox still delivers it exactly once', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  // The network eats every message.send until the reload.
  let dropSends = true;
  await alice.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((frame) => {
      if (dropSends && typeof frame === 'string' && frame.includes('"message.send"')) return;
      server.send(frame);
    });
    server.onMessage((frame) => ws.send(frame));
  });
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  await write(alice, 'survives a reload');
  await expect(message(alice, 'survives a reload')).toHaveAttribute('data-status', 'pending');
  await alice.waitForTimeout(300);
  await expect(message(bob, 'survives a reload')).toHaveCount(0);

  dropSends = false;
  await alice.reload();
  await hydrated(alice);
  await expect(message(alice, 'survives a reload')).toHaveAttribute('data-status', 'sent');
  await expect(message(bob, 'survives a reload')).toHaveCount(1);
  await alice.reload();
  await hydrated(alice);
  await expect(alice.getByTestId('connection')).toHaveText('Connected');
  await expect(message(alice, 'survives a reload')).toHaveCount(1);
  const history = await (await bob.request.get(`/api/v1/chat/${conversation}`)).json();
  expect(history.messages.filter((m: { content: string }) => m.content === 'survives a reload')).toHaveLength(1);
});

test('scrolling up loads older messages in order, none missing or repeated', async ({ browser }) => {
  const { bob, conversation } = await aliceAndBob(browser);
  // Bob's own messages, so none is unread and the page opens at the newest
  // (unread ones open at the "New messages" line: unread.spec.ts).
  const all = Array.from({ length: 75 }, (_, i) => `message number ${i + 1}`);
  for (const text of all) await apiSend(bob, conversation, text);

  await openChat(bob, conversation);
  const shown = await shownTexts(bob);
  expect(shown.length).toBeLessThan(75);
  expect(shown).toEqual(all.slice(75 - shown.length));
  const start = bob.getByText('This is the start of the conversation.');
  for (let i = 0; i < 20 && !(await start.isVisible()); i++) {
    await bob.getByTestId('messages').evaluate((el) => el.scrollTo({ top: -el.scrollHeight }));
    await bob.waitForTimeout(200);
  }
  await expect(start).toBeVisible();
  await expectShown(bob, all);
});

test('leaving a conversation while an older page is on its way breaks nothing', async ({ browser }) => {
  const { bob, conversation } = await aliceAndBob(browser);
  const all = Array.from({ length: 75 }, (_, i) => `older page number ${i + 1}`);
  for (const text of all) await apiSend(bob, conversation, text);
  // The older page is held back until Bob has left the conversation.
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  let asked = false;
  await bob.route(/\/api\/history/, async (route) => {
    asked = true;
    await held;
    await route.continue();
  });
  await openChat(bob, conversation);
  await bob.getByTestId('messages').evaluate((el) => el.scrollTo({ top: -el.scrollHeight }));
  await expect.poll(() => asked).toBe(true);
  await bob.getByRole('link', { name: 'New chat' }).click();
  await expect(bob).toHaveURL(/\/new$/);
  // Its answer, and the frame after it, come to a conversation that is gone
  // (a page error here fails the test through the fixture).
  const answered = bob.waitForResponse(/\/api\/history/);
  release();
  await answered;
  await bob.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await bob.unroute(/\/api\/history/);
  // And the page still works: back in the conversation, older pages load.
  await bob.goBack();
  await expect(bob).toHaveURL(new RegExp(`/c/${conversation}$`));
  await expect(message(bob, 'older page number 75')).toBeVisible();
  const start = bob.getByText('This is the start of the conversation.');
  for (let i = 0; i < 20 && !(await start.isVisible()); i++) {
    await bob.getByTestId('messages').evaluate((el) => el.scrollTo({ top: -el.scrollHeight }));
    await bob.waitForTimeout(200);
  }
  await expectShown(bob, all);
});

test('an unread badge appears for a new message and clears when the conversation is opened', async ({ browser }) => {
  const { alice, bob, bobContext, bobId, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await bob.goto('/');
  await hydrated(bob);
  await expect(bob.getByTestId('connection')).toHaveText('Connected');
  const bobTab2 = await bobContext.newPage();
  await bobTab2.goto('/');
  await hydrated(bobTab2);
  await expect(bobTab2.getByTestId('connection')).toHaveText('Connected');

  await write(alice, 'one');
  await write(alice, 'two');
  const row = bob.locator(`[data-conversation-id="${conversation}"]`);
  await expect(row.getByTestId('unread-badge')).toHaveText('2');
  await expect(bobTab2.locator(`[data-conversation-id="${conversation}"]`).getByTestId('unread-badge')).toHaveText('2');

  await row.click();
  await expect(bob).toHaveURL(new RegExp(`/c/${conversation}$`));
  await expect(row.getByTestId('unread-badge')).toHaveCount(0);
  // The other tab agrees (the server tells it), and so does a fresh load.
  await expect(bobTab2.locator(`[data-conversation-id="${conversation}"]`).getByTestId('unread-badge')).toHaveCount(0);
  const inbox = await (await bob.request.get(`/api/v1/chats/${bobId}`)).json();
  expect(inbox.chats[0].unread_count).toBe(0);
});

test('message text is shown as text, never as HTML', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold?</b>';
  await write(alice, payload);
  await expect(message(bob, payload)).toHaveCount(1);
  await expectShown(bob, [payload]);
  await bob.reload();
  await hydrated(bob);
  await expectShown(bob, [payload]);
  expect(await bob.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  await expect(bob.locator('.bubble b')).toHaveCount(0);
});

test('the server-rendered HTML of a conversation already holds its newest messages', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const b = await apiUser(await (await browser.newContext()).newPage(), 'bob');
  await apiUser(alice, 'alice');
  const conversation = await apiConversation(alice, [b.id]);
  for (let i = 1; i <= 30; i++) await apiSend(alice, conversation, `server rendered ${i} & <escaped>`);
  const response = await alice.request.get(`/c/${conversation}`, { headers: { accept: 'text/html' } });
  expect(response.status()).toBe(200);
  const html = await response.text();
  for (let i = 11; i <= 30; i++) expect(html).toContain(`server rendered ${i} &amp; &lt;escaped&gt;`);
  expect(html).not.toContain('<escaped>');
  expect(html).toContain('data-testid="inbox-row"');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the inbox and history are in the page and a message can be sent with the form', async ({ page, browser }) => {
    const bob = await (await browser.newContext()).newPage();
    await apiUser(page, 'nojs');
    const b = await apiUser(bob, 'bob');
    const conversation = await apiConversation(page, [b.id]);
    await apiSend(bob, conversation, 'hello from bob');

    await page.goto('/');
    await expect(page.getByTestId('inbox-row')).toHaveCount(1);
    await expect(page.getByTestId('inbox-row')).toContainText('hello from bob');
    await page.getByTestId('inbox-row').click();
    await expect(page).toHaveURL(new RegExp(`/c/${conversation}$`));
    await expectShown(page, ['hello from bob']);

    await page.getByRole('textbox', { name: 'Message' }).fill('hello from a page without scripts');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page).toHaveURL(new RegExp(`/c/${conversation}$`));
    await expectShown(page, ['hello from bob', 'hello from a page without scripts']);
    const history = await (await bob.request.get(`/api/v1/chat/${conversation}`)).json();
    expect(history.messages[0].content).toBe('hello from a page without scripts');
  });

  test('a conversation that is not yours is a 404 page', async ({ page, browser, pageErrors }) => {
    pageErrors.allowConsoleErrors(/status of 404/);
    const bob = await (await browser.newContext()).newPage();
    const carol = await (await browser.newContext()).newPage();
    await apiUser(page, 'nojs');
    await apiUser(bob, 'bob');
    const c = await apiUser(carol, 'carol');
    const theirs = await apiConversation(bob, [c.id]);
    const response = await page.goto(`/c/${theirs}`);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  });
});

test('the view follows new messages at the bottom, and while scrolled up it stays put and offers a pill', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser, { viewport: { width: 1000, height: 600 } });
  // Bob's own, so nothing is unread and his page opens at the bottom.
  for (let i = 1; i <= 40; i++) await apiSend(bob, conversation, `filler ${i}`);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  const list = bob.getByTestId('messages');
  const fromBottom = () => list.evaluate((el) => el.scrollHeight - el.clientHeight - (el.scrollHeight - el.clientHeight + el.scrollTop));

  // At the bottom: a new message comes into view.
  await write(alice, 'while at the bottom');
  await expect(message(bob, 'while at the bottom')).toBeInViewport();
  expect(Math.abs(await fromBottom())).toBeLessThan(5);

  // Scrolled up: what is on screen stays, and a pill says there is more.
  await list.evaluate((el) => el.scrollTo({ top: -400 }));
  await bob.waitForTimeout(100);
  const reading = message(bob, 'filler 30');
  const before = (await reading.boundingBox())!.y;
  await write(alice, 'while scrolled up');
  await expect(bob.getByRole('button', { name: 'New messages ↓' })).toBeVisible();
  await expect(message(bob, 'while scrolled up')).toHaveCount(1);
  expect(Math.abs((await reading.boundingBox())!.y - before)).toBeLessThan(3);
  await expect(message(bob, 'while scrolled up')).not.toBeInViewport();

  await bob.getByRole('button', { name: 'New messages ↓' }).click();
  await expect(message(bob, 'while scrolled up')).toBeInViewport();
  await expect(bob.getByRole('button', { name: 'New messages ↓' })).toHaveCount(0);
});
