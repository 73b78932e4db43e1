import { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { aliceAndBob, apiSend, hydrated, shownTexts } from './helpers';
import { mkdirSync } from 'node:fs';

// Finding an old message: the sidebar's search box, the results with the
// matched words marked, and a result opening its conversation at the
// message, far back in history, with newer pages below it and a way back
// to the latest.

/** A word no other test writes. */
function rareWord(): string {
  return `zebra${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}

/** Alice and Bob's chat: an early message holding `word`, then 120 more. */
async function farBack(browser: Parameters<typeof aliceAndBob>[0]) {
  const people = await aliceAndBob(browser);
  const word = rareWord();
  await apiSend(people.bob, people.conversation, 'hello from the start');
  await apiSend(people.bob, people.conversation, `the ${word} link is https://example.com`);
  for (let n = 1; n <= 120; n++) {
    await apiSend(n % 2 ? people.alice : people.bob, people.conversation, `later message ${n}`);
  }
  return { ...people, word };
}

async function search(page: Page, words: string) {
  const box = page.getByRole('searchbox', { name: 'Search messages' });
  await box.fill(words);
  await box.press('Enter');
  await expect(page).toHaveURL(/\/search\?q=/);
}

test('a result opens its conversation at the message, marked and in view, and newer pages load below', async ({ browser }) => {
  const { alice, bob, conversation, word } = await farBack(browser);
  await alice.goto('/');
  await hydrated(alice);
  await search(alice, word);
  const hit = alice.getByTestId('search-hit');
  await expect(hit).toHaveCount(1);
  await expect(hit.locator('mark')).toHaveText(word);
  await expect(hit).toContainText(`the ${word} link is`);
  await expect(alice.getByRole('heading', { name: `Results for “${word}”` })).toBeVisible();

  await hit.click();
  await expect(alice).toHaveURL(new RegExp(`/c/${conversation}\\?m=msg_`));
  const target = alice.locator('[data-testid="message"].jumped');
  await expect(target).toHaveCount(1);
  await expect(target).toContainText(word);
  await expect(target).toBeInViewport();
  // Far back: the newest is not loaded, and the way to it is offered.
  await expect(alice.getByTestId('messages').getByText('later message 120', { exact: true })).toHaveCount(0);
  await expect(alice.getByTestId('jump-latest')).toBeVisible();

  // Scrolling down loads the newer pages until the newest, in order.
  const messages = alice.getByTestId('messages');
  await expect
    .poll(async () => {
      await messages.evaluate((el) => el.scrollTo({ top: 0 }));
      return alice.getByTestId('messages').getByText('later message 120', { exact: true }).count();
    })
    .toBe(1);
  const texts = await shownTexts(alice);
  const later = texts.filter((t) => t.startsWith('later message'));
  expect(later).toEqual(Array.from({ length: 120 }, (_, i) => `later message ${i + 1}`));
  await expect(alice.getByTestId('jump-latest')).toHaveCount(0);
  // At the newest, live messages arrive again.
  await apiSend(bob, conversation, 'live again');
  await expect(alice.getByTestId('messages').getByText('live again', { exact: true })).toBeVisible();
});

test('"Jump to latest" opens the conversation at its newest message', async ({ browser }) => {
  const { alice, conversation, word } = await farBack(browser);
  await alice.goto(`/search?q=${word}`);
  await hydrated(alice);
  await alice.getByTestId('search-hit').click();
  await expect(alice.locator('[data-testid="message"].jumped')).toBeInViewport();
  await alice.getByTestId('jump-latest').click();
  await expect(alice).toHaveURL(new RegExp(`/c/${conversation}\\?latest$`));
  await expect(alice.getByTestId('messages').getByText('later message 120', { exact: true })).toBeInViewport();
  await expect(alice.locator('[data-testid="message"].jumped')).toHaveCount(0);
  await expect(alice.getByTestId('jump-latest')).toHaveCount(0);
});

test('without JavaScript the search form, the results and the result\'s page all work', async ({ browser }) => {
  const { aliceContext, conversation, word } = await farBack(browser);
  const plain = await (
    await browser.newContext({ javaScriptEnabled: false, storageState: await aliceContext.storageState() })
  ).newPage();
  await plain.goto('/');
  await search(plain, word);
  const hit = plain.getByTestId('search-hit');
  await expect(hit.locator('mark')).toHaveText(word);
  await hit.click();
  await expect(plain).toHaveURL(new RegExp(`/c/${conversation}\\?m=msg_`));
  await expect(plain.locator('[data-testid="message"].jumped')).toContainText(word);
  await expect(plain.locator('[data-testid="message"].jumped')).toBeInViewport();
  await expect(plain.getByTestId('jump-latest')).toHaveAttribute('href', `/c/${conversation}?latest`);
  // Nothing found, and a search the server refuses, each say so.
  await search(plain, `${word}nothing`);
  await expect(plain.getByTestId('search-empty')).toContainText('No messages match');
  await search(plain, 'from:nobody');
  await expect(plain.getByTestId('search-error')).toHaveText('search for at least one word');
});

test('results come as one types, the address follows without a history entry per key, and the keyboard walks them', async ({ browser }) => {
  const { alice, conversation, word } = await farBack(browser);
  await apiSend(alice, conversation, `second ${word} mention`);
  await alice.goto(`/c/${conversation}`);
  await hydrated(alice);
  const box = alice.getByRole('searchbox', { name: 'Search messages' });
  await box.click();
  // Typed key by key, the last word a prefix of the word: found without Enter.
  await box.pressSequentially(word.slice(0, -2), { delay: 40 });
  await expect(alice).toHaveURL(new RegExp(`/search\\?q=${word.slice(0, -2)}$`));
  await expect(alice.getByTestId('search-hit')).toHaveCount(2);
  await expect(box).toBeFocused();
  await box.pressSequentially(word.slice(-2), { delay: 40 });
  await expect(alice).toHaveURL(new RegExp(`/search\\?q=${word}$`));
  await expect(alice.getByTestId('search-hit')).toHaveCount(2);
  await box.pressSequentially(' nothingsuch', { delay: 40 });
  await expect(alice.getByTestId('search-empty')).toBeVisible();
  await expect(box).toBeFocused();
  for (let n = 0; n < ' nothingsuch'.length; n++) await box.press('Backspace');
  // The search for the word itself, not one a slow key let start on the
  // way back ("word " finds the same two, and its list is then replaced).
  await expect(alice).toHaveURL(new RegExp(`/search\\?q=${word}$`));
  await expect(alice.getByTestId('search-hit')).toHaveCount(2);
  // The keyboard: down into the results, down again, up twice back to the box.
  await box.press('ArrowDown');
  await expect(alice.getByTestId('search-hit').first()).toBeFocused();
  await alice.keyboard.press('ArrowDown');
  await expect(alice.getByTestId('search-hit').last()).toBeFocused();
  await alice.keyboard.press('ArrowUp');
  await alice.keyboard.press('ArrowUp');
  await expect(box).toBeFocused();
  // One history entry for the whole search: Back returns to the conversation.
  await alice.goBack();
  await expect(alice).toHaveURL(new RegExp(`/c/${conversation}$`));
  await expect(alice.getByTestId('messages')).toBeVisible();
  // The same search again (the entry Back left): the address follows.
  await box.fill('');
  await box.pressSequentially(word, { delay: 20 });
  await expect(alice).toHaveURL(new RegExp(`/search\\?q=${word}$`));
  await expect(alice.getByTestId('search-hit')).toHaveCount(2);
  // Escape closes the results.
  await box.press('Escape');
  await expect(alice).toHaveURL(/\/$/);
});

test('on a phone the box stays above the results while one types, and a result opens full screen', async ({ browser }) => {
  const { alice, word } = await farBack(browser);
  await alice.setViewportSize({ width: 390, height: 844 });
  await alice.goto('/');
  await hydrated(alice);
  const box = alice.getByRole('searchbox', { name: 'Search messages' });
  await box.click();
  await box.pressSequentially(word, { delay: 30 });
  await expect(alice.getByTestId('search-hit')).toHaveCount(1);
  await expect(box).toBeVisible();
  await expect(box).toBeFocused();
  await expect(alice.getByTestId('search-hit')).toBeInViewport();
  // The inbox is out of the way while searching.
  await expect(alice.getByTestId('inbox-row').first()).toBeHidden();
  await alice.getByTestId('search-hit').click();
  await expect(alice.locator('[data-testid="message"].jumped')).toBeInViewport();
  await expect(box).toBeHidden();
});

test('screenshots: search results and a result opened, wide and phone', async ({ browser }) => {
  const folder = process.env.NATTER_SHOTS ?? '/tmp/shots';
  mkdirSync(folder, { recursive: true });
  const { alice, bob, conversation, word } = await farBack(browser);
  await apiSend(bob, conversation, `another ${word} here, later on`);
  for (const [name, size] of [
    ['wide', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    await alice.setViewportSize(size);
    await alice.goto(`/search?q=${word}`);
    await hydrated(alice);
    await expect(alice.getByTestId('search-hit')).toHaveCount(2);
    await alice.screenshot({ path: `${folder}/search-results-${name}.png` });
    await alice.getByTestId('search-hit').last().click();
    await expect(alice.locator('[data-testid="message"].jumped')).toBeInViewport();
    await alice.screenshot({ path: `${folder}/search-jumped-${name}.png` });
  }
});
