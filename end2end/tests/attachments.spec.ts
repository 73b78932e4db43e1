import { Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { test, expect } from './fixtures';
import { aliceAndBob, message, openChat, pdfFile, pngImage, withFile, withImage, write } from './helpers';

/** A 640 × 400 picture: shown at 320 × 200, its thumbnail 400 × 250. */
const PHOTO = { name: 'holiday.png', mimeType: 'image/png', buffer: pngImage(640, 400) };

/** Holds every upload of `page` back for `ms` first, so its progress
 * shows (and a message written meanwhile has to wait for it). */
async function slowUploads(page: Page, ms: number, names = /./): Promise<void> {
  await page.route((url) => /\/api\/v1\/chat\/[^/]+\/attachments/.test(url.pathname) && names.test(url.search), async (route) => {
    await new Promise((done) => setTimeout(done, ms));
    // Broken off meanwhile (✕): nothing left to pass on.
    await route.continue().catch(() => {});
  });
}

function attach(page: Page) {
  return page.getByTestId('attach-input');
}

function chip(page: Page, name: string) {
  return page.getByTestId('upload').filter({ hasText: name });
}

async function loaded(img: ReturnType<Page['locator']>): Promise<void> {
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => (i.complete ? i.naturalWidth : 0))).toBeGreaterThan(0);
}

test('a picture attached with the paperclip shows its progress, goes with the text, and opens full size on the other side', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  await slowUploads(alice, 1500);
  // Bob's thumbnails come late: their place is kept all the same.
  await bob.route(/\/thumb$/, async (route) => {
    await new Promise((done) => setTimeout(done, 1500));
    await route.continue();
  });

  await attach(alice).setInputFiles(PHOTO);
  await expect(chip(alice, 'holiday.png')).toHaveAttribute('data-state', 'sending');
  await expect(chip(alice, 'holiday.png').getByTestId('upload-progress')).toBeVisible();
  await expect(chip(alice, 'holiday.png')).toHaveAttribute('data-state', 'done');
  await write(alice, 'the view from the hotel');
  await expect(alice.getByTestId('upload')).toHaveCount(0);

  const sent = message(bob, 'the view from the hotel');
  const img = sent.getByTestId('attachment-image').locator('img');
  await expect(img).toHaveCount(1);
  // Its box is there before the thumbnail is: nothing moves when it comes.
  expect(await img.evaluate((i: HTMLImageElement) => i.complete)).toBe(false);
  const before = await img.boundingBox();
  expect(before?.width).toBeCloseTo(320, 0);
  expect(before?.height).toBeCloseTo(200, 0);
  await loaded(img);
  expect(await img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(400);
  expect(await img.boundingBox()).toEqual(before);
  await expect(message(alice, 'the view from the hotel')).toHaveAttribute('data-status', 'sent');
  await expect(message(alice, 'the view from the hotel').getByTestId('attachment-image')).toHaveCount(1);

  // The viewer: the whole picture, its name, a download; Escape, a click
  // beside it, or ✕ closes it.
  const viewer = bob.getByTestId('viewer');
  await sent.getByTestId('attachment-image').click();
  await expect(viewer).toBeVisible();
  await loaded(bob.getByTestId('viewer-image'));
  expect(await bob.getByTestId('viewer-image').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(640);
  await expect(viewer).toContainText('holiday.png');
  const download = viewer.getByRole('link', { name: 'Download' });
  await expect(download).toHaveAttribute('download', 'holiday.png');
  await bob.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
  await sent.getByTestId('attachment-image').click();
  await expect(viewer).toBeVisible();
  await viewer.click({ position: { x: 8, y: 8 } });
  await expect(viewer).toBeHidden();
  await sent.getByTestId('attachment-image').click();
  await viewer.getByRole('button', { name: 'Close' }).click();
  await expect(viewer).toBeHidden();
});

test('a picture dropped on the conversation, or pasted in the box, goes alone, and the inbox says "📷 Photo"', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);

  const files = await alice.evaluateHandle((base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    return data;
  }, PHOTO.buffer.toString('base64'));
  const pane = alice.locator('section.conversation');
  await pane.dispatchEvent('dragover', { dataTransfer: files });
  await expect(pane.locator('.drop-hint')).toBeVisible();
  await pane.dispatchEvent('drop', { dataTransfer: files });
  await expect(pane.locator('.drop-hint')).toBeHidden();
  await expect(chip(alice, 'dropped.png')).toHaveAttribute('data-state', 'done');
  await alice.getByRole('button', { name: 'Send' }).click();
  await expect(withImage(alice)).toHaveAttribute('data-status', 'sent');

  // A picture pasted into the box is uploaded for the message too.
  await alice.getByRole('textbox', { name: 'Message' }).evaluate((box, base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, PHOTO.buffer.toString('base64'));
  await expect(chip(alice, 'pasted.png')).toHaveAttribute('data-state', 'done');
  await alice.getByRole('button', { name: 'Send' }).click();

  const mine = withImage(alice);
  await expect(mine).toHaveCount(2);
  await expect(mine.last()).toHaveAttribute('data-status', 'sent');
  // Files alone: no empty text bubble.
  await expect(mine.locator('.text')).toHaveCount(0);
  await expect(withImage(bob)).toHaveCount(2);
  for (const img of await withImage(bob).locator('img').all()) await loaded(img);
  await expect(bob.getByTestId('inbox-preview').first()).toHaveText('📷 Photo');
  await expect(alice.getByTestId('inbox-preview').first()).toHaveText('You: 📷 Photo');
  // As the server has it too.
  await bob.goto('/');
  await expect(bob.getByTestId('inbox-preview').first()).toHaveText('📷 Photo');
});

test('a PDF shows as a card whose link downloads it; a refused upload says why on its chip', async ({ browser, pageErrors }) => {
  // The browser logs the refused upload.
  pageErrors.allowConsoleErrors(/status of 400/);
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);

  await attach(alice).setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
  await expect(chip(alice, 'empty.txt')).toHaveAttribute('data-state', 'failed');
  await expect(chip(alice, 'empty.txt').getByTestId('upload-error')).toHaveText('the file is empty');
  await chip(alice, 'empty.txt').getByRole('button', { name: 'Remove empty.txt' }).click();

  const pdf = pdfFile();
  await attach(alice).setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf });
  await expect(chip(alice, 'report.pdf')).toHaveAttribute('data-state', 'done');
  await alice.getByRole('textbox', { name: 'Message' }).press('Enter');

  const card = withFile(bob, 'report.pdf').getByTestId('attachment-file');
  await expect(card).toContainText(`${pdf.length} B`);
  await expect(bob.getByTestId('inbox-preview').first()).toHaveText('📎 report.pdf');
  const [download] = await Promise.all([bob.waitForEvent('download'), card.click()]);
  expect(download.suggestedFilename()).toBe('report.pdf');
  const response = await bob.request.get((await card.getAttribute('href'))!);
  expect(response.headers()['content-disposition']).toMatch(/^attachment/);
  expect(Buffer.compare(await response.body(), pdf)).toBe(0);
});

test('an upload taken back with ✕ is not sent; a message written while one uploads waits for it', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);

  // A big file on a slow line: its bar fills as it goes, and ✕ breaks it off.
  const line = await alice.context().newCDPSession(alice);
  await line.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 100_000 });
  await attach(alice).setInputFiles({ name: 'not-this-one.bin', mimeType: 'application/octet-stream', buffer: randomBytes(2_000_000) });
  const progress = chip(alice, 'not-this-one.bin').getByTestId('upload-progress');
  await expect.poll(() => progress.evaluate((p: HTMLProgressElement) => p.value)).toBeGreaterThan(5);
  expect(await progress.evaluate((p: HTMLProgressElement) => p.value)).toBeLessThan(100);
  await chip(alice, 'not-this-one.bin').getByRole('button', { name: 'Remove not-this-one.bin' }).click();
  await expect(alice.getByTestId('upload')).toHaveCount(0);
  await line.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await write(alice, 'only words');
  await expect(message(bob, 'only words')).toHaveCount(1);
  await expect(message(bob, 'only words').getByTestId('attachment-file')).toHaveCount(0);

  // Sent before its picture is up: shown at once, waiting; it goes with
  // the picture once that is uploaded.
  await slowUploads(alice, 2500);
  await attach(alice).setInputFiles({ ...PHOTO, name: 'slow.png' });
  await write(alice, 'wait for it');
  await expect(message(alice, 'wait for it')).toHaveAttribute('data-status', 'uploading');
  await expect(chip(alice, 'slow.png')).toHaveClass(/waiting/);
  await expect(message(alice, 'wait for it')).toHaveAttribute('data-status', 'sent');
  await expect(alice.getByTestId('upload')).toHaveCount(0);
  await loaded(message(bob, 'wait for it').getByTestId('attachment-image').locator('img'));

  const history = await (await bob.request.get(`/api/v1/chat/${conversation}`)).json();
  const names = history.messages.map((m: { attachments?: { name: string }[] }) => (m.attachments ?? []).map((a) => a.name));
  expect(names).toEqual([['slow.png'], []]);
});

test('a message with a picture written offline is kept, and goes once from the next page', async ({ browser }) => {
  const { alice, bob, aliceContext, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  await attach(alice).setInputFiles(PHOTO);
  await expect(chip(alice, 'holiday.png')).toHaveAttribute('data-state', 'done');

  await aliceContext.setOffline(true);
  await expect(alice.getByTestId('connection')).toHaveText('Offline');
  await write(alice, 'from the plane');
  await expect(message(alice, 'from the plane')).toHaveAttribute('data-status', 'pending');
  const kept = await alice.evaluate(() =>
    Object.keys(localStorage)
      .filter((k) => k.startsWith('natter.outbox.'))
      .map((k) => JSON.parse(localStorage.getItem(k)!)),
  );
  expect(kept.map((m) => m.attachments.map((a: { name: string }) => a.name))).toEqual([['holiday.png']]);
  await alice.close();

  await aliceContext.setOffline(false);
  const again = await aliceContext.newPage();
  await openChat(again, conversation);
  await expect(message(again, 'from the plane')).toHaveAttribute('data-status', 'sent');
  await expect(message(again, 'from the plane').getByTestId('attachment-image')).toHaveCount(1);
  await expect(message(bob, 'from the plane')).toHaveCount(1);
  await loaded(message(bob, 'from the plane').getByTestId('attachment-image').locator('img'));
});

test('without JavaScript, the form sends a file with its message', async ({ browser }) => {
  const { alice, bob, aliceContext, conversation } = await aliceAndBob(browser);
  await openChat(bob, conversation);
  const plain = await (await browser.newContext({ javaScriptEnabled: false, storageState: await aliceContext.storageState() })).newPage();
  await plain.goto(`/c/${conversation}`);
  await plain.locator('input[type="file"][name="files"]').setInputFiles([PHOTO, { name: 'notes.pdf', mimeType: 'application/pdf', buffer: pdfFile() }]);
  await plain.getByRole('textbox', { name: 'Message' }).fill('sent the old way');
  await plain.getByRole('button', { name: 'Send' }).click();
  await expect(plain).toHaveURL(new RegExp(`/c/${conversation}$`));
  const sent = message(plain, 'sent the old way');
  await expect(sent.getByTestId('attachment-image')).toHaveCount(1);
  await expect(sent.getByTestId('attachment-file')).toContainText('notes.pdf');
  await loaded(sent.getByTestId('attachment-image').locator('img'));
  // Without JavaScript the thumbnail is a plain link to the whole picture.
  await expect(sent.getByTestId('attachment-image')).toHaveAttribute('href', /^\/api\/v1\/attachments\/att_[0-9a-f]{32}$/);
  // A file alone, no text.
  await plain.locator('input[type="file"][name="files"]').setInputFiles({ name: 'alone.pdf', mimeType: 'application/pdf', buffer: pdfFile() });
  await plain.getByRole('button', { name: 'Send' }).click();
  await expect(withFile(plain, 'alone.pdf')).toHaveCount(1);

  await expect(message(bob, 'sent the old way').getByTestId('attachment-file')).toContainText('notes.pdf');
  await expect(withFile(bob, 'alone.pdf')).toHaveCount(1);
});

// The whole picture at both widths, as people see it: a picture and a file
// in a conversation, uploads in every state (running, failed, done), the
// viewer, a big upload's bar filling on a slow line, and the plain form.
// Its screenshots go to the test's output folder (or NATTER_SHOTS=<folder>)
// for people to look at after a change.
test('files in a conversation at wide and phone widths, every upload state, the viewer', async ({ browser, pageErrors }, testInfo) => {
  const folder = process.env.NATTER_SHOTS ?? testInfo.outputPath('shots');
  pageErrors.allowConsoleErrors(/status of 400/);
  test.setTimeout(60_000);
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await attach(alice).setInputFiles(PHOTO);
  await expect(chip(alice, 'holiday.png')).toHaveAttribute('data-state', 'done');
  await write(alice, 'the view from the hotel');
  await attach(alice).setInputFiles({ name: 'itinerary-final-v2.pdf', mimeType: 'application/pdf', buffer: pdfFile() });
  await expect(chip(alice, 'itinerary-final-v2.pdf')).toHaveAttribute('data-state', 'done');
  await alice.getByRole('textbox', { name: 'Message' }).press('Enter');
  await openChat(bob, conversation);
  await write(bob, 'wow, jealous!');
  await slowUploads(bob, 60_000, /my-desk|budget/);
  await attach(bob).setInputFiles([{ ...PHOTO, name: 'my-desk.png' }, { name: 'budget.xlsx', mimeType: 'application/vnd.ms-excel', buffer: pdfFile() }]);
  await attach(bob).setInputFiles({ name: 'nothing-in-it.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
  await attach(bob).setInputFiles({ ...PHOTO, name: 'ready.png' });
  await expect(bob.getByTestId('upload')).toHaveCount(4);
  await expect(chip(bob, 'nothing-in-it.txt')).toHaveAttribute('data-state', 'failed');
  await expect(chip(bob, 'ready.png')).toHaveAttribute('data-state', 'done');
  for (const [name, size] of [['wide', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    await bob.setViewportSize(size);
    await loaded(withImage(bob).locator('img'));
    await bob.screenshot({ path: `${folder}/files-${name}.png` });
    await withImage(bob).getByTestId('attachment-image').click();
    await loaded(bob.getByTestId('viewer-image'));
    await bob.screenshot({ path: `${folder}/files-viewer-${name}.png` });
    await bob.keyboard.press('Escape');
  }
  await alice.setViewportSize({ width: 390, height: 844 });
  await alice.screenshot({ path: `${folder}/files-sent-phone.png` });
  await bob.setViewportSize({ width: 1280, height: 800 });
  // A big file on a slow line: its bar fills as it goes.
  const cdp = await bob.context().newCDPSession(bob);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 150_000 });
  await attach(bob).setInputFiles({ name: 'site-video.bin', mimeType: 'application/octet-stream', buffer: randomBytes(1_500_000) });
  await expect.poll(() => chip(bob, 'site-video.bin').getByTestId('upload-progress').evaluate((p: HTMLProgressElement) => p.value)).toBeGreaterThan(20);
  await bob.locator('form.composer').screenshot({ path: `${folder}/files-chips.png` });
  await bob.setViewportSize({ width: 390, height: 844 });
  await bob.screenshot({ path: `${folder}/files-chips-phone.png` });
  await bob.unrouteAll({ behavior: 'ignoreErrors' });
  const plain = await (await browser.newContext({ javaScriptEnabled: false, storageState: await alice.context().storageState() })).newPage();
  await plain.goto(`/c/${conversation}`);
  await plain.locator('input[type="file"][name="files"]').setInputFiles(PHOTO);
  for (const [name, size] of [['wide', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    await plain.setViewportSize(size);
    await plain.screenshot({ path: `${folder}/files-nojs-${name}.png` });
  }
});
