import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { admin, api, person, problems, shot, signedIn } from './plaza';

/** No serious or critical accessibility violation on the page as it is now. */
async function accessible(page: Page, name: string) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), name).toEqual([]);
  await shot(page, name);
}

test('every page of the client renders, passes axe and shows no console error', async ({ browser }) => {
  const ana = await person('Ana');
  const bob = await person('Bob');
  const chat = await api<{ id: string }>(ana, 'POST', '/api/chats', { type: 'direct', member_ids: [bob.id] });
  await api(bob, 'POST', `/api/chats/${chat.id}/messages`, { content: 'Morning! Shall we meditate later?' });
  const room = await api<{ room: { id: string } }>(ana, 'POST', '/api/meditation/rooms', { name: 'Morning calm' });
  const project = await api<{ project: { id: string } }>(bob, 'POST', '/api/projects', {
    title: 'A logo for a tea shop', description: 'Round, green, friendly.', currency: 'USD', budget_min: 20000, budget_max: 50000, skills: ['design'], status: 'open',
  });

  const anon = await (await browser.newContext()).newPage();
  for (const [path, name] of [['/', 'home-signed-out'], ['/sign-in', 'sign-in'], ['/sign-up', 'sign-up']]) {
    await anon.goto(path!);
    await expect(anon.locator('main h1')).toBeVisible();
    await accessible(anon, name!);
  }

  const page = await signedIn(browser, ana, '/');
  const pages: [string, string, string][] = [
    ['/', 'home', 'Hello'],
    ['/chats', 'chats', 'Chats'],
    [`/chats/${chat.id}`, 'conversation', 'Morning!'],
    ['/notifications', 'notifications', 'Notifications'],
    ['/settings', 'settings', 'Sessions'],
    ['/meditate', 'meditate', 'Group rooms'],
    [`/meditate/rooms/${room.room.id}`, 'room', 'Morning calm'],
    ['/projects', 'projects', 'A logo for a tea shop'],
    [`/projects/${project.project.id}`, 'project', 'Round, green, friendly.'],
    ['/fitness', 'fitness', 'Ask the coach'],
    ['/wallet', 'wallet', 'Transactions'],
  ];
  for (const [path, name, text] of pages) {
    await page.goto(path);
    await expect(page.locator('main')).toContainText(text);
    await accessible(page, name);
  }
  expect(problems(page)).toEqual([]);
});

test('every page of the console renders for an admin and passes axe', async ({ browser }) => {
  const page = await signedIn(browser, admin, '/admin');
  for (const [path, name, text] of [
    ['/admin/queues', 'admin-queues', 'ai'],
    ['/admin/users', 'admin-users', 'admin'],
    ['/admin/metrics', 'admin-metrics', 'Waiting for the bus'],
    ['/admin/templates', 'admin-templates', 'Notification templates'],
    ['/admin/payments', 'admin-payments', 'Transactions'],
  ] as const) {
    await page.goto(path);
    await expect(page.locator('main')).toContainText(text, { ignoreCase: true });
    await accessible(page, name);
  }
  expect(problems(page)).toEqual([]);
});

test('the console is for admins only', async ({ browser }) => {
  const someone = await person('Cleo');
  const page = await signedIn(browser, someone, '/');
  await page.goto('/admin/queues');
  await expect(page.locator('main h1')).toHaveText('Admins only');
});
