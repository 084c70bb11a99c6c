import { expect, test } from '@playwright/test';
import { crc32, deflateSync } from 'node:zlib';
import { api, person, shot, signedIn } from './plaza';

/** A real PNG of `w`×`h` pixels (a gradient), made here. */
function picture(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) rows.set([x * 4, y * 5, 160], y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a project is posted, answered, and the accepted freelancer lands in a chat with the owner', async ({ browser }) => {
  const owner = await person('Olga');
  const freelancer = await person('Fred');

  // The owner posts a project from the app.
  const o = await signedIn(browser, owner, '/projects');
  await o.getByRole('button', { name: 'Post a project' }).click();
  await o.getByLabel('Title').fill('Translate a menu into Russian');
  await o.getByLabel('What needs doing').fill('Two pages, by Friday.');
  await o.getByLabel(/Skills/).fill('translation, russian');
  await o.getByRole('button', { name: 'Post it' }).click();
  await o.waitForURL(/\/projects\/.+/);
  const projectUrl = new URL(o.url()).pathname;

  // The freelancer finds it by search and responds.
  const f = await signedIn(browser, freelancer, '/projects');
  await f.getByLabel('Search projects').fill('menu russian');
  await f.getByRole('button', { name: 'Search' }).click();
  await f.getByRole('link', { name: 'Translate a menu into Russian' }).click();
  await f.getByLabel(/Your price/).fill('80');
  await f.getByLabel('Cover letter').fill('Native speaker, done in a day.');
  await f.getByRole('button', { name: 'Send' }).click();
  await expect(f.getByRole('status')).toHaveText('Your response is sent.');

  // The owner accepts and lands in the direct chat plaza opens.
  await o.goto(projectUrl);
  await o.getByRole('button', { name: 'Accept' }).click();
  await o.waitForURL(/\/chats\/.+/, { timeout: 15_000 });
  await expect(o.locator('main h2')).toContainText('Fred');
  await o.getByRole('textbox', { name: 'Message' }).fill('Welcome aboard!');
  await o.getByRole('button', { name: 'Send' }).click();
  await f.goto('/chats');
  await expect(f.locator('a[data-chat]').first()).toContainText('Welcome aboard!');
  await shot(o, 'project-accepted-chat');
});

test('a picture is attached with upload progress and shown as a thumbnail to the other person', async ({ browser }) => {
  const ana = await person('Ana');
  const bob = await person('Bob');
  const chat = await api<{ id: string }>(ana, 'POST', '/api/chats', { type: 'direct', member_ids: [bob.id] });
  const a = await signedIn(browser, ana, `/chats/${chat.id}`);
  const b = await signedIn(browser, bob, `/chats/${chat.id}`);
  const png = picture(64, 48);
  await a.setInputFiles('#attach', { name: 'sunrise.png', mimeType: 'image/png', buffer: png });
  await expect(a.locator('.composer')).toContainText('sunrise.png');
  await a.getByRole('textbox', { name: 'Message' }).fill('look');
  await a.getByRole('button', { name: 'Send' }).click();
  const img = b.getByRole('log', { name: 'Messages' }).getByRole('img', { name: 'sunrise.png' });
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(0);
});
