import { test, expect } from './fixtures';
import { apiUser, hydrated, expectShown, write } from './helpers';

test('New chat finds a person by name and opens the direct chat, once', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'bob');
  await alice.goto('/');
  await hydrated(alice);

  await alice.getByRole('link', { name: 'New chat' }).click();
  // A prefix, but one no other user of the suite's database shares (the
  // search shows the first 20 matches).
  await alice.getByLabel('Find people').fill(b.username.slice(0, -2));
  await alice.getByRole('checkbox', { name: b.username }).check();
  await alice.getByRole('button', { name: 'Start chat' }).click();
  await expect(alice).toHaveURL(/\/c\/conv_[0-9a-f]{32}$/);
  const url = alice.url();
  await expect(alice.locator('.chip')).toHaveCount(0);
  await expect(alice.getByRole('heading', { name: b.username })).toBeVisible();
  await expect(alice.getByTestId('inbox-row')).toHaveCount(1);
  await write(alice, 'found you');
  await expect(alice.locator('[data-testid="message"]')).toHaveAttribute('data-status', 'sent');

  // Starting it again opens the same conversation.
  await alice.getByRole('link', { name: 'New chat' }).click();
  await alice.getByLabel('Find people').fill(b.username);
  await alice.getByRole('checkbox', { name: b.username }).check();
  await alice.getByRole('button', { name: 'Start chat' }).click();
  await expect(alice).toHaveURL(url);
  await expectShown(alice, ['found you']);
  await expect(alice.getByTestId('inbox-row')).toHaveCount(1);
});

test('a group is made with a title and several people, and everyone can open it', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  const carol = await (await browser.newContext()).newPage();
  await apiUser(alice, 'alice');
  const b = await apiUser(bob, 'grpbob');
  const c = await apiUser(carol, 'grpcarol');
  await bob.goto('/');
  await hydrated(bob);
  await expect(bob.getByTestId('connection')).toHaveText('Connected');

  await alice.goto('/');
  await hydrated(alice);
  await alice.getByRole('link', { name: 'New chat' }).click();
  await alice.getByLabel('Find people').fill(b.username);
  await alice.getByRole('checkbox', { name: b.username }).check();
  await alice.getByLabel('Find people').fill(c.username);
  await alice.getByRole('checkbox', { name: c.username }).check();
  await alice.getByLabel('Group name').fill('Book club');
  await alice.getByRole('button', { name: 'Start chat' }).click();
  await expect(alice.getByRole('heading', { name: 'Book club' })).toBeVisible();
  await expect(alice.getByText('3 members')).toBeVisible();
  await write(alice, 'first chapter by Friday');

  // Bob's open inbox learns of the new group from its first message.
  const row = bob.getByTestId('inbox-row').filter({ hasText: 'Book club' });
  await expect(row).toContainText('first chapter by Friday');
  await row.click();
  await expect(bob.getByRole('heading', { name: 'Book club' })).toBeVisible();
  await expect(bob.locator('[data-testid="message"]')).toHaveCount(1);
  await expectShown(bob, ['first chapter by Friday']);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a direct chat can be started with the search and start forms', async ({ page, browser }) => {
    const bob = await (await browser.newContext()).newPage();
    await apiUser(page, 'nojs');
    const b = await apiUser(bob, 'nojsbob');
    await page.goto('/');
    await page.getByRole('link', { name: 'New chat' }).click();
    await expect(page).toHaveURL(/\/new$/);
    await page.getByLabel('Find people').fill(b.username);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('checkbox', { name: b.username }).check();
    await page.getByRole('button', { name: 'Start chat' }).click();
    await expect(page).toHaveURL(/\/c\/conv_[0-9a-f]{32}$/);
    await expect(page.getByRole('heading', { name: b.username })).toBeVisible();
  });
});
