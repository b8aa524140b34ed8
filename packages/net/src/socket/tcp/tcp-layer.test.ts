/**
 * TCP between two stacks on a simulated wire, in virtual time: bulk transfer under loss, duplication and
 * reordering, the handshake variants, closing, and the attacks and oddities RFC 5961 and RFC 7323 guard
 * against, with segments forged by hand where a real peer would not send them.
 */
import { describe, expect, it } from 'vitest';
import { Statman } from '@uos/statman';
import { ipv4Address } from '../../wire/address.js';
import { VirtualClock } from '../../clock.js';
import { Inet } from '../../iface/inet.js';
import { EthernetPacket } from '../../wire/ethernet.js';
import { Ipv4Packet } from '../../wire/ipv4.js';
import { TcpFlag, TcpPacket, type TcpRepr } from '../../wire/tcp.js';
import { seqDiff } from './sequence.js';
import type { TcpOptions } from './options.js';
import type { TcpDiagnostics, TcpSocket } from './tcp-socket.js';
import {
  type FaultOptions,
  type TestNetwork,
  collect,
  createTestNetwork,
  firstDifference,
  forgeSegment,
  linkPair,
  patternBytes as pattern,
  runUntil,
  sendAll,
} from '../../test/index.js';

/**
 * Every TCP segment a device receives, header fields only (the frames a stack sent and the wire let
 * through), with the IP identification that numbers them in the order the stack sent them.
 */
function watchSegments(device: { onReceive(listener: (frame: Uint8Array) => void): () => void }) {
  const seen: { id: number; sequence: number; acknowledgment: number; window: number; flags: number; length: number }[] = [];
  const fragments = { count: 0 };
  device.onReceive((frame) => {
    const ethernet = EthernetPacket.checked(frame);
    if (!ethernet.ok || ethernet.value.etherType !== 0x0800) return;
    const ip = Ipv4Packet.checked(ethernet.value.payload);
    if (!ip.ok || ip.value.protocol !== 6) return;
    if (ip.value.moreFragments || ip.value.fragmentOffset !== 0) {
      fragments.count++;
      return;
    }
    const tcp = TcpPacket.checked(ip.value.payload);
    if (!tcp.ok) return;
    const t = tcp.value;
    seen.push({
      id: ip.value.identification,
      sequence: t.sequence,
      acknowledgment: t.acknowledgment,
      window: t.window,
      flags: t.flags,
      length: t.payload.length,
    });
  });
  return Object.assign(seen, { fragments });
}

const ALICE = ipv4Address('10.0.0.1');
const BOB = ipv4Address('10.0.0.2');
let network = 0;

type Net = TestNetwork & { alice: Inet; bob: Inet };

function twoStacks(faults: FaultOptions & { seed?: number } = {}): Net {
  const { seed, ...rest } = faults;
  const n = network++;
  const net = createTestNetwork({ faults: rest, seed: seed ?? 1 + n, names: [`tcp${n}a`, `tcp${n}b`] });
  stacks.push(net.a, net.b);
  return { ...net, alice: net.a, bob: net.b };
}

const ascii = (value: string): Uint8Array => Uint8Array.from(value, (c) => c.charCodeAt(0));
const text = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** Opens alice -> bob:port and returns both ends once established. */
function establish(net: Net, options: { client?: TcpOptions; server?: TcpOptions; port?: number } = {}) {
  const port = options.port ?? 8000;
  let server: TcpSocket | undefined;
  const listening = net.bob.tcp.listen(
    port,
    (c) => {
      server = c;
    },
    options.server,
  );
  if (!listening.ok) throw new Error(listening.error);
  const start = net.alice.tcp.connect(BOB, port, options.client);
  if (!start.ok) throw new Error(start.error);
  runUntil(net.clock, () => server !== undefined && start.connection.state === 'established', 30_000);
  return { client: start.connection, server: server!, listener: listening.listener };
}

/** Puts a hand-made segment on the wire as if `from` sent it to the other stack. */
function forge(net: Net, from: 'alice' | 'bob', connection: TcpSocket, fields: Partial<TcpRepr>, payload?: Uint8Array): void {
  const [sender, receiver] = from === 'bob' ? [net.wire[1], net.wire[0]] : [net.wire[0], net.wire[1]];
  forgeSegment(sender, receiver, connection, fields, payload);
}

/** Every stack the tests made, so a socket's diagnostics can be found from the socket alone. */
const stacks: Inet[] = [];

function inspect(c: TcpSocket): TcpDiagnostics {
  for (const stack of stacks) {
    const found = stack.tcp.inspect(c);
    if (found) return found;
  }
  throw new Error(`no stack knows ${c.localPort} -> ${c.remotePort}`);
}

const state = (c: TcpSocket, key: 'receiveNext' | 'sendMax' | 'sendNext' | 'receiveWindow'): number => inspect(c)[key];

describe('TCP bulk transfer', () => {
  it('moves 10 MB each way at once, byte-exact, under 5% loss, 2% duplication and 5% reordering', () => {
    const net = twoStacks({ seed: 5, drop: 0.05, duplicate: 0.02, reorder: 0.05 });
    const { client, server } = establish(net);
    const up = pattern(10 * 1024 * 1024, 1);
    const down = pattern(10 * 1024 * 1024, 2);
    const atServer = collect(server);
    const atClient = collect(client);
    sendAll(client, up);
    sendAll(server, down);
    runUntil(net.clock, () => atServer.ended && atClient.ended, 3_600_000);
    expect(firstDifference(atServer.data(), up)).toBe(-1);
    expect(firstDifference(atClient.data(), down)).toBe(-1);
    const faults = net.injector.stats;
    expect(faults.dropped).toBeGreaterThan(1000);
    expect(faults.duplicated).toBeGreaterThan(200);
    expect(faults.reordered).toBeGreaterThan(500);
    // Most losses are repaired by fast retransmit, not by waiting for the timer.
    const tcp = net.alice.tcp.stats;
    expect(tcp.fast_retransmits.value).toBeGreaterThan(tcp.timeouts.value);
    net.clock.runUntilIdle();
    expect(atClient.closed).toBe('normal');
    expect(atServer.closed).toBe('normal');
    expect(net.alice.tcp.connectionCount + net.bob.tcp.connectionCount).toBe(0);
  }, 120_000);

  it('counts the bytes each way once in its diagnostics (bytesIn, bytesOut), however often they crossed a lossy wire', () => {
    const net = twoStacks({ seed: 7, drop: 0.05, duplicate: 0.02, reorder: 0.05 });
    const { client, server } = establish(net);
    const up = pattern(300 * 1024, 3);
    const down = pattern(200 * 1024, 4);
    const atServer = collect(server);
    const atClient = collect(client);
    // Not ended: the counts are read while the connections are open (a TIME-WAIT record keeps none).
    sendAll(client, up, { end: false });
    sendAll(server, down, { end: false });
    runUntil(net.clock, () => atServer.data().length === up.length && atClient.data().length === down.length, 600_000);
    runUntil(net.clock, () => inspect(client).bytesOut === up.length && inspect(server).bytesOut === down.length, 60_000);
    expect([inspect(client).bytesIn, inspect(server).bytesIn]).toEqual([down.length, up.length]);
    expect(net.injector.stats.dropped).toBeGreaterThan(10);
  }, 60_000);

  it('with SACK finishes in less than half the time, resending no more, than without it over the same lossy wire', () => {
    const run = (sack: boolean) => {
      const net = twoStacks({ seed: 9, drop: 0.05 });
      const { client, server } = establish(net, { client: { sack }, server: { sack } });
      const got = collect(server);
      const started = net.clock.now();
      sendAll(client, pattern(2 * 1024 * 1024, 3));
      runUntil(net.clock, () => got.ended, 3_600_000);
      expect(got.bytes).toBe(2 * 1024 * 1024);
      expect(inspect(client).sack).toBe(sack);
      return {
        ms: net.clock.now() - started,
        retransmitted: net.alice.tcp.stats.retransmits.value,
        // Segments that reached the receiver twice: the waste retransmission without SACK information causes.
        duplicates: net.bob.tcp.stats.duplicate_segments.value,
      };
    };
    const withSack = run(true);
    const without = run(false);
    expect(withSack.ms).toBeLessThan(without.ms / 2);
    expect(withSack.duplicates).toBeLessThanOrEqual(without.duplicates);
    expect(withSack.retransmitted).toBeLessThanOrEqual(without.retransmitted);
  }, 60_000);

  it('never shrinks its window, never fragments a segment, and sends pure ACKs from SND.MAX after a timeout', () => {
    // Both stacks send, one receiving application stalls now and then, the wire loses and
    // reorders: out-of-order data must not shrink the offered window, and an ACK sent while going back
    // after a timeout must not carry a sequence number the peer already has (it would drop it unread;
    // both stalled for minutes against Linux before this was fixed).
    // (A seed whose losses include some that RACK and the probe cannot repair: there are timeouts to test.)
    const net = twoStacks({ seed: 22, drop: 0.1, reorder: 0.05 });
    const fromBob = watchSegments(net.wire[0]);
    const fromAlice = watchSegments(net.wire[1]);
    const { client, server } = establish(net);
    let paused = false;
    const atClient = collect(client);
    const atServer = collect(server);
    const up = pattern(1024 * 1024, 5);
    const down = pattern(1024 * 1024, 6);
    sendAll(client, up);
    sendAll(server, down);
    let flips = 0;
    runUntil(
      net.clock,
      () => {
        if (net.clock.now() % 100 === 0) {
          paused = !paused;
          flips++;
          if (paused) server.pause();
          else server.resume();
        }
        return atClient.ended && atServer.ended;
      },
      3_600_000,
    );
    expect(firstDifference(atServer.data(), up)).toBe(-1);
    expect(firstDifference(atClient.data(), down)).toBe(-1);
    expect(flips).toBeGreaterThan(3);
    expect(net.alice.tcp.stats.timeouts.value + net.bob.tcp.stats.timeouts.value).toBeGreaterThan(0);
    for (const [segments, shift] of [
      [fromBob, 2],
      [fromAlice, 2],
    ] as const) {
      let edge: number | undefined;
      let highest: number | undefined;
      let shrunk = 0;
      let stale = 0;
      // In the order sent (the wire reordered some): by IP identification, which counts up from a random start.
      const base = (segments[0]!.id - 10_000) & 0xffff;
      const sent = [...segments].sort((x, y) => ((x.id - base) & 0xffff) - ((y.id - base) & 0xffff));
      for (const segment of sent) {
        if (segment.flags & (TcpFlag.syn | TcpFlag.rst)) continue;
        const right = (segment.acknowledgment + segment.window * 2 ** shift) >>> 0;
        if (edge !== undefined && seqDiff(right, edge) < 0) shrunk++;
        if (edge === undefined || seqDiff(right, edge) > 0) edge = right;
        const end = (segment.sequence + segment.length + (segment.flags & TcpFlag.fin ? 1 : 0)) >>> 0;
        if (segment.length === 0 && !(segment.flags & TcpFlag.fin) && highest !== undefined && seqDiff(segment.sequence, highest) < 0)
          stale++;
        if (highest === undefined || seqDiff(end, highest) > 0) highest = end;
      }
      expect(segments.length).toBeGreaterThan(500);
      // Segments carrying SACK blocks shrink their payload to fit: nothing is fragmented.
      expect(segments.fragments.count).toBe(0);
      expect(shrunk).toBe(0);
      expect(stale).toBe(0);
    }
  }, 60_000);

  it('gives up with a timeout when the peer disappears', () => {
    const net = twoStacks();
    const { client } = establish(net, { client: { maxRetransmits: 5 } });
    const got = collect(client);
    net.injector.configure({ drop: 1 });
    client.write(new Uint8Array(1000));
    runUntil(net.clock, () => got.closed !== undefined, 600_000);
    expect(got.closed).toBe('timeout');
    expect(net.alice.tcp.stats.timeouts.value).toBe(6);
    expect(net.alice.tcp.connectionCount).toBe(0);
  });
});

describe('TCP opening', () => {
  it('negotiates MSS, window scaling, SACK and timestamps', () => {
    const net = twoStacks();
    const { client, server } = establish(net);
    for (const c of [client, server]) {
      expect(inspect(c)).toMatchObject({ state: 'established', mss: 1460, sack: true, timestamps: true, sendShift: 2, receiveShift: 2 });
    }
    const plain = establish(net, { port: 8001, client: { sack: false, timestamps: false, windowScaling: false } });
    expect(inspect(plain.server)).toMatchObject({ sack: false, timestamps: false, sendShift: 0, receiveShift: 0 });
  });

  it('is refused with a reset when nothing listens', async () => {
    const net = twoStacks();
    const start = net.alice.tcp.connect(BOB, 9);
    if (!start.ok) throw new Error(start.error);
    const opened = start.connection.opened();
    runUntil(net.clock, () => start.connection.state === 'closed', 10_000);
    expect(await opened).toEqual({ ok: false, error: 'refused' });
    expect(net.bob.tcp.stats.resets_tx.value).toBe(1);
    expect(net.alice.tcp.connectionCount).toBe(0);
  });

  it('times out when SYNs go unanswered, after retrying', async () => {
    const net = twoStacks();
    net.bob.tcp.listen(80, () => {});
    net.injector.configure({ drop: 1 });
    const start = net.alice.tcp.connect(BOB, 80);
    if (!start.ok) throw new Error(start.error);
    const opened = start.connection.opened();
    runUntil(net.clock, () => start.connection.state === 'closed', 600_000);
    expect(await opened).toEqual({ ok: false, error: 'timeout' });
  });

  it('completes a simultaneous open (RFC 9293 figure 8)', () => {
    const net = twoStacks();
    const a = net.alice.tcp.connect(BOB, 7000, { localPort: 6000 });
    const b = net.bob.tcp.connect(ALICE, 6000, { localPort: 7000 });
    if (!a.ok || !b.ok) throw new Error('connect failed');
    runUntil(net.clock, () => a.connection.state === 'established' && b.connection.state === 'established', 30_000);
    const got = collect(b.connection);
    a.connection.write(ascii('both at once'));
    runUntil(net.clock, () => got.bytes === 12);
    expect(text(got.data())).toBe('both at once');
    expect(net.alice.tcp.connect(BOB, 7000, { localPort: 6000 })).toEqual({ ok: false, error: 'port-in-use' });
  });

  it('bounds half-open connections by the backlog under a SYN flood, and forgets them', () => {
    const net = twoStacks();
    const listening = net.bob.tcp.listen(80, () => {}, { backlog: 4 });
    if (!listening.ok) throw new Error(listening.error);
    // SYNs from 20 ports whose SYN-ACKs nobody answers (alice's stack never sees them: dropped).
    net.injector.configure({ drop: 1 });
    const fake = { remotePort: 0, localPort: 80, remoteAddress: ALICE, localAddress: BOB } as TcpSocket;
    for (let port = 20000; port < 20020; port++) {
      forge(net, 'alice', { ...fake, remotePort: port } as TcpSocket, { flags: TcpFlag.syn, sequence: port * 1000, window: 65535 });
    }
    net.clock.advance(10);
    expect(listening.listener.halfOpen).toBe(4);
    // The rest were answered with SYN cookies: nothing kept for them.
    expect(net.bob.tcp.stats.syn_cookies_sent.value).toBe(16);
    expect(net.bob.tcp.stats.listen_overflows.value).toBe(16);
    expect(net.bob.tcp.connectionCount).toBe(4);
    net.clock.advance(300_000);
    expect(listening.listener.halfOpen).toBe(0);
    expect(net.bob.tcp.connectionCount).toBe(0);
  });

  it('rejects ports out of range and connecting before configuration', () => {
    const net = twoStacks();
    expect(net.alice.tcp.connect(BOB, 0)).toEqual({ ok: false, error: 'invalid-port' });
    expect(net.alice.tcp.connect(BOB, 80, { localPort: 70000 })).toEqual({ ok: false, error: 'invalid-port' });
    expect(net.alice.tcp.listen(65536, () => {})).toEqual({ ok: false, error: 'invalid-port' });
    expect(net.alice.tcp.connect(ipv4Address('192.168.9.9'), 80)).toEqual({ ok: false, error: 'no-route' });
    const clock = new VirtualClock();
    const [lone] = linkPair({ clock, names: [`tcp${network++}u`, `tcp${network++}v`] });
    expect(new Inet(lone, { clock, statman: new Statman() }).tcp.connect(BOB, 80)).toEqual({ ok: false, error: 'unconfigured' });
  });
});

describe('TCP closing', () => {
  it('half-closes: the side that ended still receives until the peer ends', () => {
    const net = twoStacks();
    const { client, server } = establish(net);
    const atClient = collect(client);
    const atServer = collect(server);
    const reply = pattern(50_000, 4);
    server.onEnd(() => sendAll(server, reply));
    client.write(ascii('request'));
    client.end();
    expect(client.write(new Uint8Array(1))).toEqual({ ok: false, error: 'ending' });
    runUntil(net.clock, () => atClient.ended);
    expect(text(atServer.data())).toBe('request');
    expect(firstDifference(atClient.data(), reply)).toBe(-1);
  });

  it('keeps TIME-WAIT for its time on the side that closed first, and acknowledges a repeated FIN there', () => {
    const net = twoStacks();
    const { client, server } = establish(net, { client: { timeWaitMs: 30_000 } });
    const atClient = collect(client);
    collect(server);
    server.onEnd(() => server.end());
    client.end();
    runUntil(net.clock, () => atClient.ended && server.state === 'closed');
    expect(client.state).toBe('time-wait');
    expect(atClient.closed).toBe('normal');
    expect(net.alice.tcp.connectionCount).toBe(1);
    expect(net.bob.tcp.connectionCount).toBe(0);
    // The peer's FIN again (as if our last ACK was lost): acknowledged again.
    const sent = net.alice.tcp.stats.segments_tx.value;
    const finSequence = (state(client, 'receiveNext') - 1) >>> 0;
    forge(net, 'bob', client, { flags: TcpFlag.fin | TcpFlag.ack, sequence: finSequence, acknowledgment: state(client, 'sendMax') });
    net.clock.advance(5);
    expect(net.alice.tcp.stats.segments_tx.value).toBe(sent + 1);
    net.clock.advance(29_000);
    expect(client.state).toBe('time-wait');
    net.clock.advance(2_000);
    expect(client.state).toBe('closed');
    expect(net.alice.tcp.connectionCount).toBe(0);
  });

  it('reports a reset from the peer, and aborts with one', () => {
    const net = twoStacks();
    const { client, server } = establish(net);
    const atClient = collect(client);
    const atServer = collect(server);
    server.abort();
    runUntil(net.clock, () => atClient.closed !== undefined);
    expect(atClient.closed).toBe('reset');
    expect(atServer.closed).toBe('aborted');
    expect(net.alice.tcp.connectionCount + net.bob.tcp.connectionCount).toBe(0);
  });

  it('closes 1000 connections one after another and leaves none behind', () => {
    const net = twoStacks();
    let accepted = 0;
    net.bob.tcp.listen(80, (c) => {
      accepted++;
      echoThenClose(c);
    });
    let done = 0;
    for (let i = 0; i < 1000; i++) {
      const start = net.alice.tcp.connect(BOB, 80, { timeWaitMs: 1000 });
      if (!start.ok) throw new Error(start.error);
      const got = collect(start.connection);
      start.connection.write(new Uint8Array([i & 0xff]));
      start.connection.end();
      runUntil(net.clock, () => got.closed !== undefined);
      expect(got.data()).toEqual(new Uint8Array([i & 0xff]));
      if (got.closed === 'normal') done++;
    }
    net.clock.runUntilIdle();
    expect(accepted).toBe(1000);
    expect(done).toBe(1000);
    expect(net.alice.tcp.stats.connections_active.value).toBe(0);
    expect(net.bob.tcp.stats.connections_active.value).toBe(0);
  });
});

function echoThenClose(connection: TcpSocket): void {
  connection.onData((d) => {
    connection.write(d);
  });
  connection.onEnd(() => connection.end());
}

describe('TCP against forged and stale segments', () => {
  it('answers an in-window RST that is not exact with a challenge ACK and stays up (RFC 5961 §3)', () => {
    const net = twoStacks();
    const { client } = establish(net);
    const challenges = net.alice.tcp.stats.challenge_acks.value;
    forge(net, 'bob', client, { flags: TcpFlag.rst, sequence: (state(client, 'receiveNext') + 1000) >>> 0 });
    net.clock.advance(5);
    expect(client.state).toBe('established');
    expect(net.alice.tcp.stats.challenge_acks.value).toBe(challenges + 1);
    // Out of window: ignored silently.
    forge(net, 'bob', client, { flags: TcpFlag.rst, sequence: (state(client, 'receiveNext') + 0x40000000) >>> 0 });
    net.clock.advance(5);
    expect(client.state).toBe('established');
    expect(net.alice.tcp.stats.challenge_acks.value).toBe(challenges + 1);
    // Exactly RCV.NXT: the connection is reset.
    const got = collect(client);
    forge(net, 'bob', client, { flags: TcpFlag.rst, sequence: state(client, 'receiveNext') });
    net.clock.advance(5);
    expect(got.closed).toBe('reset');
  });

  it('answers a SYN on an established connection with a challenge ACK, never a reset (RFC 5961 §4)', () => {
    const net = twoStacks();
    const { client } = establish(net);
    const before = { challenges: net.alice.tcp.stats.challenge_acks.value, resets: net.alice.tcp.stats.resets_tx.value };
    forge(net, 'bob', client, { flags: TcpFlag.syn, sequence: (state(client, 'receiveNext') + 10) >>> 0 });
    net.clock.advance(5);
    expect(client.state).toBe('established');
    expect(net.alice.tcp.stats.challenge_acks.value).toBe(before.challenges + 1);
    expect(net.alice.tcp.stats.resets_tx.value).toBe(before.resets);
  });

  it('drops data whose ACK acknowledges what was never sent (RFC 5961 §5)', () => {
    const net = twoStacks();
    const { client } = establish(net);
    const got = collect(client);
    forge(
      net,
      'bob',
      client,
      {
        sequence: state(client, 'receiveNext'),
        acknowledgment: (state(client, 'sendMax') + 100_000) >>> 0,
        timestamps: { value: net.clock.now() + 10, echo: 0 },
      },
      ascii('injected'),
    );
    net.clock.advance(5);
    expect(got.bytes).toBe(0);
    expect(client.state).toBe('established');
  });

  it('drops a stale segment whose timestamp is older than the last one (PAWS, RFC 7323 §5)', () => {
    const net = twoStacks();
    const { client, server } = establish(net);
    const got = collect(client);
    net.clock.advance(10_000);
    server.write(new Uint8Array([1]));
    runUntil(net.clock, () => got.bytes === 1);
    const duplicates = net.alice.tcp.stats.duplicate_segments.value;
    const stale = { sequence: state(client, 'receiveNext'), acknowledgment: state(client, 'sendNext'), timestamps: { value: 5, echo: 0 } };
    forge(net, 'bob', client, stale, new Uint8Array([0xee]));
    net.clock.advance(5);
    expect(got.bytes).toBe(1);
    expect(net.alice.tcp.stats.duplicate_segments.value).toBe(duplicates + 1);
    // The same segment with a current timestamp is taken.
    forge(net, 'bob', client, { ...stale, timestamps: { value: net.clock.now() + 1, echo: 0 } }, new Uint8Array([0xee]));
    net.clock.advance(5);
    expect(got.bytes).toBe(2);
  });

  it('limits challenge ACKs to 100 per second', () => {
    const net = twoStacks();
    const { client } = establish(net);
    const before = net.alice.tcp.stats.challenge_acks.value;
    net.clock.advance(2_000);
    for (let i = 0; i < 500; i++)
      forge(net, 'bob', client, { flags: TcpFlag.syn, sequence: (state(client, 'receiveNext') + 10 + i) >>> 0 });
    net.clock.advance(5);
    expect(net.alice.tcp.stats.challenge_acks.value - before).toBe(100);
  });
});

describe('TCP flow control and liveness', () => {
  it('probes a zero window and finishes once the reader resumes', () => {
    const net = twoStacks();
    const { client, server } = establish(net);
    const got = collect(server);
    server.pause();
    const data = pattern(1024 * 1024, 6);
    sendAll(client, data);
    net.clock.advance(60_000);
    expect(got.bytes).toBe(0);
    expect(state(server, 'receiveWindow')).toBe(0);
    expect(net.alice.tcp.stats.zero_window_probes.value).toBeGreaterThan(3);
    expect(client.state).toBe('established');
    server.resume();
    runUntil(net.clock, () => got.ended);
    expect(firstDifference(got.data(), data)).toBe(-1);
  });

  it('keeps an idle connection with keepalives, and drops it when the peer stops answering', () => {
    const net = twoStacks();
    const { client } = establish(net, { client: { keepAlive: { idleMs: 10_000, intervalMs: 1_000, probes: 3 } } });
    const got = collect(client);
    net.clock.advance(60_000);
    expect(client.state).toBe('established');
    expect(net.alice.tcp.stats.keepalives.value).toBeGreaterThanOrEqual(5);
    net.injector.configure({ drop: 1 });
    net.clock.advance(10_000 + 4 * 1_000 + 100);
    expect(got.closed).toBe('timeout');
  });
});
