import { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { aliceAndBob, apiSend, openChat, write } from './helpers';

/** The message whose own text (not a quote of it) is exactly `text`. */
function message(page: Page, text: string) {
  const escaped = text.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
  const exact = new RegExp('^' + escaped + '$');
  return page.locator('[data-testid="message"]').filter({ has: page.locator('p.text', { hasText: exact }) });
}

/** Opens the "⋯" menu of the message whose text is `text`. */
async function menu(page: Page, text: string) {
  const row = message(page, text);
  await row.hover();
  await row.getByTestId('message-actions').locator('summary').click();
  return row.getByTestId('message-actions');
}

/** The chip of `emoji` under the message `text`. */
function chip(page: Page, text: string, emoji: string) {
  return message(page, text).locator(`[data-testid="reaction"][data-emoji="${emoji}"]`);
}

test('Bob replies to Alice, and Alice clicks the quote and lands on her message', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await apiSend(alice, conversation, 'where shall we meet?');
  for (let n = 1; n <= 30; n++) await apiSend(alice, conversation, `filler ${n}`);
  await openChat(alice, conversation);
  await openChat(bob, conversation);

  await (await menu(bob, 'where shall we meet?')).getByTestId('reply').click();
  await expect(bob.getByTestId('draft-bar')).toContainText('Replying to');
  await expect(bob.getByTestId('draft-bar')).toContainText('where shall we meet?');
  await write(bob, 'at the station');
  await expect(bob.getByTestId('draft-bar')).toHaveCount(0);

  const reply = message(alice, 'at the station');
  await expect(reply.getByTestId('quote')).toContainText('where shall we meet?');
  const original = message(alice, 'where shall we meet?');
  await expect(original).not.toBeInViewport();
  await reply.getByTestId('quote').click();
  await expect(original).toBeInViewport();
  await expect(original).toHaveClass(/\bflash\b/);
});

test('a reaction toggles, and the other side sees the count change', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  await write(bob, 'pizza tonight?');
  await expect(message(alice, 'pizza tonight?')).toBeVisible();

  await (await menu(alice, 'pizza tonight?')).getByRole('button', { name: 'React 👍' }).click();
  for (const page of [alice, bob]) {
    await expect(chip(page, 'pizza tonight?', '👍')).toHaveAttribute('data-count', '1');
  }
  await expect(chip(alice, 'pizza tonight?', '👍').locator('.chip')).toHaveAttribute('aria-pressed', 'true');
  await expect(chip(bob, 'pizza tonight?', '👍').locator('.chip')).toHaveAttribute('aria-pressed', 'false');

  await chip(bob, 'pizza tonight?', '👍').locator('.chip').click();
  for (const page of [alice, bob]) {
    await expect(chip(page, 'pizza tonight?', '👍')).toHaveAttribute('data-count', '2');
  }
  await chip(alice, 'pizza tonight?', '👍').locator('.chip').click();
  for (const page of [alice, bob]) {
    await expect(chip(page, 'pizza tonight?', '👍')).toHaveAttribute('data-count', '1');
  }
  await expect(chip(alice, 'pizza tonight?', '👍').locator('.chip')).toHaveAttribute('aria-pressed', 'false');

  // A long press (a right click here) opens the same picker.
  await message(bob, 'pizza tonight?').locator('.bubble').click({ button: 'right' });
  await message(bob, 'pizza tonight?').getByRole('button', { name: 'React 🔥' }).click();
  await expect(chip(alice, 'pizza tonight?', '🔥')).toHaveAttribute('data-count', '1');
});

test('an edit and a delete show on the other side without a reload', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  await write(alice, 'see you at 8');
  await write(alice, 'oops, wrong chat');
  await expect(message(bob, 'oops, wrong chat')).toBeVisible();

  await (await menu(alice, 'see you at 8')).getByTestId('edit').click();
  await expect(alice.getByTestId('draft-bar')).toContainText('Editing message');
  const box = alice.getByRole('textbox', { name: 'Message' });
  await expect(box).toHaveValue('see you at 8');
  await box.fill('see you at 9');
  await box.press('Enter');
  await expect(message(bob, 'see you at 9').getByTestId('edited')).toBeVisible();
  await expect(message(alice, 'see you at 9').getByTestId('edited')).toBeVisible();

  alice.once('dialog', (dialog) => dialog.accept());
  await (await menu(alice, 'oops, wrong chat')).getByTestId('delete').click();
  for (const page of [alice, bob]) {
    await expect(message(page, 'This message was deleted')).toHaveAttribute('data-deleted', 'true');
    await expect(page.getByText('oops, wrong chat')).toHaveCount(0);
  }
  // Bob's inbox row says so too (it was the newest message).
  await expect(bob.locator(`[data-conversation-id="${conversation}"]`)).toContainText('This message was deleted');
});

test('Bob goes offline; Alice edits, deletes and reacts; Bob comes back and sees all three', async ({ browser }) => {
  const { alice, bob, bobContext, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  await write(alice, 'first draft');
  await write(alice, 'regrettable');
  await write(bob, 'nice one');
  await expect(message(alice, 'nice one')).toBeVisible();
  await expect(message(bob, 'regrettable')).toBeVisible();

  await bobContext.setOffline(true);
  await expect(bob.getByTestId('connection')).not.toHaveText('Connected');
  await (await menu(alice, 'first draft')).getByTestId('edit').click();
  const box = alice.getByRole('textbox', { name: 'Message' });
  await box.fill('final draft');
  await box.press('Enter');
  await expect(message(alice, 'final draft')).toBeVisible();
  alice.once('dialog', (dialog) => dialog.accept());
  await (await menu(alice, 'regrettable')).getByTestId('delete').click();
  await expect(message(alice, 'This message was deleted')).toBeVisible();
  await (await menu(alice, 'nice one')).getByRole('button', { name: 'React 🎉' }).click();
  await expect(chip(alice, 'nice one', '🎉')).toHaveAttribute('data-count', '1');
  // Nothing reached Bob meanwhile.
  await expect(message(bob, 'first draft')).toBeVisible();

  await bobContext.setOffline(false);
  await expect(bob.getByTestId('connection')).toHaveText('Connected');
  await expect(message(bob, 'final draft').getByTestId('edited')).toBeVisible();
  await expect(message(bob, 'This message was deleted')).toBeVisible();
  await expect(bob.getByText('regrettable')).toHaveCount(0);
  await expect(chip(bob, 'nice one', '🎉')).toHaveAttribute('data-count', '1');
});

test('without JavaScript, a reply and a delete work through plain forms', async ({ browser }) => {
  const { alice, aliceContext, bob, conversation } = await aliceAndBob(browser);
  await apiSend(bob, conversation, 'plain old html?');
  await apiSend(alice, conversation, 'a typo here');
  const plain = await (await browser.newContext({ javaScriptEnabled: false, storageState: await aliceContext.storageState() })).newPage();
  await plain.goto(`/c/${conversation}`);

  await message(plain, 'plain old html?').getByTestId('message-actions').locator('summary').click();
  await message(plain, 'plain old html?').getByTestId('reply').click();
  await expect(plain.getByTestId('draft-bar')).toContainText('plain old html?');
  await plain.getByRole('textbox', { name: 'Message' }).fill('yes, plain forms');
  await plain.getByRole('button', { name: 'Send' }).click();
  await expect(message(plain, 'yes, plain forms').getByTestId('quote')).toContainText('plain old html?');

  await message(plain, 'a typo here').getByTestId('message-actions').locator('summary').click();
  await message(plain, 'a typo here').getByTestId('delete').click();
  await expect(message(plain, 'This message was deleted')).toBeVisible();
  await expect(plain.getByText('a typo here')).toHaveCount(0);

  // A reaction through the form, shown on the page that comes back.
  await message(plain, 'plain old html?').getByTestId('message-actions').locator('summary').click();
  await message(plain, 'plain old html?').getByRole('button', { name: 'React ❤️' }).click();
  await expect(chip(plain, 'plain old html?', '❤️')).toHaveAttribute('data-count', '1');
  await openChat(bob, conversation);
  await expect(chip(bob, 'plain old html?', '❤️')).toHaveAttribute('data-count', '1');
});
