/**
 * TCP within the stack's memory budget (issue 16), between two stacks in virtual time: what an idle
 * connection and a TIME-WAIT record are charged, buffers given back as they drain, connections refused
 * cleanly at the budget and at the limits, windows that shrink under pressure, data dropped (and sent
 * again) at the limit, and the budget back at its start when everything is over.
 */
import { Statman } from '@uos/statman';
import { describe, expect, it } from 'vitest';
import { VirtualClock, seededRandom } from '../../clock.js';
import { Inet, type InetOptions } from '../../iface/inet.js';
import { NetError } from '../../errors.js';
import { collect, firstDifference, linkPair, patternBytes, runUntil, sendAll } from '../../test/index.js';
import { echo } from '../../app/echo.js';
import { CONNECTION_BYTES } from './tcp-layer.js';
import { TIME_WAIT_BYTES } from './time-wait.js';
import type { TcpSocket } from './tcp-socket.js';

let n = 0;
type ServerOptions = Omit<InetOptions, 'clock' | 'random' | 'statman' | 'configuration'>;

/** A client and a server stack on one wire; the server has `server` options (its budget, its limits). */
function pair(server: ServerOptions = {}) {
  const clock = new VirtualClock();
  const id = n++;
  const [a, b] = linkPair({ clock, latencyMs: 1, names: [`mc${id}`, `ms${id}`] });
  const statman = new Statman();
  const client = new Inet(a, {
    clock,
    statman,
    random: seededRandom(2 * id + 1),
    configuration: { address: '10.0.0.1', prefixLength: 24 },
  });
  const host = new Inet(b, {
    ...server,
    clock,
    statman,
    random: seededRandom(2 * id + 2),
    configuration: { address: '10.0.0.2', prefixLength: 24 },
  });
  const stat = (name: string): number => statman.snapshot()[`ms${id}.${name}`] ?? 0;
  const settle = (ms = 2000): void => clock.advance(ms);
  return { clock, client, server: host, stat, settle };
}

/** Opens `count` connections to port 7, one every 2 ms, and lets them settle. */
function openMany(net: ReturnType<typeof pair>, count: number): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (let i = 0; i < count; i++) {
    const start = net.client.tcp.connect('10.0.0.2', 7);
    if (!start.ok) throw new Error(start.error);
    sockets.push(start.connection);
    net.clock.advance(2);
  }
  net.settle();
  return sockets;
}

/** What the server's budget holds beyond its ARP cache (one entry). */
const charged = (inet: Inet): number => inet.memory.used - 256;

describe('TCP memory (issue 16)', () => {
  it('charges an idle connection its fixed cost only: buffers are taken as data comes and given back once it is acknowledged', () => {
    const net = pair();
    net.server.tcp.listen(7, echo);
    const sockets = openMany(net, 20);
    expect(charged(net.server)).toBe(20 * CONNECTION_BYTES);
    // Echo 100 KB through each: buffers fill and drain.
    const results = sockets.map((s) => collect(s));
    for (const s of sockets) sendAll(s, patternBytes(100_000, 1), { end: false });
    runUntil(net.clock, () => results.every((r) => r.bytes === 100_000));
    expect(net.stat('tcp.buffer_bytes_peak')).toBeGreaterThan(20 * 1000);
    net.settle();
    expect(net.stat('tcp.buffer_bytes')).toBe(0);
    expect(charged(net.server)).toBe(20 * CONNECTION_BYTES);
    expect(net.stat('tcp.connections_peak')).toBe(20);
  });

  it('keeps a small record in TIME-WAIT, not the connection, and gives it back after 2 MSL', () => {
    const net = pair();
    // The server closes first (as the HTTP responder does), so TIME-WAIT is on its side.
    net.server.tcp.listen(7, (socket) => socket.onData(() => socket.end()), { timeWaitMs: 30_000 });
    const sockets = openMany(net, 50);
    for (const s of sockets) {
      s.write(new Uint8Array([1]));
      s.onEnd(() => s.end());
    }
    net.settle();
    expect(net.server.tcp.timeWaitCount).toBe(50);
    expect(net.server.tcp.connectionCount).toBe(50);
    expect(net.stat('tcp.connections_active')).toBe(0);
    expect(net.stat('tcp.time_wait')).toBe(50);
    expect(charged(net.server)).toBe(50 * TIME_WAIT_BYTES);
    expect(net.server.tcp.connections().every((c) => c.state === 'time-wait')).toBe(true);
    net.clock.advance(30_000);
    expect(net.server.tcp.connectionCount).toBe(0);
    expect(charged(net.server)).toBe(0);
  });

  it('recycles the oldest TIME-WAIT records past tcp.maxTimeWait', () => {
    const net = pair({ tcp: { maxTimeWait: 10 } });
    net.server.tcp.listen(7, (socket) => socket.onData(() => socket.end()));
    const sockets = openMany(net, 40);
    for (const s of sockets) {
      s.write(new Uint8Array([1]));
      s.onEnd(() => s.end());
    }
    net.settle();
    expect(net.server.tcp.timeWaitCount).toBe(10);
    expect(net.stat('tcp.time_wait_recycled')).toBe(30);
  });

  it('refuses new connections under memory pressure (the SYN dropped and counted) while those it has go on', () => {
    const budgetBytes = 256 * 1024;
    const net = pair({ memory: { budgetBytes } });
    net.server.tcp.listen(7, echo);
    const first = openMany(net, 100);
    const established = first.filter((s) => s.state === 'established');
    // Admitted until the pressure mark: 3/4 of the budget.
    expect(established.length).toBe(Math.ceil((budgetBytes * 0.75 - 256) / CONNECTION_BYTES));
    expect(net.stat('tcp.refused_memory')).toBeGreaterThan(0);
    expect(net.server.memory.used).toBeLessThanOrEqual(budgetBytes);
    // The others are still in SYN-SENT, trying again; the established ones still echo.
    const echoed = collect(established[0]!);
    established[0]!.write(patternBytes(5000, 3));
    runUntil(net.clock, () => echoed.bytes === 5000);
    // When connections end, the refused ones get in on a later try.
    for (const s of established.slice(0, 10)) s.abort();
    net.clock.advance(10_000);
    expect(first.filter((s) => s.state === 'established').length).toBe(established.length);
  });

  it('refuses with a reset past tcp.maxConnections and a listener’s maxConnections, and counts it', async () => {
    const net = pair({ tcp: { maxConnections: 5 } });
    net.server.tcp.listen(7, echo, { maxConnections: 3 });
    net.server.tcp.listen(9, echo);
    const sevens = openMany(net, 4);
    const results = await Promise.all(sevens.map((s) => s.opened()));
    expect(results.filter((r) => r.ok).length).toBe(3);
    expect(results.filter((r) => !r.ok && r.error === 'refused').length).toBe(1);
    const nines = [0, 1, 2].map(() => net.client.tcp.connect('10.0.0.2', 9));
    net.settle();
    expect(nines.map((s) => s.ok && s.connection.state)).toEqual(['established', 'established', 'closed']);
    expect(net.stat('tcp.refused_limit')).toBe(2);
    // And active opens meet the layer's limit as an error.
    const many = pair({ tcp: { maxConnections: 1 } });
    many.client.tcp.listen(5, echo);
    expect(many.server.tcp.connect('10.0.0.1', 5).ok).toBe(true);
    expect(many.server.tcp.connect('10.0.0.1', 5)).toEqual({ ok: false, error: 'too-many-connections' });
  });

  it('bounds what clients that never read make it hold, and still answers a client that reads', () => {
    const budgetBytes = 1024 * 1024;
    const net = pair({ memory: { budgetBytes } });
    // The source service: writes as long as there is room, to clients that never read.
    const offered = { bytes: 0 };
    net.server.tcp.listen(19, (socket) => {
      const chunk = patternBytes(64 * 1024, 5);
      const pump = (): void => {
        for (;;) {
          const result = socket.write(chunk);
          if (!result.ok) return;
          offered.bytes += result.accepted;
          if (result.accepted < chunk.length) {
            socket.onDrain(pump);
            return;
          }
        }
      };
      pump();
    });
    // Another client, connected before: it must still get its echo when the others have filled the budget.
    net.server.tcp.listen(7, echo);
    const other = net.client.tcp.connect('10.0.0.2', 7);
    if (!other.ok) throw new Error(other.error);
    const otherGot = collect(other.connection);
    const clients: TcpSocket[] = [];
    for (let i = 0; i < 60; i++) {
      const start = net.client.tcp.connect('10.0.0.2', 19, { receiveBufferBytes: 16 * 1024 });
      if (!start.ok) throw new Error(start.error);
      start.connection.pause(); // never reads: its window closes after 16 KiB
      clients.push(start.connection);
      net.clock.advance(5);
    }
    net.clock.advance(20_000);
    // 60 connections' send buffers would hold 3.75 MiB: under pressure they stopped growing, within 1 MiB.
    expect(net.server.memory.peak).toBeLessThanOrEqual(budgetBytes);
    expect(net.server.memory.peak).toBeGreaterThan(budgetBytes * 0.75);
    other.connection.write(patternBytes(3000, 4));
    runUntil(net.clock, () => otherGot.bytes === 3000, 30_000);
    expect(firstDifference(otherGot.data(), patternBytes(3000, 4))).toBe(-1);
    expect(net.stat('tcp.buffer_bytes')).toBeLessThanOrEqual(budgetBytes);
    expect(offered.bytes).toBeLessThan(budgetBytes + 60 * 16 * 1024);
    // Once their buffers filled the budget, later clients were refused (their SYNs dropped, counted).
    expect(net.stat('tcp.refused_memory')).toBeGreaterThan(0);
    expect(clients.filter((c) => c.state === 'established').length).toBeGreaterThan(10);
    for (const c of clients) c.abort();
    other.connection.abort();
    net.settle(5000);
    expect(charged(net.server)).toBe(0);
  });

  it('wakes a writer the budget left with nothing queued once memory frees', () => {
    const net = pair({ memory: { budgetBytes: 256 * 1024 } });
    const servers: TcpSocket[] = [];
    net.server.tcp.listen(7, (socket) => servers.push(socket));
    openMany(net, 1);
    // Everything else in the budget is taken (by other connections, say).
    const others = net.server.memory.account();
    others.charge(net.server.memory.free - 100);
    const server = servers[0]!;
    expect(server.writableBytes).toBe(0);
    expect(server.write(patternBytes(1000, 2))).toEqual({ ok: true, accepted: 0 });
    let drained = 0;
    server.onDrain(() => drained++);
    net.settle();
    expect(drained).toBe(0);
    // Memory frees: the writer hears of room, though no ACK of its own could tell it.
    others.release(others.bytes);
    expect(drained).toBe(1);
    expect(server.write(patternBytes(1000, 2))).toEqual({ ok: true, accepted: 1000 });
  });

  it('offers small windows under pressure, drops what it cannot hold at the limit, and still delivers every byte', () => {
    const budgetBytes = 256 * 1024;
    const net = pair({ memory: { budgetBytes } });
    const readers: TcpSocket[] = [];
    net.server.tcp.listen(9, (socket) => {
      socket.pause(); // holds what arrives: the window closes as it fills
      readers.push(socket);
    });
    const writers: TcpSocket[] = [];
    for (let i = 0; i < 4; i++) {
      const start = net.client.tcp.connect('10.0.0.2', 9);
      if (!start.ok) throw new Error(start.error);
      writers.push(start.connection);
      net.clock.advance(5);
    }
    net.settle();
    writers.forEach((w, i) => sendAll(w, patternBytes(200_000, 10 + i)));
    net.clock.advance(30_000);
    // Held data stopped short of the budget: pressure closed the windows to a few segments, then to none.
    expect(net.server.memory.peak).toBeLessThanOrEqual(budgetBytes + 4 * 2 * 1460);
    expect(net.stat('memory.pressure_entered')).toBeGreaterThan(0);
    const windows = net.server.tcp.connections().map((c) => c.receiveWindow);
    expect(Math.max(...windows)).toBeLessThanOrEqual(4 * 1460);
    // Reading resumes: every byte arrives, in order.
    const got = readers.map((r) => collect(r));
    for (const r of readers) r.resume();
    runUntil(net.clock, () => got.every((g) => g.ended), 600_000);
    readers.forEach((r, i) => {
      const writer = writers.findIndex((w) => w.localPort === r.remotePort);
      expect(firstDifference(got[i]!.data(), patternBytes(200_000, 10 + writer))).toBe(-1);
    });
  });

  it('returns to its starting charge when every connection is over and TIME-WAIT has passed', () => {
    const net = pair();
    net.server.tcp.listen(7, echo);
    const sockets = openMany(net, 30);
    const results = sockets.map((s) => collect(s));
    for (const s of sockets) sendAll(s, patternBytes(20_000, 2));
    runUntil(net.clock, () => results.every((r) => r.ended));
    net.clock.advance(120_000);
    expect(net.server.tcp.connectionCount).toBe(0);
    expect(charged(net.server)).toBe(0);
    expect(net.stat('memory.peak_bytes')).toBeGreaterThan(30 * CONNECTION_BYTES);
  });
});

describe('limits against the memory there is (issue 16: says so at boot)', () => {
  const device = () => linkPair({ clock: new VirtualClock(), names: [`mx${n}`, `my${n++}`] })[0];

  it('sizes the budget from the memory available, and refuses a budget larger than it', () => {
    const inet = new Inet(device(), { statman: new Statman(), memory: { availableBytes: 8 * 1024 * 1024 } });
    expect(inet.memory.limitBytes).toBe(4 * 1024 * 1024);
    expect(() => new Inet(device(), { statman: new Statman(), memory: { availableBytes: 8 << 20, budgetBytes: 16 << 20 } })).toThrow(
      /memory budget \(memory.budgetBytes\) is 16.0 MiB, but only 8.0 MiB of the VM's memory is free/,
    );
  });

  it('says when the memory available cannot hold the configured limits', () => {
    const tooMany = (): Inet =>
      new Inet(device(), { statman: new Statman(), memory: { availableBytes: 16 << 20 }, tcp: { maxConnections: 20_000 } });
    expect(tooMany).toThrow(NetError);
    expect(tooMany).toThrow(/tcp.maxConnections is 20000, which needs 78.1 MiB \(4096 bytes each\).*\(1536 at most\)/);
    expect(() => new Inet(device(), { statman: new Statman(), memory: { availableBytes: 300 * 1024 } })).toThrow(
      /needs a memory budget of at least 0.3 MiB/,
    );
    const inet = new Inet(device(), { statman: new Statman(), memory: { availableBytes: 16 << 20 } });
    expect(() => inet.tcp.listen(80, echo, { maxConnections: 5000 })).toThrow(/maxConnections of the listener on port 80 is 5000/);
    expect(inet.tcp.listen(80, echo, { maxConnections: 1000 }).ok).toBe(true);
  });
});
