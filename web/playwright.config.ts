import { defineConfig } from '@playwright/test';

// The browser tests drive a real plaza started by .ci/browser.sh (a fresh
// data directory, a free port, an admin made with `plaza admin
// create-user`), through Debian's Chromium. PLAZA_URL says where it is.
export default defineConfig({
  testDir: 'tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  outputDir: '../target/playwright',
  use: {
    baseURL: process.env.PLAZA_PROXY_URL ?? process.env.PLAZA_URL ?? 'http://127.0.0.1:8080',
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] },
    trace: 'retain-on-failure',
  },
});
