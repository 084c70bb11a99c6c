// What the browser tests share: people made over the API, a signed-in page
// for each, and a screenshot of every page.
import { expect, type Browser, type Page } from '@playwright/test';

export const base = process.env.PLAZA_URL ?? 'http://127.0.0.1:8080';
let n = 0;

export interface Person {
  email: string;
  username: string;
  password: string;
  id: string;
  token: string;
}

/** A new account, made through the API. */
export async function person(name: string): Promise<Person> {
  n += 1;
  const username = `${name}${Date.now() % 100000}${n}`;
  const email = `${username}@example.com`;
  const password = 'correct horse battery';
  const res = await fetch(`${base}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, username, display_name: name }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const body = (await res.json()) as { access_token: string; user: { id: string } };
  return { email, username, password, id: body.user.id, token: body.access_token };
}

/** The admin .ci/browser.sh made with `plaza admin create-user`. */
export const admin = {
  email: process.env.E2E_ADMIN_EMAIL ?? 'admin@example.com',
  password: process.env.E2E_ADMIN_PASSWORD ?? 'console password 1',
};

/** A page in its own browser context, signed in through the sign-in form. */
export async function signedIn(browser: Browser, who: { email: string; password: string }, path = '/'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(`/sign-in?next=${encodeURIComponent(path)}`);
  await page.getByLabel('Email or username').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === path.split('?')[0]);
  await expect(page.locator('.live.open')).toBeVisible();
  return page;
}

/** Console errors and page errors (a CSP refusal shows up here). */
export function problems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

export async function api<T>(who: Person, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${who.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  expect(res.ok, `${method} ${path}: ${res.status} ${text}`).toBe(true);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS ?? '../target/screenshots';
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}
