/**
 * Acorn booted as a user boots it (`uos boot examples/acorn --publish <port>:80`), driven with curl: the
 * squirrels API (CRUD, bad JSON, validation, unknown routes), the static files from the image (ETag and
 * 304, gzip and brotli, ranges, traversal attempts), the single-page-app fallback, the stats feeds and
 * /metrics checked by Prometheus's own `promtool check metrics`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BootedAcorn, acornDir, bootAcorn, curl, curlJson } from './acorn-host.js';

let acorn: BootedAcorn;
const file = (path: string): Buffer => readFileSync(join(acornDir, 'public', path));

beforeAll(async () => {
  acorn = await bootAcorn();
}, 180_000);
afterAll(async () => {
  await acorn?.stop();
});

describe('the runner', () => {
  it('says where the service listens and where to point a browser', () => {
    expect(acorn.output()).toMatch(/^acorn: listening on http:\/\/10\.0\.2\.15:80\//m);
    expect(acorn.output()).toContain(`uos: open http://localhost:${acorn.port}/ (the guest's port 80`);
    expect(acorn.output()).toMatch(/^uos: {3}assets from .*public\/: \d+ files/m);
  });
});

describe('/api/squirrels', () => {
  const api = () => `${acorn.base}/api/squirrels`;

  it('lists the seeded squirrels as JSON', async () => {
    const list = await curl(api());
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(list.text);
    expect(body.count).toBeGreaterThanOrEqual(3);
    expect(body.squirrels.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['Nutkin', 'Hazel', 'Rocket']));
    const greys = JSON.parse((await curl(`${api()}?species=grey`)).text);
    expect(greys.squirrels.every((s: { species: string }) => s.species === 'grey')).toBe(true);
  });

  it('creates, reads, replaces, updates and deletes a squirrel', async () => {
    const created = await curlJson(api(), 'POST', JSON.stringify({ name: '  Acorn Tester ', species: 'fox', nuts: 12 }));
    expect(created.status).toBe(201);
    const squirrel = JSON.parse(created.text);
    expect(squirrel).toMatchObject({ name: 'Acorn Tester', species: 'fox', nuts: 12, notes: '' });
    expect(created.headers.location).toBe(`/api/squirrels/${squirrel.id}`);
    const one = `${api()}/${squirrel.id}`;
    expect(JSON.parse((await curl(one)).text)).toEqual(squirrel);

    const replaced = await curlJson(one, 'PUT', JSON.stringify({ name: 'Replaced', species: 'red', nuts: 1, notes: 'n' }));
    expect([replaced.status, JSON.parse(replaced.text).name]).toEqual([200, 'Replaced']);
    const patched = await curlJson(one, 'PATCH', JSON.stringify({ nuts: 99 }));
    expect(JSON.parse(patched.text)).toMatchObject({ name: 'Replaced', nuts: 99, species: 'red' });

    expect((await curl(one, '-X', 'DELETE')).status).toBe(204);
    const gone = await curl(one);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.text)).toMatchObject({ error: 'not-found' });
    expect((await curl(one, '-X', 'DELETE')).status).toBe(404);
    await acorn.waitFor(new RegExp(`^acorn: squirrel ${squirrel.id} "Replaced" deleted`), 10_000);
  });

  it('answers bad JSON, invalid fields and other media types with JSON errors', async () => {
    const badJson = await curlJson(api(), 'POST', '{"name": "Nutkin",');
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.text)).toMatchObject({ error: 'invalid-json' });

    const invalid = await curlJson(api(), 'POST', JSON.stringify({ name: '', species: 'blue', nuts: -1.5, extra: true }));
    expect(invalid.status).toBe(400);
    const problem = JSON.parse(invalid.text);
    expect(problem.error).toBe('validation');
    expect(problem.issues.map((i: { field: string }) => i.field)).toEqual(expect.arrayContaining(['name', 'species', 'nuts', 'extra']));

    expect((await curlJson(api(), 'POST', 'name=x', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await curlJson(`${api()}/1`, 'PATCH', JSON.stringify({ nuts: 'many' }))).status).toBe(400);
    expect((await curlJson(`${api()}/1`, 'PUT', JSON.stringify({ nuts: 1 }))).status).toBe(400);
  });

  it('answers unknown routes and methods with JSON', async () => {
    const unknown = await curl(`${acorn.base}/api/acorns`);
    expect([unknown.status, JSON.parse(unknown.text).error]).toEqual([404, 'not-found']);
    expect((await curl(`${api()}/not-a-number`)).status).toBe(404);
    expect((await curl(`${api()}/0`)).status).toBe(404);
    const method = await curl(api(), '-X', 'DELETE');
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe('GET, HEAD, POST');
  });
});

describe('static files from the image', () => {
  it('serves a file with its type and a strong ETag, and 304 when it is unchanged', async () => {
    const css = await curl(`${acorn.base}/style.css`);
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers.etag).toMatch(/^"[\w-]{22}"$/);
    expect(css.body.equals(file('style.css'))).toBe(true);
    const again = await curl(`${acorn.base}/style.css`, '-H', `If-None-Match: ${css.headers.etag}`);
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(css.headers.etag);
    expect((await curl(`${acorn.base}/`)).text).toBe(file('index.html').toString('utf8'));
  });

  it('sends gzip or brotli as the client accepts, with Vary', async () => {
    const gzip = await curl(`${acorn.base}/app.js`, '-H', 'Accept-Encoding: gzip');
    expect([gzip.headers['content-encoding'], gzip.headers.vary]).toEqual(['gzip', 'Accept-Encoding']);
    expect(gunzipSync(gzip.body).equals(file('app.js'))).toBe(true);
    expect(gzip.body.length).toBeLessThan(file('app.js').length);
    const br = await curl(`${acorn.base}/app.js`, '-H', 'Accept-Encoding: gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(file('app.js'))).toBe(true);
    expect(br.headers.etag).not.toBe(gzip.headers.etag);
    const plain = await curl(`${acorn.base}/app.js`);
    expect(plain.headers['content-encoding']).toBeUndefined();
  });

  it('serves byte ranges, and 416 outside the file', async () => {
    const css = file('style.css');
    const part = await curl(`${acorn.base}/style.css`, '-H', 'Range: bytes=100-199', '-H', 'Accept-Encoding: br');
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${css.length}`);
    expect(part.body.equals(css.subarray(100, 200))).toBe(true);
    const tail = await curl(`${acorn.base}/style.css`, '-H', 'Range: bytes=-10');
    expect(tail.body.equals(css.subarray(css.length - 10))).toBe(true);
    const outside = await curl(`${acorn.base}/style.css`, '-H', `Range: bytes=${css.length}-`);
    expect([outside.status, outside.headers['content-range']]).toEqual([416, `bytes */${css.length}`]);
  });

  it.each([
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2fetc%2fpasswd',
    '/dashboard%2f..%2f..%2fsecret',
    '/..%5c..%5cwindows%5cwin.ini',
    '/style.css%00.png',
    '/%00',
  ])('answers the traversal attempt %s with 400 or 404', async (path) => {
    const response = await curl(`${acorn.base}${path}`);
    expect([400, 404]).toContain(response.status);
    expect(response.text).not.toMatch(/root:|\[fonts\]/);
  });

  it('answers a missing file with 404', async () => {
    const missing = await curl(`${acorn.base}/missing.png`);
    expect(missing.status).toBe(404);
    expect((await curl(`${acorn.base}/etc/passwd`)).status).toBe(404);
  });
});

describe('the single-page app and the dashboard page', () => {
  it("answers the app's client-side routes with its page", async () => {
    const index = file('index.html').toString('utf8');
    for (const path of ['/squirrels', '/squirrels/2', '/squirrels/no-such-squirrel']) {
      const page = await curl(`${acorn.base}${path}`);
      expect([path, page.status, page.headers['content-type']]).toEqual([path, 200, 'text/html; charset=utf-8']);
      expect(page.text).toBe(index);
    }
  });

  it('serves the dashboard at /dashboard', async () => {
    const dashboard = await curl(`${acorn.base}/dashboard`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toBe(file('dashboard/index.html').toString('utf8'));
    expect((await curl(`${acorn.base}/dashboard/dashboard.js`)).status).toBe(200);
    expect(dashboard.text).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing from elsewhere
  });
});

describe('the dashboard feeds', () => {
  it('/api/stats has every part of the dashboard', async () => {
    const stats = JSON.parse((await curl(`${acorn.base}/api/stats`)).text);
    expect(stats.build.service).toBe('acorn');
    expect(stats.build.packages).toEqual(
      expect.arrayContaining([expect.stringMatching(/^hono@4\./), expect.stringMatching(/^@uos\/http@/)]),
    );
    expect(stats.cpu.totalCycles).toBeGreaterThan(stats.cpu.haltedCycles);
    expect(stats.memory.map.map((r: { name: string }) => r.name)).toContain('service payload');
    expect(stats.nics[0]).toMatchObject({ name: 'eth0', driver: 'virtio-net', address: '10.0.2.15/24' });
    expect(stats.connections.length).toBeGreaterThan(0);
    expect(stats.connections[0]).toMatchObject({ local: '10.0.2.15:80', state: expect.any(String), bytesIn: expect.any(Number) });
    expect(stats.stats['eth0.tcp.connections_active']).toBeGreaterThan(0);
    expect(stats.log).toEqual(expect.arrayContaining([expect.stringMatching(/^acorn: listening on/)]));
  });

  it('/api/stats/stream sends a snapshot a second as Server-Sent Events', () => {
    const run = spawnSync('curl', ['-sS', '-N', '--max-time', '3.5', `${acorn.base}/api/stats/stream`], { encoding: 'utf8' });
    expect(run.status).toBe(28); // curl stops at --max-time: the stream goes on
    const events = run.stdout.split('\n\n').filter((e) => e.includes('event: stats'));
    expect(events.length).toBeGreaterThanOrEqual(3);
    const uptimes = events.map((e) => JSON.parse(/^data: (.*)$/m.exec(e)![1]!).uptimeMs as number);
    expect(uptimes[2]! - uptimes[0]!).toBeGreaterThanOrEqual(1500);
  });

  it('/metrics passes promtool check metrics', async () => {
    const metrics = await curl(`${acorn.base}/metrics`);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.text).toMatch(/^uos_uptime_seconds \d/m);
    expect(metrics.text).toMatch(/^uos_tcp_segments_rx_total\{interface="eth0"\} \d+/m);
    expect(metrics.text).toMatch(/^uos_http_requests_total\{interface="eth0",port="80"\} \d+/m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics.text, encoding: 'utf8' });
    if (check.error) throw new Error(`promtool did not run (${check.error.message}): sh scripts/bootstrap.sh installs Debian's prometheus`);
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
  });
});

it('promtool is the real one', () => {
  expect(execFileSync('promtool', ['--version'], { encoding: 'utf8' })).toMatch(/promtool, version 2\./);
});
