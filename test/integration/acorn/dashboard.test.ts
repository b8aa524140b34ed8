/// <reference lib="dom" />
/**
 * Acorn's dashboard in a real browser: Playwright drives Debian's Chromium (never a downloaded one) at the
 * dashboard of a booted image. The numbers change within 3 s; a TCP connection this test holds open
 * appears in the connection table and leaves it once closed; the stack sampler's hottest functions fill
 * in; a line the service printed shows in the
 * log; screenshots at 1280x800 and 390x844 are saved in test-results/acorn/ (and, with
 * UOS_UPDATE_SCREENSHOTS=1, the desktop one as docs/images/acorn-dashboard.png for the README).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repositoryRoot } from '../harness.js';
import { type BootedAcorn, bootAcorn, curlJson } from './acorn-host.js';

const CHROMIUM = '/usr/bin/chromium';
const artifacts = join(repositoryRoot, 'test-results', 'acorn');
let acorn: BootedAcorn;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: sh scripts/bootstrap.sh installs Debian's chromium`);
  acorn = await bootAcorn();
  profile = mkdtempSync(join(tmpdir(), 'acorn-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(artifacts, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await acorn?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function openDashboard(width: number, height: number): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('requestfailed', (request) => {
    if (!request.url().startsWith(acorn.base)) errors.push(`a request left the image: ${request.url()}`);
  });
  await page.goto(`${acorn.base}/dashboard`);
  await page.waitForSelector('#status.live', { timeout: 15_000 });
  expect(errors).toEqual([]);
  return page;
}

const text = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).textContent()) ?? '';

it('shows live numbers that change within 3 s', async () => {
  const page = await openDashboard(1280, 800);
  // Every request the page made went to the image: no CDN, no fonts from elsewhere.
  const origins = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).origin));
  expect(new Set(origins)).toEqual(new Set([new URL(acorn.base).origin]));
  await page.waitForFunction(() => document.getElementById('cpu')?.textContent !== '–', undefined, { timeout: 5000 });
  const before = await text(page, '#uptime');
  await page.waitForFunction((seen) => document.getElementById('uptime')?.textContent !== seen, before, { timeout: 3000 });
  expect(await text(page, '#service')).toBe('acorn');
  expect(await text(page, '#cpu')).toMatch(/^\d+(\.\d+)? %$/);
  expect(await text(page, '#heap')).toMatch(/MiB|KiB/);
  expect(await page.locator('#nics tbody tr').first().textContent()).toContain('10.0.2.15/24');
  expect(await page.locator('#memory-map tbody tr').count()).toBeGreaterThan(5);
  expect(await page.locator('#stats div').count()).toBeGreaterThan(50);
  expect(await text(page, '#ready')).toMatch(/^\d+ ms$/);
  // The stack sampler runs while someone watches: the hottest functions fill in.
  await page.waitForFunction(() => document.querySelectorAll('#hottest .bar').length > 0, undefined, { timeout: 10_000 });
  await page.close();
}, 60_000);

it('lists a TCP connection while the test holds it open, and drops it once closed', async () => {
  const page = await openDashboard(1280, 800);
  const socket: Socket = connect(acorn.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write('GET /api/squirrels HTTP/1.1\r\nHost: acorn\r\n\r\n');
  await new Promise((resolve) => socket.once('data', resolve));
  // QEMU's user networking shows the guest the host's port, from its gateway's address.
  const row = page.locator(`#connections tr[data-remote="10.0.2.2:${socket.localPort}"]`);
  await row.waitFor({ timeout: 5000 });
  expect(await row.textContent()).toMatch(/established/);
  expect(await row.locator('td.num').first().textContent()).toMatch(/^\d+ B$/); // the request's bytes in
  socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
  await row.waitFor({ state: 'detached', timeout: 10_000 });
  await page.close();
}, 60_000);

it('shows a line the service printed in the log', async () => {
  const page = await openDashboard(1280, 800);
  const name = `Browser ${Date.now() % 100000}`;
  const created = await curlJson(`${acorn.base}/api/squirrels`, 'POST', JSON.stringify({ name, species: 'red', nuts: 3 }));
  expect(created.status).toBe(201);
  const line = `squirrel ${JSON.parse(created.text).id} "${name}" created`;
  await page.waitForFunction((wanted) => document.getElementById('log')?.textContent?.includes(wanted), line, { timeout: 5000 });
  await page.close();
}, 60_000);

it('looks right at 1280x800 and on a 390x844 phone (screenshots)', async () => {
  for (const [width, height, name] of [
    [1280, 800, 'dashboard-1280x800'],
    [390, 844, 'dashboard-390x844'],
  ] as const) {
    const page = await openDashboard(width, height);
    await page.waitForFunction(() => document.querySelectorAll('#cpu-spark path').length > 0, undefined, { timeout: 5000 });
    // Nothing sticks out sideways: the page is no wider than the window.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await page.waitForTimeout(2500); // a few points on the charts
    await page.screenshot({ path: join(artifacts, `${name}.png`) });
    if (width === 1280 && process.env.UOS_UPDATE_SCREENSHOTS === '1') {
      // For the README: some traffic for 20 s, so that the charts have a shape.
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        await Promise.all(Array.from({ length: 4 }, () => fetch(`${acorn.base}/api/squirrels`).then((r) => r.arrayBuffer())));
        await new Promise((resolve) => setTimeout(resolve, 150 + (Date.now() % 7) * 60));
      }
      mkdirSync(join(repositoryRoot, 'docs', 'images'), { recursive: true });
      await page.screenshot({ path: join(repositoryRoot, 'docs', 'images', 'acorn-dashboard.png') });
    }
    await page.close();
  }
  expect(existsSync(join(artifacts, 'dashboard-1280x800.png'))).toBe(true);
  expect(existsSync(join(artifacts, 'dashboard-390x844.png'))).toBe(true);
}, 150_000);
