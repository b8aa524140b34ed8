import { describe, expect, it, vi } from 'vitest';
import { settle, sleep, testServer } from '../testing/test-server.js';
import type { Request } from '../web/request.js';
import { Response } from '../web/response.js';
import { ReadableStream } from '../web/streams.js';
import { utf8Encode } from '../web/text.js';
import { URL } from '../web/url/url.js';

const GET = (path = '/', extra = '') => `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;

/** Splits a stream of responses into [head, body] pairs using their Content-Length. */
function responses(text: string): { head: string; status: number; headers: Record<string, string>; body: string }[] {
  const out = [];
  let rest = text;
  while (rest.length) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    const lines = head.split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    out.push({ head, status: Number(lines[0]!.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

describe('serving', () => {
  it('answers a GET with Content-Length, Date and the body in one write, and keeps the connection', async () => {
    const server = testServer((request) => new Response(`hello ${new URL(request.url).pathname}`));
    const socket = server.connect();
    socket.send(GET('/world'));
    await settle();
    const [response] = responses(socket.received);
    expect(response!.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response!.headers).toMatchObject({ 'content-type': 'text/plain;charset=UTF-8', 'content-length': '12' });
    expect(response!.headers.date).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    expect(response!.headers.connection).toBeUndefined();
    expect(response!.body).toBe('hello /world');
    expect(socket.closed).toBe(false);
    expect(server.core.connectionCount).toBe(1);
  });

  it('gives the handler the request as sent: method, URL, headers, remote address', async () => {
    let seen: { method: string; url: string; agent: string | null; env: unknown } | undefined;
    const server = testServer((request, env) => {
      seen = { method: request.method, url: request.url, agent: request.headers.get('user-agent'), env: env.remoteAddr };
      return new Response(null, { status: 204 });
    });
    const socket = server.connect();
    socket.send('DELETE /items/7?force=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: test/1\r\n\r\n');
    await settle();
    expect(seen).toEqual({
      method: 'DELETE',
      url: 'http://example.com:8080/items/7?force=1',
      agent: 'test/1',
      env: { hostname: '10.0.2.2', port: 40000, transport: 'tcp' },
    });
    expect(socket.received).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    expect(socket.received).not.toMatch(/content-length/i);
  });

  it('answers pipelined requests in order, one at a time, even when the first is slow', async () => {
    const order: string[] = [];
    const server = testServer(async (request) => {
      const path = new URL(request.url).pathname;
      order.push(`start ${path}`);
      if (path === '/slow') await sleep(20);
      order.push(`end ${path}`);
      return new Response(path);
    });
    const socket = server.connect();
    socket.send(GET('/slow') + GET('/fast') + GET('/third'));
    await sleep(50);
    expect(order).toEqual(['start /slow', 'end /slow', 'start /fast', 'end /fast', 'start /third', 'end /third']);
    expect(responses(socket.received).map((r) => r.body)).toEqual(['/slow', '/fast', '/third']);
  });

  it('closes after an HTTP/1.0 request, and keeps a 1.0 connection that asks for keep-alive', async () => {
    const server = testServer(() => new Response('ok'));
    const plain = server.connect();
    plain.send('GET / HTTP/1.0\r\n\r\n');
    await settle();
    expect(plain.received).toContain('Connection: close\r\n');
    expect(plain.closed).toBe(true);
    const kept = server.connect();
    kept.send('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await settle();
    expect(kept.received).toContain('Connection: keep-alive\r\n');
    expect(kept.closed).toBe(false);
  });

  it('closes after a request with Connection: close, ignoring what follows it', async () => {
    let calls = 0;
    const server = testServer(() => {
      calls++;
      return new Response('ok');
    });
    const socket = server.connect();
    socket.send(GET('/', 'Connection: close\r\n') + GET('/after'));
    await settle();
    expect(calls).toBe(1);
    expect(socket.received).toContain('Connection: close\r\n');
    expect(socket.closed).toBe(true);
  });

  it('answers HEAD with the GET headers (Content-Length included) and no body', async () => {
    const server = testServer(() => new Response('twelve bytes'));
    const socket = server.connect();
    socket.send('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n');
    socket.send(GET('/next'));
    await settle();
    expect(socket.received.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    const first = socket.received.slice(0, socket.received.indexOf('\r\n\r\n') + 4);
    expect(first).toContain('Content-Length: 12\r\n');
    expect(socket.received.slice(first.length)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('reads a Content-Length body and a chunked body', async () => {
    const server = testServer(async (request) => new Response(JSON.stringify(await request.json())));
    const socket = server.connect();
    socket.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n{"a":[1,2,3]}');
    socket.send('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"b"\r\n5\r\n:true\r\n1\r\n}\r\n0\r\n\r\n');
    await settle();
    expect(responses(socket.received).map((r) => r.body)).toEqual(['{"a":[1,2,3]}', '{"b":true}']);
  });

  it('streams a request body to a handler that reads it as a stream', async () => {
    const chunks: number[] = [];
    const server = testServer(async (request) => {
      for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk.length);
      return new Response(`${chunks.reduce((a, b) => a + b, 0)}`);
    });
    const socket = server.connect();
    socket.send('PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234');
    await settle();
    socket.send('56789');
    await settle();
    expect(chunks).toEqual([5, 5]);
    expect(responses(socket.received)[0]!.body).toBe('10');
  });

  it('sends 100 Continue when the handler reads a body the client holds back', async () => {
    const server = testServer(async (request) => new Response(await request.text()));
    const socket = server.connect();
    socket.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await settle();
    expect(socket.received).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    socket.send('hello');
    await settle();
    expect(socket.received.slice(25)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
    expect(socket.closed).toBe(false);
  });

  it('answers without 100 Continue when the handler does not read, and closes', async () => {
    const server = testServer(() => new Response('no thanks', { status: 403 }));
    const socket = server.connect();
    socket.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await settle();
    expect(socket.received).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(socket.received).toContain('Connection: close\r\n');
    expect(socket.closed).toBe(true);
  });

  it('reads and drops a small body the handler ignored, and serves the next request', async () => {
    const server = testServer((request) => new Response(new URL(request.url).pathname));
    const socket = server.connect();
    socket.send('POST /ignored HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234');
    await settle();
    socket.send(`56789${GET('/next')}`);
    await settle();
    expect(responses(socket.received).map((r) => r.body)).toEqual(['/ignored', '/next']);
  });
});

describe('streaming responses', () => {
  it('sends a stream chunked in HTTP/1.1 and close-delimited in 1.0', async () => {
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(utf8Encode('data: one\n\n'));
          controller.enqueue(utf8Encode('data: two\n\n'));
          controller.close();
        },
      });
    const server = testServer(() => new Response(stream(), { headers: { 'content-type': 'text/event-stream', connection: 'keep-alive' } }));
    const socket = server.connect();
    socket.send(GET());
    await settle();
    expect(socket.received).toMatch(/Transfer-Encoding: chunked\r\n/);
    expect(socket.received).not.toMatch(/connection: keep-alive/i);
    expect(socket.received.slice(socket.received.indexOf('\r\n\r\n') + 4)).toBe('b\r\ndata: one\n\n\r\nb\r\ndata: two\n\n\r\n0\r\n\r\n');
    const old = server.connect();
    old.send('GET / HTTP/1.0\r\n\r\n');
    await settle();
    expect(old.received).not.toMatch(/Transfer-Encoding/);
    expect(old.received.endsWith('\r\n\r\ndata: one\n\ndata: two\n\n')).toBe(true);
    expect(old.closed).toBe(true);
  });

  it('pulls a stream no faster than the client reads: a client that stops reading costs one send buffer', async () => {
    let pulls = 0;
    const chunk = new Uint8Array(1000).fill(120);
    const server = testServer(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulls++;
              controller.enqueue(chunk);
              if (pulls === 500) controller.close();
            },
          }),
        ),
    );
    const socket = server.connect(4096, false);
    socket.send(GET());
    await settle();
    await settle();
    const stalledAt = pulls;
    expect(socket.pendingBytes).toBeLessThanOrEqual(4096);
    expect(stalledAt).toBeLessThan(12); // the send buffer's worth and the stream's own queue
    await settle();
    expect(pulls).toBe(stalledAt);
    let text = '';
    for (let i = 0; i < 2000 && !text.endsWith('0\r\n\r\n'); i++) {
      text += socket.read();
      await settle();
    }
    expect(pulls).toBe(500);
    expect(text.length).toBeGreaterThan(500_000);
  });

  it('cancels the stream and aborts the request signal when the client goes away', async () => {
    let cancelled: unknown;
    let aborted = false;
    const server = testServer((request: Request) => {
      request.signal.addEventListener('abort', () => (aborted = true));
      return new Response(
        new ReadableStream<Uint8Array>({
          pull: () => new Promise(() => {}),
          cancel(reason) {
            cancelled = reason ?? 'cancelled';
          },
        }),
      );
    });
    const socket = server.connect();
    socket.send(GET('/events'));
    await settle();
    socket.reset();
    await settle();
    expect(cancelled).toBeDefined();
    expect(aborted).toBe(true);
    expect(server.core.connectionCount).toBe(0);
    expect(server.core.snapshot().responses_aborted).toBe(1);
  });
});

describe('refusals', () => {
  it('answers a malformed request with its status, counts it and closes', async () => {
    const server = testServer(() => new Response('never'));
    const cases: [string, number, string][] = [
      ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'conflicting_framing'],
      ['GET / HTTP/1.1\r\n\r\n', 400, 'missing_host'],
      ['GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505, 'unsupported_version'],
      ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501, 'unsupported_transfer_coding'],
    ];
    for (const [input, status, kind] of cases) {
      const socket = server.connect();
      socket.send(input);
      await settle();
      expect(socket.received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(socket.received).toContain('Connection: close\r\n');
      expect(socket.closed).toBe(true);
      expect(server.core.snapshot()[`parse_errors_${kind}` as 'requests']).toBe(1);
    }
  });

  it('answers 413, 414 and 431 at the configured limits', async () => {
    const server = testServer(() => new Response('ok'), { maxBodyBytes: 10, maxRequestLineBytes: 64, maxHeadBytes: 256, maxHeaders: 4 });
    const expectStatus = async (input: string, status: number) => {
      const socket = server.connect();
      socket.send(input);
      await settle();
      expect(socket.received.slice(0, 12)).toBe(`HTTP/1.1 ${status}`);
    };
    await expectStatus('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n', 413);
    await expectStatus(`GET /${'a'.repeat(80)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414);
    await expectStatus(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(300)}\r\n\r\n`, 431);
    await expectStatus('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n', 431);
    await expectStatus('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 200);
  });

  it('answers 500 when the handler throws, rejects or returns no Response, and tells onError', async () => {
    const handlers = [
      () => {
        throw new Error('boom');
      },
      () => Promise.reject(new Error('async boom')),
      () => 'not a response' as unknown as Response,
    ];
    for (const handler of handlers) {
      const server = testServer(handler);
      const socket = server.connect();
      socket.send(GET());
      await settle();
      expect(socket.received).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
      expect(server.errors).toHaveLength(1);
      expect(server.core.snapshot().handler_errors).toBe(1);
    }
  });

  it('refuses a connection past maxConnections with 503', async () => {
    const server = testServer(() => new Response('ok'), { maxConnections: 2 });
    server.connect();
    server.connect();
    const third = server.connect();
    expect(third.received).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(third.closed).toBe(true);
    expect(server.core.connectionCount).toBe(2);
    expect(server.core.snapshot().connections_refused).toBe(1);
  });
});

describe('timeouts', () => {
  it('answers 408 to a head that does not complete in headersTimeoutMs (slowloris)', async () => {
    const server = testServer(() => new Response('ok'), { headersTimeoutMs: 2000 });
    const socket = server.connect();
    socket.send('GET / HTTP/1.1\r\nHost: a\r\n');
    server.clock.advance(1000);
    socket.send('X-Slow: 1\r\n');
    expect(socket.received).toBe('');
    server.clock.advance(1600);
    expect(socket.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(socket.closed).toBe(true);
    expect(server.core.snapshot().timeouts_headers).toBe(1);
  });

  it('closes a connection that sends nothing, and an idle keep-alive connection', async () => {
    const server = testServer(() => new Response('ok'), { headersTimeoutMs: 3000, keepAliveTimeoutMs: 1000 });
    const silent = server.connect();
    const idle = server.connect();
    idle.send(GET());
    await settle();
    server.clock.advance(1600);
    expect(idle.closed).toBe(true);
    expect(silent.closed).toBe(false);
    server.clock.advance(2000);
    expect(silent.closed).toBe(true);
    expect(silent.received).toBe('');
    expect(server.core.snapshot()).toMatchObject({ timeouts_keep_alive: 1, timeouts_headers: 1 });
  });

  it('answers 408 when a body the handler waits for stops coming', async () => {
    const server = testServer(async (request) => new Response(await request.text()), { bodyTimeoutMs: 5000 });
    const socket = server.connect();
    socket.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234');
    await settle();
    server.clock.advance(4000);
    socket.send('5');
    server.clock.advance(4000);
    expect(socket.received).toBe('');
    server.clock.advance(1600);
    expect(socket.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(server.core.snapshot().timeouts_body).toBe(1);
  });
});

describe('backpressure on request bodies', () => {
  it('stops reading the socket while a large body waits for its reader', async () => {
    let release: (() => void) | undefined;
    const server = testServer(
      async (request) => {
        await new Promise<void>((resolve) => (release = resolve));
        return new Response(`${(await request.arrayBuffer()).byteLength}`);
      },
      { maxBodyBytes: 1 << 20 },
    );
    const socket = server.connect();
    const size = 512 * 1024;
    socket.send(`PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
    for (let i = 0; i < size / 8192; i++) socket.send(new Uint8Array(8192));
    await settle();
    expect(socket.paused).toBe(true);
    release!();
    await settle();
    await settle();
    expect(responses(socket.received)[0]!.body).toBe(String(size));
  });
});

describe('the execution context and closing the server', () => {
  it('answers without waiting for ctx.waitUntil work, and reports a waitUntil promise that rejects', async () => {
    const hostConsole = (globalThis as unknown as { console: { error(...data: unknown[]): void } }).console;
    const reported = vi.spyOn(hostConsole, 'error').mockImplementation(() => {});
    try {
      let finish!: () => void;
      const work = new Promise<void>((resolve) => (finish = resolve));
      const server = testServer((_request, _env, ctx) => {
        ctx.waitUntil(work);
        ctx.waitUntil(Promise.reject(new Error('background failure')));
        return new Response('answered');
      });
      const socket = server.connect();
      socket.send(GET());
      await settle();
      expect(responses(socket.received)[0]!.body).toBe('answered');
      expect(reported.mock.calls.map((call: unknown[]) => String(call[0]))).toEqual(['http: a waitUntil promise rejected:']);
      expect((reported.mock.calls[0]![1] as Error).message).toBe('background failure');
      finish();
      // The server goes on serving after a rejected waitUntil.
      socket.send(GET());
      await settle();
      expect(responses(socket.received)).toHaveLength(2);
    } finally {
      reported.mockRestore();
    }
  });

  it('ends idle connections at once, refuses new ones, ends a busy one after its response, then waits for waitUntil', async () => {
    let release!: () => void;
    let finishWork!: () => void;
    const work = new Promise<void>((resolve) => (finishWork = resolve));
    const server = testServer(async (request, _env, ctx) => {
      if (new URL(request.url).pathname === '/slow') {
        ctx.waitUntil(work);
        await new Promise<void>((resolve) => (release = resolve));
      }
      return new Response('done');
    });
    const idle = server.connect();
    idle.send(GET());
    await settle();
    const busy = server.connect();
    busy.send(GET('/slow'));
    await settle();
    let closed = false;
    const closing = server.core.shutdown(10_000).then(() => (closed = true));
    expect(idle.closed).toBe(true);
    expect(busy.closed).toBe(false);
    const late = server.connect();
    expect(late.received).toMatch(/^HTTP\/1\.1 503 /);
    expect(late.closed).toBe(true);
    release();
    await settle();
    await settle();
    const [answer] = responses(busy.received);
    expect(answer!.body).toBe('done');
    expect(answer!.headers.connection).toBe('close');
    expect(busy.closed).toBe(true);
    expect(busy.aborted).toBe(false);
    expect(server.core.connectionCount).toBe(0);
    await settle();
    expect(closed).toBe(false);
    finishWork();
    await closing;
    expect(closed).toBe(true);
  });

  it('resets a connection still busy when the grace period ends', async () => {
    const server = testServer(() => new Promise<Response>(() => {}));
    const stuck = server.connect();
    stuck.send(GET());
    await settle();
    const closing = server.core.shutdown(3000);
    server.clock.advance(2900);
    expect(stuck.aborted).toBe(false);
    server.clock.advance(200);
    expect(stuck.aborted).toBe(true);
    await closing;
    expect(server.core.connectionCount).toBe(0);
  });
});
