import { expect, test } from '@playwright/test';
import { Proxy } from './proxy';
import { api, base, person, problems } from './plaza';

test('a network drop and reconnect loses nothing and shows nothing twice', async ({ browser }) => {
  const ana = await person('Ana');
  const bob = await person('Bob');
  const chat = await api<{ id: string }>(ana, 'POST', '/api/chats', { type: 'direct', member_ids: [bob.id] });
  const first = await api<{ id: string }>(ana, 'POST', `/api/chats/${chat.id}/messages`, { content: 'before the drop' });

  // Bob reaches plaza through a proxy the test can cut.
  const proxy = new Proxy(new URL(base));
  const through = await proxy.start();
  const context = await browser.newContext({ baseURL: through });
  const page = await context.newPage();
  await page.goto('/sign-in?next=' + encodeURIComponent(`/chats/${chat.id}`));
  await page.getByLabel('Email or username').fill(bob.email);
  await page.getByLabel('Password').fill(bob.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const log = page.getByRole('log', { name: 'Messages' });
  await expect(log).toContainText('before the drop');
  await expect(page.locator('.live.open')).toBeVisible();

  await proxy.cut();
  await expect(page.locator('.live.open')).toHaveCount(0);
  // While Bob is away: three messages, an edit and a reaction.
  for (const n of [1, 2, 3]) await api(ana, 'POST', `/api/chats/${chat.id}/messages`, { content: `while away ${n}` });
  await api(ana, 'PUT', `/api/chats/${chat.id}/messages/${first.id}`, { content: 'before the drop, edited' });
  await api(ana, 'POST', `/api/v1/messages/${first.id}/reactions`, { emoji: '🎉' });
  await proxy.restore();

  await expect(page.locator('.live.open')).toBeVisible({ timeout: 20_000 });
  for (const n of [1, 2, 3]) await expect(log.getByText(`while away ${n}`)).toHaveCount(1);
  await expect(log).toContainText('before the drop, edited');
  await expect(page.getByRole('button', { name: '🎉 1' })).toBeVisible();
  await expect(log.locator('li.msg')).toHaveCount(4);
  // And live again afterwards.
  await api(ana, 'POST', `/api/chats/${chat.id}/messages`, { content: 'back again' });
  await expect(log.getByText('back again')).toHaveCount(1);
  expect(problems(page).filter((p) => !p.includes('WebSocket') && !p.includes('ERR_'))).toEqual([]);
  await proxy.cut();
});
