// The browser half of `.ci/bench page` (not a test): how long a signed-in
// page takes to become usable on a slow mobile network, on a first visit
// (empty cache) and on a repeat visit, and how many bytes each costs.
//
//   node page-load.mjs BASE_URL SESSION_TOKEN RUNS PATH...
//
// For each path and run: a fresh browser profile, Chromium's "Fast 3G"
// conditions (as DevTools defines them: 562.5 ms round trips, 1.6 Mbit/s down
// and 750 kbit/s up, each at 90%), the page loaded until it is interactive:
// hydrated (the WebAssembly bundle has taken over) and its WebSocket
// connected. Then the same page again in a new tab of the same profile (the
// repeat visit). Prints one JSON object: per path, the median of the runs.
import { chromium } from '@playwright/test';

const [base, token, runsArg, ...paths] = process.argv.slice(2);
if (!base || !token || !paths.length) {
  console.error('usage: node page-load.mjs BASE_URL SESSION_TOKEN RUNS PATH...');
  process.exit(2);
}
const runs = Number(runsArg) || 3;

const FAST_3G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: (1.6 * 1000 * 1000) / 8 * 0.9,
  uploadThroughput: (750 * 1000) / 8 * 0.9,
};

// In the page: the moments (ms since navigation start) the bundle finished
// hydrating and the connection badge said "Connected".
const WATCH = () => {
  const mark = () => {
    const body = document.body;
    if (!body) return;
    if (window.__hydratedAt === undefined && body.hasAttribute('data-hydrated')) {
      window.__hydratedAt = performance.now();
    }
    const badge = document.querySelector('[data-testid="connection"]');
    if (window.__connectedAt === undefined && badge && badge.textContent.trim() === 'Connected' && body.hasAttribute('data-hydrated')) {
      window.__connectedAt = performance.now();
    }
  };
  new MutationObserver(mark).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
};

async function visit(context, path) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  const urls = new Map();
  let bytes = 0;
  let wasmBytes = 0;
  let requests = 0;
  const headerBytes = new Map();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.responseReceived', (e) => headerBytes.set(e.requestId, e.response.encodedDataLength));
  cdp.on('Network.loadingFinished', (e) => {
    requests += 1;
    // Everything received, headers included: what the network carried.
    bytes += e.encodedDataLength;
    // The module's own (compressed) bytes, as the budget counts them.
    if ((urls.get(e.requestId) ?? '').endsWith('.wasm')) {
      wasmBytes += e.encodedDataLength - (headerBytes.get(e.requestId) ?? 0);
    }
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  await page.goto(base + path, { waitUntil: 'commit', timeout: 120_000 });
  try {
    await page.waitForFunction(() => window.__connectedAt !== undefined, null, { timeout: 60_000, polling: 50 });
  } catch (e) {
    const state = await page.evaluate(() => ({
      hydrated: document.body?.hasAttribute('data-hydrated'),
      badge: document.querySelector('[data-testid="connection"]')?.textContent,
      hydratedAt: window.__hydratedAt,
    }));
    throw new Error(`${path} never became interactive: ${JSON.stringify(state)}; ${errors.join('; ')}`);
  }
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return {
      ttfb_ms: nav.responseStart,
      html_done_ms: nav.responseEnd,
      hydrated_ms: window.__hydratedAt,
      interactive_ms: window.__connectedAt,
    };
  });
  // Let late responses (nothing should come) be counted.
  await page.waitForTimeout(200);
  await page.close();
  if (errors.length) throw new Error(`errors in ${path}: ${errors.join('; ')}`);
  return { ...timing, bytes, wasm_bytes: wasmBytes, requests };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function summary(samples) {
  const out = {};
  for (const key of Object.keys(samples[0])) out[key] = Math.round(median(samples.map((s) => s[key])));
  return out;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = { network: 'Fast 3G (562.5 ms RTT, 1.44 Mbit/s down, 675 kbit/s up)', runs, pages: {} };
try {
  const host = new URL(base).hostname;
  for (const path of paths) {
    const first = [];
    const repeat = [];
    for (let run = 0; run < runs; run++) {
      const context = await browser.newContext();
      await context.addCookies([{ name: 'natter_session', value: token, domain: host, path: '/', httpOnly: true, sameSite: 'Lax' }]);
      await context.addInitScript(WATCH);
      first.push(await visit(context, path));
      repeat.push(await visit(context, path));
      await context.close();
    }
    result.pages[path] = { first: summary(first), repeat: summary(repeat) };
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
