import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { admin, shot, signedIn } from './plaza';

/**
 * A roll-up of meditation analytics that died while the database was
 * away. The fixture writes it into the embedded database behind plaza's
 * back (E2E_DB, set by .ci/browser.sh) — dead after its attempts, as the
 * runner leaves one; retrying runs the real job.
 */
function deadJob(db: string): string {
  const script = `
import sqlite3, sys, uuid, datetime
db = sqlite3.connect(sys.argv[1], timeout=10)
new = str(uuid.uuid4())
now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
db.execute("""INSERT INTO jobs (id, queue, kind, payload, priority, state, attempts, max_attempts,
  run_at, last_error, created_at, finished_at)
  VALUES (?, 'analytics', 'meditation.rollup', '{}', 1, 'dead', 5, 5, ?, ?, ?, ?)""",
  (new, now, 'database is locked (the disk was full)', now, now))
db.commit()
print(new)
`;
  return execFileSync('python3', ['-c', script, db]).toString().trim();
}

test('an admin retries a dead job from the console and sees it complete', async ({ browser }) => {
  const db = process.env.E2E_DB;
  test.skip(!db, 'needs E2E_DB (run through .ci/browser.sh)');
  deadJob(db!);

  const page = await signedIn(browser, admin, '/admin/queues');
  const dead = page.getByRole('button', { name: /Analytics: [1-9]\d* dead/ });
  await expect(dead).toBeVisible();
  await dead.click();
  await page.getByRole('link', { name: 'meditation.rollup' }).first().click();
  await page.waitForURL(/\/admin\/jobs\//);
  await expect(page.getByTestId('job-state')).toHaveText('dead');
  await expect(page.locator('main')).toContainText('the disk was full');
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('job-state')).toHaveText('completed', { timeout: 20_000 });
  await shot(page, 'admin-job');
});
