/**
 * Hono on @uos/http in a VM, driven by real clients over a tap device in a network namespace: curl
 * (keep-alive reuse, HEAD, chunked upload, 100-continue), Node's fetch (JSON, sub-apps, middleware,
 * Server-Sent Events), wrk and ab, Python's http.client with pipelining, raw-socket smuggling attempts,
 * 1,000 idle connections while another client gets answers, and a client that stops reading. Afterwards
 * the guest's connection count and heap return to their baseline.
 */
import { ExitStatus, type Vm } from '@uos/vmrunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';
import { type TapLink, createTapLink } from '../../network.js';

const dir = here(import.meta.url);
const HOST = '10.0.2.1';
const GUEST = '10.0.2.15';
const BASE = `http://${GUEST}`;
const MAC = '52:54:00:00:00:05';

const tap = process.env.UOS_TEST_NO_TAP
  ? { unavailable: 'UOS_TEST_NO_TAP is set' }
  : await createTapLink('http', { address: `${HOST}/24` });
if ('unavailable' in tap) console.warn(`@uos/http integration: no tap device (${tap.unavailable}); these tests need one`);
const link: TapLink | undefined = 'unavailable' in tap ? undefined : tap;

type Stats = Record<string, number>;
let statsTag = 0;
async function guestStats(vm: Vm): Promise<Stats> {
  const tag = `s${++statsTag}`;
  vm.write(`stats ${tag}\n`);
  const line = await vm.waitFor(`http: stats ${tag} `);
  return JSON.parse(line.slice(line.indexOf('{'))) as Stats;
}

async function run(command: string, args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return link!.exec(command, args, { timeoutMs });
}

/** Runs a Node script inside the namespace and parses the JSON it prints last. */
async function node(script: string, timeoutMs = 120_000): Promise<unknown> {
  const result = await run(process.execPath, ['--input-type=module', '-e', script], timeoutMs);
  if (result.code !== 0) throw new Error(`node failed (${result.code}): ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

async function python(script: string, timeoutMs = 120_000): Promise<unknown> {
  const result = await run('python3', ['-c', script], timeoutMs);
  if (result.code !== 0) throw new Error(`python3 failed (${result.code}): ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

describe.skipIf(!link)('Hono on @uos/http over a tap device', () => {
  let vm: Vm;
  let baseline: Stats;

  beforeAll(async () => {
    // ARP is the network tests' subject; here a busy guest (1,000 connections closing) must not make Linux
    // give up on its address (EHOSTUNREACH), so the namespace knows it.
    await run('ip', ['neigh', 'replace', GUEST, 'lladdr', MAC, 'dev', link!.tap, 'nud', 'permanent']);
    vm = await boot(dir, {
      args: ['static', `${GUEST}/24`, HOST],
      wrapper: link!.qemuWrapper,
      config: { net: [{ device: 'virtio-net-pci', backend: 'tap', name: link!.tap, mac: MAC }] },
    });
    await vm.waitFor('hono: ready', 60_000);
    // Warm up (ARP, the first request's code paths), then take the baseline.
    expect((await run('curl', ['-sS', '-m', '20', `${BASE}/`])).stdout).toBe('Hello from Hono on uOS');
    baseline = await guestStats(vm);
  }, 120_000);

  afterAll(async () => {
    vm?.kill();
    await link?.close();
  });

  it('serves curl: keep-alive reuse, HEAD, JSON and the server-set headers', async () => {
    const twice = await run('curl', ['-sv', '-m', '20', `${BASE}/`, `${BASE}/api/items/7?q=x`]);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toBe('Hello from Hono on uOS{"id":"7","query":"x"}');
    expect(twice.stderr).toMatch(/Re-using existing connection/);
    // Hono answers HEAD with GET's response minus its body, so there is no length to tell; the head is GET's.
    const head = await run('curl', ['-sS', '-I', '-m', '20', `${BASE}/static/page`]);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.stdout).not.toMatch(/Content-Length: 0/i);
    expect(head.stdout).toMatch(/\r\ncontent-type: text\/html; charset=UTF-8\r\n/);
    expect(head.stdout).toMatch(/\r\netag: "[0-9a-f]{40}"\r\n/);
    expect(head.stdout).toMatch(/\r\nDate: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\r\n/);
    expect(head.stdout).toMatch(/\r\nx-content-type-options: nosniff\r\n/);
  });

  it('takes a chunked upload and an upload that expects 100 Continue', async () => {
    const script = `
      const { createHash, randomBytes } = await import('node:crypto');
      const body = randomBytes(300 * 1024);
      const expected = createHash('sha256').update(body).digest('hex');
      const { writeFileSync } = await import('node:fs');
      writeFileSync('/tmp/uos-http-upload-${process.pid}', body);
      console.log(JSON.stringify({ expected }));`;
    const { expected } = (await node(script)) as { expected: string };
    const file = `@/tmp/uos-http-upload-${process.pid}`;
    const chunked = await run('curl', ['-sS', '-m', '60', '-H', 'Transfer-Encoding: chunked', '--data-binary', file, `${BASE}/upload`]);
    expect(JSON.parse(chunked.stdout)).toEqual({ bytes: 300 * 1024, sha256: expected });
    const expecting = await run('curl', ['-sv', '-m', '60', '-H', 'Expect: 100-continue', '--data-binary', file, `${BASE}/upload`]);
    expect(expecting.stderr).toMatch(/HTTP\/1\.1 100 Continue/);
    expect(JSON.parse(expecting.stdout)).toEqual({ bytes: 300 * 1024, sha256: expected });
    await run('rm', ['-f', `/tmp/uos-http-upload-${process.pid}`]);
  }, 120_000);

  it("serves Node's fetch: sub-app JSON, CORS, ETag revalidation, basic auth, remote address, errors", async () => {
    const result = (await node(`
      const base = '${BASE}';
      const echo = await fetch(base + '/api/echo', { method: 'POST', body: JSON.stringify({ a: [1, 2] }), headers: { 'content-type': 'application/json', origin: 'http://example.test' } });
      const preflight = await fetch(base + '/api/echo', { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' } });
      const page = await fetch(base + '/static/page');
      const etag = page.headers.get('etag');
      await page.text();
      const again = await fetch(base + '/static/page', { headers: { 'if-none-match': etag } });
      const denied = await fetch(base + '/admin/panel');
      const allowed = await fetch(base + '/admin/panel', { headers: { authorization: 'Basic ' + Buffer.from('admin:secret').toString('base64') } });
      const conn = await (await fetch(base + '/conn')).json();
      const failing = await fetch(base + '/fail');
      const missing = await fetch(base + '/no/such/route');
      console.log(JSON.stringify({
        echo: [echo.status, await echo.json(), echo.headers.get('access-control-allow-origin')],
        preflight: [preflight.status, preflight.headers.get('access-control-allow-methods')],
        revalidated: [again.status, again.headers.get('etag') === etag, (await again.text()).length],
        auth: [denied.status, denied.headers.get('www-authenticate'), allowed.status, await allowed.text()],
        conn,
        failing: [failing.status, await failing.text()],
        missing: missing.status,
      }));`)) as Record<string, unknown>;
    expect(result).toEqual({
      echo: [201, { received: { a: [1, 2] } }, 'http://example.test'],
      preflight: [204, expect.stringContaining('POST')],
      revalidated: [304, true, 0],
      auth: [401, expect.stringContaining('Basic'), 200, 'welcome, admin'],
      conn: { hostname: HOST, port: expect.any(Number), transport: 'tcp' },
      failing: [500, 'failed: this route fails on purpose'],
      missing: 404,
    });
  });

  it('streams Server-Sent Events as they are written', async () => {
    const result = (await node(`
      const started = Date.now();
      const response = await fetch('${BASE}/events?count=5&every=200');
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const arrivals = [];
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        arrivals.push(Date.now() - started);
      }
      console.log(JSON.stringify({ type: response.headers.get('content-type'), encoding: response.headers.get('transfer-encoding'), text, arrivals }));`)) as {
      type: string;
      encoding: string;
      text: string;
      arrivals: number[];
    };
    expect(result.type).toBe('text/event-stream');
    expect(result.encoding).toBe('chunked');
    expect(result.text.match(/event: tick\ndata: \{"i":(\d)\}\nid: \1\n\n/g)).toHaveLength(5);
    // The events came one by one over a second, not all at the end.
    expect(result.arrivals.length).toBeGreaterThanOrEqual(4);
    expect(result.arrivals[result.arrivals.length - 1]! - result.arrivals[0]!).toBeGreaterThan(500);
  });

  it('answers pipelined requests in order (Python http.client)', async () => {
    const result = (await python(`
import http.client, io, json, socket
sock = socket.create_connection(('${GUEST}', 80), timeout=30)
paths = ['/api/items/%d' % i for i in range(20)]
sock.sendall(b''.join(('GET %s HTTP/1.1\\r\\nHost: guest\\r\\n\\r\\n' % p).encode() for p in paths))
# One buffered reader for all the responses (each HTTPResponse would otherwise read ahead into the next).
class KeepOpen(io.BufferedReader):
    def close(self):
        pass
shared = KeepOpen(socket.SocketIO(sock, 'rb'))
class Source:
    def makefile(self, *args, **kwargs):
        return shared
ids = []
for p in paths:
    response = http.client.HTTPResponse(Source(), method='GET')
    response.begin()
    ids.append(json.loads(response.read())['id'])
print(json.dumps({'ids': ids}))
`)) as { ids: string[] };
    expect(result.ids).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('refuses smuggling attempts on raw sockets with 400 and closes, and keeps serving', async () => {
    const attempts = [
      'POST / HTTP/1.1\\r\\nHost: g\\r\\nContent-Length: 6\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\nGET /admin/panel HTTP/1.1\\r\\nHost: g\\r\\n\\r\\n',
      'POST / HTTP/1.1\\r\\nHost: g\\r\\nContent-Length: 5\\r\\nContent-Length: 6\\r\\n\\r\\nhello!',
      'POST / HTTP/1.1\\r\\nHost: g\\r\\nTransfer-Encoding : chunked\\r\\n\\r\\n0\\r\\n\\r\\n',
      'POST / HTTP/1.1\\r\\nHost: g\\r\\nTransfer-Encoding: chunked, identity\\r\\n\\r\\n0\\r\\n\\r\\n',
      'GET / HTTP/1.1\\r\\nHost: g\\r\\nX-Fold: a\\r\\n b\\r\\n\\r\\n',
      'GET / HTTP/1.1\\nHost: g\\n\\n',
      'POST / HTTP/1.1\\r\\nHost: g\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5 \\r\\nhello\\r\\n0\\r\\n\\r\\n',
      'GET /\\r\\n\\r\\n',
      'GET / HTTP/1.1\\r\\n\\r\\n',
    ];
    const result = (await node(`
      const net = await import('node:net');
      const attempts = ${JSON.stringify(attempts)}.map((a) => a.replace(/\\\\r/g, '\\r').replace(/\\\\n/g, '\\n'));
      const answers = [];
      for (const attempt of attempts) {
        answers.push(await new Promise((resolve) => {
          const socket = net.connect(80, '${GUEST}');
          let text = '';
          socket.on('data', (d) => (text += d));
          socket.on('close', () => resolve(text.split('\\r\\n')[0] + (text.includes('Connection: close') ? ' [close]' : '')));
          socket.on('error', () => {});
          socket.setTimeout(20000, () => { resolve('timeout'); socket.destroy(); });
          socket.write(attempt);
        }));
      }
      console.log(JSON.stringify(answers));`)) as string[];
    expect(result).toEqual(attempts.map(() => 'HTTP/1.1 400 Bad Request [close]'));
    const stats = await guestStats(vm);
    expect(stats.parse_errors_conflicting_framing! - baseline.parse_errors_conflicting_framing!).toBe(1);
    expect(stats.parse_errors_missing_host! - baseline.parse_errors_missing_host!).toBe(1);
    expect((await run('curl', ['-sS', '-m', '20', `${BASE}/`])).stdout).toBe('Hello from Hono on uOS');
  });

  it('keeps answering another client while 1,000 idle connections are open', async () => {
    const result = (await node(
      `
      const net = await import('node:net');
      const { execFileSync } = await import('node:child_process');
      const sockets = [];
      // A hundred at a time: the guest's listen backlog takes 128 half-open connections.
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 100 }, () => new Promise((resolve, reject) => {
          const socket = net.connect(80, '${GUEST}', () => resolve());
          socket.on('error', reject);
          sockets.push(socket);
        })));
      }
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(execFileSync('curl', ['-sS', '-m', '30', '${BASE}/api/items/' + i]).toString());
      console.log(JSON.stringify({ open: sockets.filter((s) => !s.destroyed).length, answers }));
      for (const socket of sockets) socket.destroy();`,
      300_000,
    )) as { open: number; answers: string[] };
    expect(result.open).toBe(1000);
    expect(result.answers).toEqual(Array.from({ length: 5 }, (_, i) => `{"id":"${i}","query":null}`));
    // The client closed them all: the guest lets every one go.
    await expect.poll(async () => (await guestStats(vm)).connections, { timeout: 180_000, interval: 2000 }).toBe(0);
  }, 600_000);

  it('holds a client that stops reading (zero window) to a bounded amount of guest memory', async () => {
    await expect.poll(async () => (await guestStats(vm)).connections, { timeout: 120_000, interval: 2000 }).toBe(0);
    const before = await guestStats(vm);
    const release = `/tmp/uos-http-release-${process.pid}`;
    await run('rm', ['-f', release]);
    const client = python(
      `
import json, os, socket, time
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
sock.connect(('${GUEST}', 80))
sock.sendall(b'GET /stream/65536 HTTP/1.1\\r\\nHost: guest\\r\\n\\r\\n')
# Hold without reading until the test has its figures (it creates the file), 60 s at most.
for _ in range(600):
    if os.path.exists('${release}'):
        break
    time.sleep(0.1)
print(json.dumps({'held': True}))
sock.close()
`,
      120_000,
    );
    // Wait until the response is under way and has stopped moving: the same bytes sent two seconds apart.
    let stalled = before;
    let later = before;
    await expect
      .poll(
        async () => {
          stalled = later;
          later = await guestStats(vm);
          return later.connections === 1 && later.bytes_tx! > before.bytes_tx! && later.bytes_tx === stalled.bytes_tx;
        },
        { timeout: 40_000, interval: 2000 },
      )
      .toBe(true);
    await run('touch', [release]);
    expect(await client).toEqual({ held: true });
    await run('rm', ['-f', release]);
    // A 64 MiB response to a client that reads nothing: the guest sent what the window took and holds one
    // send buffer; the stream is pulled no further, so neither bytes nor heap grow while it waits.
    expect(stalled.connections).toBe(1);
    expect(stalled.bytes_tx! - before.bytes_tx!).toBeLessThan(512 * 1024);
    expect(later.bytes_tx).toBe(stalled.bytes_tx);
    expect(stalled.heapUsedBytes! - before.heapUsedBytes!).toBeLessThan(1024 * 1024);
    expect(later.heapUsedBytes! - stalled.heapUsedBytes!).toBeLessThan(64 * 1024);
  }, 240_000);

  it('handles wrk and ab, and afterwards its connections and heap are back to their baseline', async () => {
    const wrk = await run('wrk', ['-t1', '-c10', '-d3s', `${BASE}/`], 60_000);
    expect(wrk.code).toBe(0);
    expect(wrk.stdout).not.toMatch(/Non-2xx|Socket errors/);
    const requests = Number(/(\d+) requests in/.exec(wrk.stdout)?.[1]);
    expect(requests).toBeGreaterThan(50);
    const ab = await run('ab', ['-n', '300', '-c', '10', `${BASE}/api/items/1`], 120_000);
    expect(ab.stdout).toMatch(/Complete requests:\s+300/);
    expect(ab.stdout).toMatch(/Failed requests:\s+0/);
    const abKeepAlive = await run('ab', ['-k', '-n', '300', '-c', '10', `${BASE}/`], 120_000);
    expect(abKeepAlive.stdout).toMatch(/Failed requests:\s+0/);
    expect(abKeepAlive.stdout).toMatch(/Keep-Alive requests:\s+300/);
    // Every connection gone, down to TCP's (the server's TIME-WAITs last 2 s).
    await expect
      .poll(
        async () => {
          const stats = await guestStats(vm);
          return [stats.connections, stats.tcpConnections];
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toEqual([0, 0]);
    // The heap too, once the kernel's timer queue lets go of cancelled timers (their closures hold closed
    // connections until the time they were set for: TCP's persist timer backs off to a minute).
    let after = await guestStats(vm);
    const samples: number[] = [];
    await expect
      .poll(
        async () => {
          after = await guestStats(vm);
          samples.push(after.heapUsedBytes! - baseline.heapUsedBytes!);
          return after.heapUsedBytes! - baseline.heapUsedBytes!;
        },
        { timeout: 120_000, interval: 5000 },
      )
      .toBeLessThan(512 * 1024);
    console.info(`heap above baseline while it settled: ${samples.join(', ')}`);
    expect(after.connections_active).toBe(0);
    console.info(
      `wrk ${requests} requests in 3 s; guest heap ${baseline.heapUsedBytes} -> ${after.heapUsedBytes} bytes after ${after.requests} requests`,
    );
    vm.write('quit\n');
    await vm.expectExit(ExitStatus.ok);
  }, 300_000);
});
