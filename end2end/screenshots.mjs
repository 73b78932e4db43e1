// Screenshots of the main pages at wide (1280x800) and phone (390x844) widths,
// against a running natter (not a test): BASE=http://127.0.0.1:3200
// OUT=/tmp/shots node screenshots.mjs
import { chromium } from '@playwright/test';
const base = process.env.BASE ?? 'http://127.0.0.1:3200';
const out = process.env.OUT ?? '/tmp/shots';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const stamp = Date.now().toString(36);
async function user(ctx, name) {
  const page = await ctx.newPage();
  const r = await page.request.post(`${base}/api/v1/auth/register`, { data: { username: `${name}_${stamp}`, password: 'correct horse battery' } });
  const body = await r.json();
  return { page, id: body.user_id, name: body.username };
}
const aliceCtx = await browser.newContext();
const alice = await user(aliceCtx, 'alice');
const bob = await user(await browser.newContext(), 'bob');
const carol = await user(await browser.newContext(), 'carol');
const conv = await (await alice.page.request.post(`${base}/api/v1/conversations`, { data: { participants: [bob.id] } })).json();
const group = await (await alice.page.request.post(`${base}/api/v1/conversations`, { data: { participants: [bob.id, carol.id], title: 'Weekend plans' } })).json();
// An untitled group bigger than a row names, and a direct chat Alice blocked.
const more = [];
for (const name of ['dave', 'erin', 'frank', 'grace']) more.push(await user(await browser.newContext(), name));
await alice.page.request.post(`${base}/api/v1/conversations`, { data: { participants: [bob.id, carol.id, ...more.map((u) => u.id)] } });
const blocked = await (await alice.page.request.post(`${base}/api/v1/conversations`, { data: { participants: [more[0].id] } })).json();
await alice.page.request.put(`${base}/api/v1/users/${more[0].id}/block`);
await bob.page.request.post(`${base}/api/send`, { form: { conversation_id: group.conversation_id, message_id: `msg_${Math.random().toString(16).slice(2)}`, content: 'Who is bringing snacks?' } });
for (const [p, text] of [[alice, 'Hi Bob! Are we still on for Saturday?'], [bob, 'Yes! 10am at the station.'], [alice, 'Great, see you there']]) {
  await p.page.request.post(`${base}/api/send`, { form: { conversation_id: conv.conversation_id, message_id: `msg_${Math.random().toString(16).slice(2)}`, content: text } });
}
for (const [w, h, tag] of [[1280, 800, 'wide'], [390, 844, 'phone']]) {
  const ctx = await browser.newContext({ viewport: { width: w, height: h }, storageState: await aliceCtx.storageState() });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log('console error', m.text()); });
  for (const [path, name] of [['/', 'inbox'], ['/new?q=b', 'new'], [`/c/${conv.conversation_id}`, 'conversation'], [`/c/${group.conversation_id}`, 'group'], [`/c/${blocked.conversation_id}`, 'blocked']]) {
    await page.goto(base + path);
    await page.waitForSelector('body[data-hydrated]');
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${out}/${name}-${tag}.png` });
  }
  const anon = await (await browser.newContext({ viewport: { width: w, height: h } })).newPage();
  await anon.goto(base + '/login');
  await anon.waitForSelector('body[data-hydrated]');
  await anon.screenshot({ path: `${out}/login-${tag}.png` });
}
await browser.close();
