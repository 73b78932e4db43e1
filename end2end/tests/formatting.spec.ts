import { Page, Locator } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { test, expect } from './fixtures';
import { aliceAndBob, apiSend, apiUser, apiConversation, openChat, write } from './helpers';

// How a message's text is shown (docs/protocol.md 5.4): links, a little
// formatting and mentions, built as elements from the plain text on the
// server and again in the browser, never read as HTML.

/** The message whose text contains `text`. */
function bubble(page: Page, text: string): Locator {
  return page.locator('[data-testid="message"]').filter({ hasText: text });
}

/** The text element's markup without Leptos's hydration markers (the
 * comments it places between dynamic children): what a reader's browser
 * built from it. */
async function shownMarkup(text: Locator): Promise<string> {
  return text.evaluate((el) => el.innerHTML.replace(/<!--[^]*?-->/g, ''));
}

const FORMATTED = [
  'Read *this* and _that_, then run `cargo test`.',
  'Docs: https://docs.example.test/guide?a=1&b=2. Also (https://en.wikipedia.org/wiki/Rust_(programming_language)).',
  'Not touched: 2*3*4, snake_case_name, *unclosed',
  '```',
  'fn main() {',
  '    println!("*not bold* https://not.a.link.test");',
  '}',
  '```',
  'after the block',
].join('\n');

const HOSTILE = [
  '<img src=x onerror=alert(1)> <script>alert(2)</script>',
  'javascript:alert(3) [x](javascript:alert(4))',
  'http://a.test"onmouseover=alert(5) <b>bold?</b>',
].join('\n');

test('links, bold, italic, code and a code block render as elements, the same on the server page and after hydration', async ({ browser }) => {
  const { alice, bob, bobContext, conversation } = await aliceAndBob(browser);
  await apiSend(alice, conversation, FORMATTED);
  await openChat(bob, conversation);

  const check = async (page: Page) => {
    const text = bubble(page, 'Read this and that').locator('.text');
    await expect(text.locator('strong')).toHaveText('this');
    await expect(text.locator('em')).toHaveText('that');
    await expect(text.locator(':scope > code')).toHaveText(['cargo test']);
    // Two links, the sentence's punctuation left out, a bracket of the URL's kept.
    const links = text.locator('a');
    await expect(links).toHaveText([
      'https://docs.example.test/guide?a=1&b=2',
      'https://en.wikipedia.org/wiki/Rust_(programming_language)',
    ]);
    for (const link of await links.all()) {
      await expect(link).toHaveAttribute('href', (await link.textContent())!);
      await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
      await expect(link).toHaveAttribute('target', '_blank');
    }
    // The block is shown as typed: nothing formatted or linked in it.
    await expect(text.locator('pre code')).toHaveText('fn main() {\n    println!("*not bold* https://not.a.link.test");\n}');
    await expect(text.locator('pre strong, pre a')).toHaveCount(0);
    // Markers inside words, and an unclosed one, are text.
    await expect(text).toContainText('Not touched: 2*3*4, snake_case_name, *unclosed');
    await expect(text).toContainText('after the block');
    return shownMarkup(text);
  };
  const hydrated = await check(bob);

  // Without JavaScript: the server's page alone, the same elements.
  const plain = await (await browser.newContext({ javaScriptEnabled: false, storageState: await bobContext.storageState() })).newPage();
  await plain.goto(`/c/${conversation}`);
  expect(await check(plain)).toBe(hydrated);

  // Sent from the composer (the page's own pending copy, then the ack) and
  // received live: the same rendering on both sides.
  await openChat(alice, conversation);
  await write(alice, 'live: *bold* and `code` at https://live.example.test');
  for (const page of [alice, bob]) {
    const text = bubble(page, 'live: bold and code').locator('.text');
    await expect(text.locator('strong')).toHaveText('bold');
    await expect(text.locator('code')).toHaveText('code');
    await expect(text.locator('a')).toHaveAttribute('href', 'https://live.example.test');
  }
  await expect(bubble(alice, 'live: bold and code')).toHaveAttribute('data-status', 'sent');

  // The inbox's preview stays plain text.
  await expect(bob.getByTestId('inbox-row').first()).toContainText('live: *bold* and `code` at https://live.example.test');
});

test('a link opens in a new tab that cannot reach back to the page', async ({ browser }) => {
  const { alice, bob, bobContext, conversation } = await aliceAndBob(browser);
  await apiSend(alice, conversation, 'have a look at https://docs.example.test/page');
  // Nothing leaves the machine: the linked site is answered here.
  await bobContext.route('https://docs.example.test/**', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<title>docs</title><p>docs</p>' }),
  );
  await openChat(bob, conversation);
  const [tab] = await Promise.all([
    bob.waitForEvent('popup'),
    bubble(bob, 'have a look').getByRole('link', { name: 'https://docs.example.test/page' }).click(),
  ]);
  await tab.waitForLoadState();
  expect(tab.url()).toBe('https://docs.example.test/page');
  expect(await tab.evaluate(() => window.opener)).toBeNull();
  expect(await tab.evaluate(() => document.referrer)).toBe('');
  // The conversation stays where it was.
  expect(new URL(bob.url()).pathname).toBe(`/c/${conversation}`);
});

test('HTML and script URLs in a message are shown as text and run nothing, with JavaScript on or off', async ({ browser }) => {
  const { alice, bob, bobContext, conversation } = await aliceAndBob(browser);
  const dialogs: string[] = [];
  bobContext.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await apiSend(alice, conversation, HOSTILE);
  await openChat(bob, conversation);
  // And live, through the socket, too.
  await openChat(alice, conversation);
  await write(alice, 'live <img src=x onerror=alert(6)> javascript:alert(7)');

  for (const marker of ['<img src=x onerror=alert(1)>', 'live <img src=x']) {
    const message = bubble(bob, marker);
    await expect(message).toHaveCount(1);
    await expect(message.locator('img, script, b, [onerror], [onmouseover]')).toHaveCount(0);
  }
  const text = bubble(bob, '<img src=x onerror=alert(1)>').locator('.text');
  await expect(text).toHaveText(HOSTILE);
  // The one link is the http one, cut at the quote; the script URLs are text.
  await expect(text.locator('a')).toHaveCount(1);
  await expect(text.locator('a')).toHaveAttribute('href', 'http://a.test');
  await text.locator('a').hover();
  await expect(bubble(bob, 'live <img src=x').locator('.text a')).toHaveCount(0);

  const plain = await (await browser.newContext({ javaScriptEnabled: false, storageState: await bobContext.storageState() })).newPage();
  await plain.goto(`/c/${conversation}`);
  await expect(bubble(plain, '<img src=x onerror=alert(1)>').locator('.text')).toHaveText(HOSTILE);
  await expect(plain.locator('.text img, .text script, .text b')).toHaveCount(0);
  expect(await plain.locator('.text a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toEqual(['http://a.test']);
  // Whatever was to run has had its chance.
  await bob.waitForTimeout(300);
  expect(dialogs).toEqual([]);
});

test("a mention of the reader is highlighted for them, and only for them", async ({ browser }) => {
  const alicePage = await (await browser.newContext()).newPage();
  const bobPage = await (await browser.newContext()).newPage();
  const a = await apiUser(alicePage, 'alice');
  const b = await apiUser(bobPage, 'bob');
  const conversation = await apiConversation(alicePage, [b.id]);
  await apiSend(alicePage, conversation, `@${b.username} can you check this? cc @${a.username}`);
  await apiSend(alicePage, conversation, 'and nobody is mentioned here');
  await openChat(bobPage, conversation);

  const mentioned = bubble(bobPage, 'can you check this?');
  await expect(mentioned.locator('.mention')).toHaveText([`@${b.username}`, `@${a.username}`]);
  await expect(mentioned.locator('.mention.to-me')).toHaveText(`@${b.username}`);
  await expect(mentioned.locator('.bubble')).toHaveClass(/\bmentions-me\b/);
  await expect(bubble(bobPage, 'nobody is mentioned').locator('.bubble')).not.toHaveClass(/\bmentions-me\b/);

  // The writer sees the same mentions, neither of them lit up for her:
  // the one of her is in her own message.
  await openChat(alicePage, conversation);
  const sent = bubble(alicePage, 'can you check this?');
  await expect(sent.locator('.mention')).toHaveCount(2);
  await expect(sent.locator('.mention.to-me')).toHaveText(`@${a.username}`);
  await expect(sent.locator('.bubble')).not.toHaveClass(/\bmentions-me\b/);

  // Bob's reply mentions Alice: it lights up for her, live.
  await write(bobPage, `on it @${a.username}`);
  await expect(bubble(alicePage, 'on it').locator('.bubble')).toHaveClass(/\bmentions-me\b/);
});

// The pictures people look at after a change: everything above in one
// conversation, at both widths, light and dark (NATTER_SHOTS=<folder>, or
// the test's output folder), and an accessibility scan of the texts.
test('formatted messages at wide and phone widths', async ({ browser }, testInfo) => {
  const folder = process.env.NATTER_SHOTS ?? testInfo.outputPath('shots');
  const alicePage = await (await browser.newContext()).newPage();
  const a = await apiUser(alicePage, 'alice');
  for (const scheme of ['light', 'dark'] as const) {
    const bobContext = await browser.newContext({ colorScheme: scheme });
    const bobPage = await bobContext.newPage();
    const b = await apiUser(bobPage, 'bob');
    const conversation = await apiConversation(alicePage, [b.id]);
    await apiSend(alicePage, conversation, FORMATTED);
    await apiSend(bobPage, conversation, 'Mine: *bold*, _italic_, `code`, and a link https://example.test/a/rather/long/path/that/goes/on/and/on/and/on.');
    await apiSend(bobPage, conversation, '```\nconst line = "a code block with a line far too long to fit on a phone or even in a wide bubble on a desktop screen, which scrolls sideways instead of wrapping";\n```');
    await apiSend(alicePage, conversation, `Hey @${b.username}, can you look at https://example.test/issue/16 today?`);
    await apiSend(alicePage, conversation, HOSTILE);
    await openChat(bobPage, conversation);
    for (const [name, size] of [['wide', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
      await bobPage.setViewportSize(size);
      const suffix = scheme === 'light' ? '' : '-dark';
      await bobPage.screenshot({ path: `${folder}/format-${name}${suffix}.png` });
      // A wide code block scrolls inside its bubble; the page does not.
      const pre = bubble(bobPage, 'const line').locator('pre');
      expect(await pre.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
      const bubbleBox = (await bubble(bobPage, 'const line').locator('.bubble').boundingBox())!;
      expect(bubbleBox.x + bubbleBox.width).toBeLessThanOrEqual(size.width);
      expect(await bobPage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
      // Links, code and mentions readable on every bubble (contrast, links
      // told apart from text, a scrolling block reachable by keyboard).
      const scan = await new AxeBuilder({ page: bobPage }).include('[data-testid="message"] .text').analyze();
      expect(scan.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    }
    await bobContext.close();
  }
});
