import { expect, test } from '@playwright/test';
import { person, problems, shot, signedIn } from './plaza';

test('two people chat in real time: message, reaction, typing, read receipt', async ({ browser }) => {
  const ana = await person('Ana');
  const bob = await person('Bob');
  const a = await signedIn(browser, ana, '/chats');
  const b = await signedIn(browser, bob, '/chats');

  // Ana starts a direct chat with Bob from the app.
  await a.getByRole('button', { name: 'New chat' }).click();
  await a.getByLabel('Find people').fill(bob.username);
  await a.getByRole('button', { name: 'Add' }).click();
  await a.getByRole('button', { name: 'Start the chat' }).click();
  await a.waitForURL(/\/chats\/.+/);
  await a.getByRole('textbox', { name: 'Message' }).fill('hello Bob');
  await a.getByRole('button', { name: 'Send' }).click();

  // Bob sees the chat appear with an unread badge, opens it, and reads.
  const chatLink = b.locator('a[data-chat]').first();
  await expect(chatLink).toContainText('hello Bob');
  await expect(chatLink.locator('.badge')).toHaveText('1');
  await chatLink.click();
  await expect(b.getByRole('log', { name: 'Messages' })).toContainText('hello Bob');

  // Ana sees the read receipt.
  await expect(a.locator('.seen')).toHaveText('Seen');

  // Bob types; Ana sees it.
  await b.getByRole('textbox', { name: 'Message' }).pressSequentially('hi', { delay: 50 });
  await expect(a.locator('.typing')).toContainText('Bob is typing');

  // Bob reacts; Ana sees the count.
  await b.getByRole('log', { name: 'Messages' }).locator('summary[aria-label="React"]').first().click();
  await b.getByRole('button', { name: 'React with 👍' }).first().click();
  await expect(a.getByRole('button', { name: '👍 1' })).toBeVisible();

  // Bob answers; Ana gets it live.
  await b.getByRole('textbox', { name: 'Message' }).fill('hi Ana');
  await b.getByRole('button', { name: 'Send' }).click();
  await expect(a.getByRole('log', { name: 'Messages' })).toContainText('hi Ana');

  await shot(a, 'chat');
  expect(problems(a)).toEqual([]);
  expect(problems(b)).toEqual([]);
});
