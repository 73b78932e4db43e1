import { test as base, expect, Browser, BrowserContext } from '@playwright/test';

/** What a test may say about the errors its pages are allowed to log. */
export interface PageErrors {
  /** Console errors matching one of these are expected in this test (a
   * WebSocket that fails while the browser is offline, say). Uncaught
   * exceptions are never allowed. */
  allowConsoleErrors(...patterns: RegExp[]): void;
}

/**
 * Every test in the suite imports `test` from here. It watches every page of
 * every browser context the test opens (the default one and each
 * `browser.newContext()`), and fails the test on any uncaught exception in a
 * page (a WebAssembly bundle that does not start, a panic) and on any
 * console error the test did not declare: a bundle that breaks in the
 * browser can never pass.
 */
export const test = base.extend<{ pageErrors: PageErrors }>({
  pageErrors: [
    async ({ browser, context }, use) => {
      const problems: string[] = [];
      const allowed: RegExp[] = [];
      const watch = (ctx: BrowserContext) => {
        ctx.on('weberror', (error) => {
          problems.push(`uncaught in ${error.page()?.url() ?? 'a page'}: ${error.error().stack ?? error.error()}`);
        });
        ctx.on('console', (message) => {
          if (message.type() !== 'error') return;
          const text = message.text();
          if (allowed.some((pattern) => pattern.test(text))) return;
          problems.push(`console error in ${message.page()?.url() ?? 'a page'}: ${text}`);
        });
      };
      watch(context);
      const newContext = browser.newContext;
      (browser as Browser).newContext = async function (this: Browser, ...args) {
        const created = await newContext.apply(this, args);
        watch(created);
        return created;
      };
      try {
        await use({ allowConsoleErrors: (...patterns) => allowed.push(...patterns) });
      } finally {
        browser.newContext = newContext;
      }
      expect(problems, 'errors in the pages of this test').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
