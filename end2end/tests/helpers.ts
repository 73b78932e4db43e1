import { expect, Page, Browser, BrowserContext, BrowserContextOptions } from '@playwright/test';
import { deflateSync } from 'node:zlib';

/** A username nobody has taken yet: 3–32 of [a-z0-9_]. */
export function uniqueName(prefix: string): string {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  return `${prefix}_${suffix}`.slice(0, 32);
}

export const PASSWORD = 'correct horse battery';

/** Signs up through the page and waits for the inbox. */
export async function signUp(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('me-name')).toHaveText(username);
}

export async function logIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('me-name')).toHaveText(username);
}

/** A new browser context (its own cookies) with a new signed-up user. */
export async function newUser(
  browser: Browser,
  prefix: string,
): Promise<{ context: BrowserContext; page: Page; username: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const username = uniqueName(prefix);
  await signUp(page, username);
  return { context, page, username };
}

/** Waits until the page is hydrated (the WebAssembly bundle has run). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

/** Opens a conversation and waits until it is live. */
export async function openChat(page: Page, conversationId: string): Promise<void> {
  await page.goto(`/c/${conversationId}`);
  await hydrated(page);
  await expect(page.getByTestId('connection')).toHaveText('Connected');
}

/** The message whose text is exactly `text`. */
export function message(page: Page, text: string) {
  return page.locator('[data-testid="message"]', { has: page.getByText(text, { exact: true }) });
}

/** Signs a new user up through the API in this page's context (its cookie). */
export async function apiUser(page: Page, prefix: string): Promise<{ id: string; username: string }> {
  const username = uniqueName(prefix);
  const response = await page.request.post('/api/v1/auth/register', {
    data: { username, password: PASSWORD },
  });
  expect(response.status()).toBe(201);
  const body = await response.json();
  return { id: body.user_id, username };
}

/** Starts a conversation as the page's user; returns its id. */
export async function apiConversation(page: Page, others: string[], title?: string): Promise<string> {
  const response = await page.request.post('/api/v1/conversations', {
    data: { participants: others, title },
  });
  expect(response.ok()).toBeTruthy();
  return (await response.json()).conversation_id;
}

/** Sends a message as the page's user through the form endpoint. */
export async function apiSend(page: Page, conversationId: string, content: string): Promise<void> {
  const id = `msg_${Date.now().toString(16)}${Math.random().toString(16).slice(2, 12)}`;
  const response = await page.request.post('/api/send', {
    form: { conversation_id: conversationId, message_id: id, content },
    maxRedirects: 0,
  });
  expect(response.status()).toBeLessThan(400);
}

/** The texts of the messages shown now, in order. */
export async function shownTexts(page: Page): Promise<string[]> {
  return page.locator('[data-testid="message"] .text').allTextContents();
}

/** Waits until the messages shown are exactly `texts`, in order (a page
 * that is still loading gets the time to finish). */
export async function expectShown(page: Page, texts: string[]): Promise<void> {
  await expect(page.locator('[data-testid="message"] .text')).toHaveText(texts);
}

/** Writes in the composer and presses Enter. */
export async function write(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

/** Alice, Bob and Carol, each signed up through the API in a browser
 * context of their own (no conversation yet); Bob's and Carol's ids and
 * names. */
export async function threePeople(browser: Browser): Promise<{
  alice: Page;
  bob: Page;
  carol: Page;
  b: { id: string; username: string };
  c: { id: string; username: string };
}> {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  const carol = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const c = await apiUser(carol, 'carol');
  return { alice, bob, carol, b, c };
}

/** Alice and Bob, each signed up in a browser context of their own, and a
 * direct chat between them (made by Alice). */
export async function aliceAndBob(
  browser: Browser,
  bobOptions: BrowserContextOptions = {},
): Promise<{
  alice: Page;
  bob: Page;
  aliceContext: BrowserContext;
  bobContext: BrowserContext;
  bobId: string;
  conversation: string;
}> {
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  const bobContext = await browser.newContext(bobOptions);
  const bob = await bobContext.newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  const conversation = await apiConversation(alice, [b.id]);
  return { alice, bob, aliceContext, bobContext, bobId: b.id, conversation };
}

/** A real PNG picture of `width` × `height` (a gradient), made here. */
export function pngImage(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows[row + 1 + x * 3] = Math.round((255 * x) / width);
      rows[row + 2 + x * 3] = Math.round((255 * y) / height);
      rows[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small PDF document. */
export function pdfFile(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n' +
      '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
      '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n' +
      'trailer<</Root 1 0 R>>\n%%EOF\n',
  );
}

/** The messages that carry a picture, or a file card. */
export function withImage(page: Page) {
  return page.locator('[data-testid="message"]', { has: page.getByTestId('attachment-image') });
}
export function withFile(page: Page, name: string) {
  return page.locator('[data-testid="message"]', { has: page.getByTestId('attachment-file').filter({ hasText: name }) });
}
