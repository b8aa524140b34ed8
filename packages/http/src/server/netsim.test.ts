/**
 * The server on a real @uos/net stack: two stacks in Node over a simulated wire (netsim), in virtual time,
 * with loss and reordering, a client on one and `serve` on the other.
 */
import type { Inet, TcpSocket } from '@uos/net';
import { type VirtualClock, createTestNetwork, runUntil } from '@uos/net/test';
import { describe, expect, it } from 'vitest';
import { Response } from '../web/response.js';
import { ReadableStream } from '../web/streams.js';
import { utf8Encode } from '../web/text.js';
import { URL } from '../web/url/url.js';
import { settle } from '../testing/test-server.js';
import { serve } from './http-server.js';

/** A raw client connection that collects what it receives, as text. */
function client(inet: Inet) {
  const started = inet.tcp.connect('10.0.0.2', 80);
  if (!started.ok) throw new Error(started.error);
  const connection: TcpSocket = started.connection;
  const state = { text: '', ended: false, closed: false };
  connection.onData((data) => {
    state.text += String.fromCharCode(...data);
  });
  connection.onEnd(() => {
    state.ended = true;
  });
  connection.onClose(() => {
    state.closed = true;
  });
  return {
    connection,
    state,
    send: (text: string) => connection.write(utf8Encode(text)),
  };
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** runUntil for work that goes through promises (stream pumps, writeAll): lets them run between steps. */
async function runUntilSettled(clock: VirtualClock, done: () => boolean, limitMs = 600_000): Promise<void> {
  const start = clock.now();
  while (!done()) {
    if (clock.now() - start > limitMs) throw new Error(`not done after ${limitMs} ms of virtual time`);
    clock.advance(5);
    await settle();
  }
}

describe('serve over @uos/net (netsim)', () => {
  it('answers keep-alive and pipelined requests over a lossy, reordering wire', () => {
    const net = createTestNetwork({ seed: 3, faults: { drop: 0.05, reorder: 0.05, duplicate: 0.02 } });
    const server = serve({
      inet: net.b,
      statman: net.statman,
      fetch: (request) => new Response(`you asked for ${new URL(request.url).pathname}\n`),
    });
    const peer = client(net.a);
    const requests = Array.from({ length: 20 }, (_, i) => `GET /item/${i} HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n`);
    peer.send(requests.slice(0, 10).join(''));
    runUntil(net.clock, () => count(peer.state.text, 'HTTP/1.1 200 OK') === 10);
    for (const request of requests.slice(10)) peer.send(request);
    runUntil(net.clock, () => count(peer.state.text, 'HTTP/1.1 200 OK') === 20);
    const bodies = [...peer.state.text.matchAll(/you asked for (\S+)/g)].map((m) => m[1]);
    expect(bodies).toEqual(requests.map((_, i) => `/item/${i}`));
    expect(server.stats()).toMatchObject({ requests: 20, responses_2xx: 20, connections_active: 1 });
    expect(net.statman.get('b0.http.80.requests')?.value).toBe(20);
    peer.connection.close();
    runUntil(net.clock, () => server.connections === 0);
  });

  it('streams a large response under loss, byte for byte, pulled as the window opens', async () => {
    const net = createTestNetwork({ seed: 5, faults: { drop: 0.03, reorder: 0.03 } });
    const chunk = Uint8Array.from({ length: 4096 }, (_, i) => 97 + (i % 26));
    let pulls = 0;
    serve({
      inet: net.b,
      statman: net.statman,
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              if (++pulls > 200) controller.close();
              else controller.enqueue(chunk);
            },
          }),
        ),
    });
    const peer = client(net.a);
    peer.send('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await runUntilSettled(net.clock, () => peer.state.text.endsWith('\r\n0\r\n\r\n'));
    const body = peer.state.text.slice(peer.state.text.indexOf('\r\n\r\n') + 4);
    let dechunked = '';
    for (let at = 0; ; ) {
      const lineEnd = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.slice(at, lineEnd), 16);
      if (size === 0) break;
      dechunked += body.slice(lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 2 + size + 2;
    }
    expect(dechunked.length).toBe(200 * 4096);
    expect(dechunked.slice(0, 26)).toBe('abcdefghijklmnopqrstuvwxyz');
  });

  it('answers a smuggling attempt with 400 and closes the connection', () => {
    const net = createTestNetwork({ seed: 7 });
    let handled = 0;
    serve({
      inet: net.b,
      statman: net.statman,
      fetch: () => {
        handled++;
        return new Response('ok');
      },
    });
    const peer = client(net.a);
    peer.send(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    runUntil(net.clock, () => peer.state.ended);
    expect(peer.state.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(handled).toBe(0);
  });
});
