import { expect, test } from '@playwright/test';
import { api, person, shot, signedIn } from './plaza';

/** The clock's reading in seconds ("0:05" → 5). */
const seconds = (t: string) => t.split(':').reduce((s, part) => s * 60 + Number(part), 0);

test('a group meditation starts in step in two browsers', async ({ browser }) => {
  const host = await person('Host');
  const guest = await person('Guest');
  const room = await api<{ room: { id: string } }>(host, 'POST', '/api/meditation/rooms', { name: 'Evening sit' });
  const path = `/meditate/rooms/${room.room.id}`;
  const a = await signedIn(browser, host, path);
  const b = await signedIn(browser, guest, path);
  await expect(a.locator('main')).toContainText('2 here');

  await a.getByLabel('Minutes').fill('0.5');
  await a.getByRole('button', { name: 'Start for everyone' }).click();
  for (const p of [a, b]) await expect(p.locator('.timer')).toContainText('Starting in');
  // Both count to the same instant: read both clocks together.
  await expect(b.locator('.timer')).toContainText('Remaining', { timeout: 10_000 });
  const [ta, tb] = await Promise.all([a.getByTestId('room-clock').textContent(), b.getByTestId('room-clock').textContent()]);
  expect(Math.abs(seconds(ta!) - seconds(tb!))).toBeLessThanOrEqual(1);
  await shot(b, 'room-running');
  await expect(a.locator('.timer')).toContainText('over', { timeout: 45_000 });
  await expect(b.locator('.timer')).toContainText('over');
});
