import { test, expect } from './fixtures';
import { uniqueName, signUp, logIn, PASSWORD, hydrated } from './helpers';

test.describe('accounts with JavaScript', () => {
  test('sign up, see my name, log out, get sent to login, log in again', async ({ page }) => {
    const name = uniqueName('e2e');
    await page.goto('/register');
    await hydrated(page);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId('me-name')).toHaveText(name);

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);

    await logIn(page, name);
  });

  test('a wrong password shows the error on the page', async ({ page, pageErrors }) => {
    // The browser logs the refused log-in (401) as a failed request.
    pageErrors.allowConsoleErrors(/status of 401/);
    const name = uniqueName('e2e');
    await signUp(page, name);
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await hydrated(page);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Wrong username or password');
    await expect(page).toHaveURL(/\/login/);
  });

  test('a taken name is refused on the sign-up page', async ({ page, pageErrors }) => {
    pageErrors.allowConsoleErrors(/status of 409/);
    const name = uniqueName('e2e');
    await signUp(page, name);
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/register');
    await hydrated(page);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect(page.getByRole('alert')).toHaveText('That username is taken');
  });
});

test.describe('accounts without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('sign up, log out, the redirect, log in again: all as plain form posts', async ({ page }) => {
    const name = uniqueName('nojs');
    await signUp(page, name);
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
    await logIn(page, name);
  });

  test('a wrong password shows the error on the page', async ({ page }) => {
    const name = uniqueName('nojs');
    await signUp(page, name);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Wrong username or password');
  });
});

test('a signed-out visit to / answers with a redirect to /login', async ({ request }) => {
  const response = await request.get('/', { maxRedirects: 0, headers: { accept: 'text/html' } });
  expect(response.status()).toBe(302);
  expect(response.headers()['location']).toBe('/login');
});
