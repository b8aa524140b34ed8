/**
 * The TcpSocket contract, over two stacks on a simulated wire: several data consumers each see every
 * chunk, nothing is lost when listeners and async iteration are combined or come late, pausing and a slow
 * iterator close the window, the send buffer's figures, drain, end and close.
 */
import { describe, expect, it } from 'vitest';
import type { Inet } from '../../iface/inet.js';
import { collect, createTestNetwork, firstDifference, patternBytes, runUntil, sendAll } from '../../test/index.js';
import type { TcpSocket } from './tcp-socket.js';

let network = 0;

function connected(options: { serverReceiveBuffer?: number; clientSendBuffer?: number } = {}) {
  const n = network++;
  const net = createTestNetwork({ names: [`sk${n}a`, `sk${n}b`], seed: n + 1 });
  let server: TcpSocket | undefined;
  const listening = net.b.tcp.listen(
    80,
    (socket) => {
      server = socket;
    },
    options.serverReceiveBuffer ? { receiveBufferBytes: options.serverReceiveBuffer } : {},
  );
  if (!listening.ok) throw new Error(listening.error);
  const start = net.a.tcp.connect('10.0.0.2', 80, options.clientSendBuffer ? { sendBufferBytes: options.clientSendBuffer } : {});
  if (!start.ok) throw new Error(start.error);
  runUntil(net.clock, () => server !== undefined && start.connection.state === 'established', 30_000);
  return { net, client: start.connection, server: server! };
}

const joined = (chunks: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};

/** Lets promise continuations run between steps of virtual time. */
async function runAsync(net: { clock: { advance(ms: number): void } }, done: () => boolean, steps = 100_000): Promise<void> {
  for (let i = 0; i < steps && !done(); i++) {
    net.clock.advance(1);
    await Promise.resolve();
    await Promise.resolve();
  }
  if (!done()) throw new Error('not done');
}

const receiveWindow = (inet: Inet, socket: TcpSocket): number => inet.tcp.inspect(socket)!.receiveWindow;

describe('TcpSocket', () => {
  it('hands out sockets that do not reach the engine', () => {
    const { client, server } = connected();
    for (const socket of [client, server]) {
      for (const engineMethod of ['receive', 'acceptSyn', 'terminate', 'debugState', 'diagnostics', 'output'])
        expect(engineMethod in socket).toBe(false);
      expect(() => {
        (socket as { state: string }).state = 'closed';
      }).toThrow(TypeError);
      expect(socket.state).toBe('established');
    }
    expect(client.localAddress).toBe(server.remoteAddress);
    expect(client.remotePort).toBe(80);
    expect(server.localPort).toBe(80);
  });

  it('gives every chunk to every data listener, in order', () => {
    const { net, client, server } = connected();
    const first: Uint8Array[] = [];
    const second: Uint8Array[] = [];
    server.onData((d) => first.push(d));
    server.onData((d) => second.push(d));
    const data = patternBytes(200_000, 1);
    sendAll(client, data);
    let ended = false;
    server.onEnd(() => {
      ended = true;
    });
    runUntil(net.clock, () => ended);
    expect(firstDifference(joined(first), data)).toBe(-1);
    expect(firstDifference(joined(second), data)).toBe(-1);
  });

  it('holds what arrives before anyone reads, closing the window, and delivers it to the first listener', () => {
    const { net, client, server } = connected({ serverReceiveBuffer: 16_384 });
    const data = patternBytes(50_000, 2);
    sendAll(client, data);
    net.clock.advance(2_000);
    expect(receiveWindow(net.b, server)).toBe(0);
    expect(net.b.tcp.inspect(server)!.heldBytes).toBe(16_384);
    expect(client.bufferedBytes).toBe(data.length - 16_384);
    const got = collect(server);
    runUntil(net.clock, () => got.ended);
    expect(firstDifference(got.data(), data)).toBe(-1);
  });

  it('stops giving chunks to a listener that was removed, and holds them when none is left', () => {
    const { net, client, server } = connected();
    const seen: number[] = [];
    const off = server.onData((d) => seen.push(d.length));
    client.write(new Uint8Array(100));
    runUntil(net.clock, () => seen.length === 1);
    off();
    client.write(new Uint8Array(200));
    net.clock.advance(100);
    expect(seen).toEqual([100]);
    expect(net.b.tcp.inspect(server)!.heldBytes).toBe(200);
    const later: number[] = [];
    server.onData((d) => later.push(d.length));
    expect(later).toEqual([200]);
  });

  it('reads with for await beside a data listener: both get every byte', async () => {
    const { net, client, server } = connected();
    const byListener: Uint8Array[] = [];
    server.onData((d) => byListener.push(d));
    const byIterator: Uint8Array[] = [];
    const reading = (async () => {
      for await (const chunk of server) byIterator.push(chunk);
    })();
    const data = patternBytes(300_000, 3);
    sendAll(client, data);
    let done = false;
    void reading.then(() => {
      done = true;
    });
    await runAsync(net, () => done);
    expect(firstDifference(joined(byListener), data)).toBe(-1);
    expect(firstDifference(joined(byIterator), data)).toBe(-1);
  });

  it('gives an iterator started late what was held for it', async () => {
    const { net, client, server } = connected();
    client.write(patternBytes(3000, 4));
    client.end();
    net.clock.advance(100);
    const chunks: Uint8Array[] = [];
    for await (const chunk of server) chunks.push(chunk);
    expect(firstDifference(joined(chunks), patternBytes(3000, 4))).toBe(-1);
  });

  it('applies backpressure while the iterating reader is busy: the window closes, nothing is lost', async () => {
    const { net, client, server } = connected({ serverReceiveBuffer: 16_384 });
    const data = patternBytes(100_000, 5);
    sendAll(client, data);
    const iterator = server[Symbol.asyncIterator]();
    const chunks: Uint8Array[] = [];
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      let result: IteratorResult<Uint8Array> | undefined;
      void iterator.next().then((r) => {
        result = r;
      });
      await runAsync(net, () => result !== undefined);
      return result!;
    };
    chunks.push((await next()).value as Uint8Array);
    // The reader sits on its chunk: the stack holds the rest and the window closes.
    net.clock.advance(3_000);
    expect(receiveWindow(net.b, server)).toBe(0);
    for (let result = await next(); !result.done; result = await next()) chunks.push(result.value);
    expect(firstDifference(joined(chunks), data)).toBe(-1);
  });

  it('stops iterating at close, and a break lets a listener take over without a gap', async () => {
    const { net, client, server } = connected();
    client.write(new Uint8Array([1, 2, 3]));
    net.clock.advance(50);
    for await (const chunk of server) {
      expect([...chunk]).toEqual([1, 2, 3]);
      break;
    }
    client.write(new Uint8Array([4, 5]));
    net.clock.advance(50);
    const later: number[] = [];
    server.onData((d) => later.push(...d));
    expect(later).toEqual([4, 5]);
    const closed: string[] = [];
    server.onClose((reason) => closed.push(reason));
    client.abort();
    net.clock.advance(50);
    expect(closed).toEqual(['reset']);
    const after: Uint8Array[] = [];
    for await (const chunk of server) after.push(chunk);
    expect(after).toEqual([]);
  });

  it('holds data while paused (the window closes) and delivers it on resume, before the end', () => {
    const { net, client, server } = connected({ serverReceiveBuffer: 16_384 });
    const got = collect(server);
    server.pause();
    expect(server.isPaused).toBe(true);
    const data = patternBytes(40_000, 6);
    sendAll(client, data);
    net.clock.advance(2_000);
    expect(got.bytes).toBe(0);
    expect(receiveWindow(net.b, server)).toBe(0);
    server.resume();
    runUntil(net.clock, () => got.ended);
    expect(firstDifference(got.data(), data)).toBe(-1);
  });

  it('reports the send buffer: bytes held until acknowledged, room left, and drain once after a short write', () => {
    const { net, client, server } = connected({ clientSendBuffer: 8192 });
    collect(server);
    expect(client.writableBytes).toBe(8192);
    const result = client.write(new Uint8Array(10_000));
    expect(result).toEqual({ ok: true, accepted: 8192 });
    expect(client.bufferedBytes).toBe(8192);
    expect(client.writableBytes).toBe(0);
    let drains = 0;
    client.onDrain(() => drains++);
    runUntil(net.clock, () => client.bufferedBytes === 0);
    expect(drains).toBe(1);
    expect(client.writableBytes).toBe(8192);
    client.end();
    expect(client.writableBytes).toBe(0);
    expect(client.write(new Uint8Array(1))).toEqual({ ok: false, error: 'ending' });
  });

  it('writes everything with writeAll, and answers closed when the connection ends first', async () => {
    const { net, client, server } = connected({ clientSendBuffer: 4096 });
    const got = collect(server);
    const data = patternBytes(100_000, 7);
    let result: unknown;
    void client.writeAll(data).then((r) => {
      result = r;
    });
    await runAsync(net, () => result !== undefined);
    expect(result).toEqual({ ok: true, accepted: data.length });
    runUntil(net.clock, () => got.bytes === data.length);
    server.pause();
    let second: unknown;
    void client.writeAll(patternBytes(500_000, 8)).then((r) => {
      second = r;
    });
    await runAsync(net, () => client.writableBytes === 0);
    server.abort();
    await runAsync(net, () => second !== undefined);
    expect(second).toEqual({ ok: false, error: 'closed' });
  });

  it('runs end after the last chunk and close once, also for listeners added afterwards', () => {
    const { net, client, server } = connected();
    const events: string[] = [];
    server.onData((d) => events.push(`data ${d.length}`));
    server.onEnd(() => events.push('end'));
    server.onClose((reason) => events.push(`close ${reason}`));
    client.write(new Uint8Array(10));
    client.end();
    server.onEnd(() => server.end());
    runUntil(net.clock, () => server.state === 'closed');
    expect(events).toEqual(['data 10', 'end', 'close normal']);
    const late: string[] = [];
    server.onEnd(() => late.push('end'));
    server.onClose((reason) => late.push(reason));
    expect(late).toEqual(['end', 'normal']);
  });

  it('discards what arrives after close() when nobody reads, and opens the window again', () => {
    const { net, client, server } = connected({ serverReceiveBuffer: 16_384 });
    sendAll(client, patternBytes(20_000, 9), { end: false });
    net.clock.advance(1_000);
    expect(net.b.tcp.inspect(server)!.heldBytes).toBeGreaterThan(0);
    server.close();
    net.clock.advance(1_000);
    expect(net.b.tcp.inspect(server)?.heldBytes ?? 0).toBe(0);
    expect(client.bufferedBytes).toBe(0);
  });
});
