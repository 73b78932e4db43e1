import { test, expect } from './fixtures';
import { aliceAndBob, apiConversation, message, openChat, threePeople } from './helpers';

test('Bob sees Alice typing in the chat and in his inbox, until she clears the box or sends', async ({ browser }) => {
  const { alice, bob, conversation } = await aliceAndBob(browser);
  await openChat(alice, conversation);
  await openChat(bob, conversation);
  const box = alice.getByRole('textbox', { name: 'Message' });
  const subtitle = bob.getByTestId('conversation-subtitle');
  const preview = bob.locator(`[data-conversation-id="${conversation}"] [data-testid="inbox-preview"]`);
  // Alice is there: the header says so until she types.
  await expect(subtitle).toHaveText('online');

  await box.pressSequentially('hel');
  await expect(subtitle).toHaveText('typing…');
  await expect(preview).toHaveText('typing…');
  await box.fill('');
  await expect(subtitle).toHaveText('online');
  await expect(preview).not.toHaveText('typing…');

  await box.pressSequentially('hello there');
  await expect(subtitle).toHaveText('typing…');
  await box.press('Enter');
  await expect(message(bob, 'hello there')).toHaveCount(1);
  await expect(subtitle).toHaveText('online');
  await expect(preview).toHaveText('hello there');
  // Nobody is shown their own typing.
  await expect(alice.getByTestId('conversation-subtitle')).toHaveText('online');
});

test('in a group, the names of those typing show, and it fades six seconds after the last keystroke', async ({ browser }) => {
  const { alice, bob, carol, b, c } = await threePeople(browser);
  const group = await apiConversation(alice, [b.id, c.id], 'Typists');
  for (const page of [alice, bob, carol]) await openChat(page, group);
  const subtitle = alice.getByTestId('conversation-subtitle');
  await expect(subtitle).toHaveText('3 members');

  await bob.getByRole('textbox', { name: 'Message' }).pressSequentially('so');
  await expect(subtitle).toHaveText(`${b.username} is typing…`);
  await carol.getByRole('textbox', { name: 'Message' }).pressSequentially('and');
  await expect(subtitle).toHaveText(`${b.username} and ${c.username} are typing…`);
  // They stop typing but leave their words in the box: no stop is said,
  // and after six quiet seconds nobody shows.
  await expect(subtitle).toHaveText('3 members', { timeout: 10_000 });
});
