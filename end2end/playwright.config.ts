import { defineConfig, devices } from '@playwright/test';

// The server under test: the release binary and bundle that
// `cargo leptos build --release --precompress` made (what ships; `.ci/test`
// builds them), with its own private PostgreSQL in target/e2e-db (kept
// between runs; every test makes fresh users), on a port of its own.
// NATTER_E2E_BIN=target/debug/natter runs the suite against a development
// build instead (after `cargo leptos build`).
const PORT = Number(process.env.NATTER_E2E_PORT ?? 3100);
const BIN = process.env.NATTER_E2E_BIN ?? 'target/release/natter';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Debian's Chromium: Playwright's own download cannot run here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'chromium', use: { ...devices['Desktop Chrome'] }, testIgnore: /outage\.spec\.ts/ },
    // Stops the database under the shared server: alone, after the rest.
    {
      name: 'outage',
      use: { ...devices['Desktop Chrome'] },
      testMatch: /outage\.spec\.ts/,
      dependencies: ['chromium'],
    },
  ],
  webServer: {
    command: `./${BIN}`,
    cwd: '..',
    url: `http://127.0.0.1:${PORT}/login`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: 'target/site',
      NATTER_DATA_DIR: 'target/e2e-db',
      // The suite makes many accounts from one address, and seeds long
      // conversations quickly.
      NATTER_AUTH_ATTEMPTS_PER_MINUTE: '100000',
      NATTER_SENDS_PER_SECOND: '100000',
      NATTER_SEND_BURST: '100000',
      // One test starts sixty groups to fill more than a page of inbox.
      NATTER_NEW_CONVERSATION_BUDGET: '{ per-minute = 100000, burst = 100000 }',
      // A closed page shows offline after a second rather than ten (the
      // grace itself has integration tests).
      NATTER_PRESENCE_GRACE_MS: '1000',
      RUST_LOG: 'warn',
    },
  },
});
