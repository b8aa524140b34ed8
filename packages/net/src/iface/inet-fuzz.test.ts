/**
 * Properties of the whole stack under hostile input: random frames, random IPv4 datagrams with valid
 * checksums and random TCP segments aimed at a live connection never throw out of the stack, leave its
 * state consistent, and leave it able to carry data; and transfers come through byte-exact whatever the
 * seed of the faults on the wire.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4Address, macFromBytes } from '../wire/address.js';
import { checksum } from '../wire/checksum.js';
import { ETHERNET_HEADER_LENGTH } from '../wire/ethernet.js';
import { TcpFlag } from '../wire/tcp.js';
import type { TcpDiagnostics, TcpSocket, TcpState } from '../socket/tcp/tcp-socket.js';
import { seqLe } from '../socket/tcp/sequence.js';
import {
  type TestNetwork,
  collect,
  createTestNetwork,
  firstDifference,
  forgeSegment,
  patternBytes,
  runUntil,
  sendAll,
  udpFrame,
} from '../test/index.js';

const A = ipv4Address('10.0.0.1');
const B = ipv4Address('10.0.0.2');
let network = 0;

function connected(options: { seed?: number } = {}) {
  const n = network++;
  const net = createTestNetwork({ seed: options.seed ?? n + 1, names: [`fz${n}a`, `fz${n}b`] });
  let server: TcpSocket | undefined;
  net.b.tcp.listen(80, (c) => {
    server = c;
  });
  const start = net.a.tcp.connect(B, 80);
  if (!start.ok) throw new Error(start.error);
  runUntil(net.clock, () => server !== undefined && start.connection.state === 'established', 30_000);
  return { net, client: start.connection, server: server! };
}

const STATES: TcpState[] = [
  'syn-sent',
  'syn-received',
  'established',
  'fin-wait-1',
  'fin-wait-2',
  'close-wait',
  'closing',
  'last-ack',
  'time-wait',
  'closed',
];

const lastKnown = new WeakMap<TcpSocket, TcpDiagnostics>();

/** The connection's variables now, or as they were last seen once its stack forgot it (closed). */
function diagnostics(net: TestNetwork, connection: TcpSocket): TcpDiagnostics {
  const found = net.a.tcp.inspect(connection) ?? net.b.tcp.inspect(connection) ?? lastKnown.get(connection);
  if (!found) throw new Error('a connection neither stack knows');
  lastKnown.set(connection, found);
  return found;
}

/** What must hold of a connection whatever arrived. */
function expectConsistent(net: TestNetwork, connection: TcpSocket): void {
  expect(STATES).toContain(connection.state);
  if (connection.state === 'closed') return;
  const s = diagnostics(net, connection);
  expect(s.state).toBe(connection.state);
  expect(seqLe(s.sendUnacknowledged, s.sendNext) && seqLe(s.sendNext, s.sendMax)).toBe(true);
  expect(s.receiveWindow).toBeGreaterThanOrEqual(0);
  expect(s.congestionWindow).toBeGreaterThan(0);
  expect(s.rtoMs).toBeGreaterThan(0);
}

/** After whatever happened, a fresh connection between the stacks still carries data both ways. */
function expectStillWorks(net: TestNetwork, port: number): void {
  let server: TcpSocket | undefined;
  const listening = net.b.tcp.listen(port, (c) => {
    server = c;
    collectAndEcho(c);
  });
  if (!listening.ok) throw new Error(listening.error);
  const start = net.a.tcp.connect(B, port);
  if (!start.ok) throw new Error(start.error);
  const got = collect(start.connection);
  const data = patternBytes(20_000, port);
  sendAll(start.connection, data);
  runUntil(net.clock, () => got.ended, 120_000);
  expect(server).toBeDefined();
  expect(firstDifference(got.data(), data)).toBe(-1);
}

function collectAndEcho(connection: TcpSocket): void {
  connection.onData((d) => {
    connection.write(d);
  });
  connection.onEnd(() => connection.end());
}

/** A frame from the wire's far end to `net.a`, Ethernet header filled in. */
function deliver(net: TestNetwork, etherType: number, body: Uint8Array): void {
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + body.length);
  frame.set(net.wire[0].mac, 0);
  frame.set(net.wire[1].mac, 6);
  frame[12] = etherType >> 8;
  frame[13] = etherType & 0xff;
  frame.set(body, ETHERNET_HEADER_LENGTH);
  net.wire[1].transmit(frame);
}

describe('the stack under random input', () => {
  it('takes random frames of any type and size without throwing', () => {
    const { net, client } = connected();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            etherType: fc.constantFrom(0x0800, 0x0806, 0x86dd, 0x8100, 0x1234),
            body: fc.uint8Array({ minLength: 0, maxLength: 1500 }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (frames) => {
          for (const f of frames) deliver(net, f.etherType, f.body);
          net.clock.advance(5);
          expectConsistent(net, client);
        },
      ),
      { numRuns: 200, seed: 42 },
    );
    expectStillWorks(net, 81);
  });

  it('takes IPv4 datagrams with valid header checksums and random contents without throwing', () => {
    const { net, client } = connected();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            headerWords: fc.integer({ min: 0, max: 15 }),
            protocol: fc.constantFrom(1, 6, 17, 2, 47, 255),
            flagsAndOffset: fc.oneof(fc.constant(0), fc.constant(0x4000), fc.integer({ min: 0, max: 0xffff })),
            totalLength: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xffff })),
            destination: fc.constantFrom(A, 0xffffffff, 0x0a0000ff, B, 0xe0000001),
            ttl: fc.integer({ min: 0, max: 255 }),
            rest: fc.uint8Array({ minLength: 0, maxLength: 1480 }),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        (datagrams) => {
          for (const d of datagrams) {
            const body = new Uint8Array(20 + d.rest.length);
            body.set(d.rest, 20);
            body[0] = 0x40 | d.headerWords;
            const total = d.totalLength < 0 ? body.length : d.totalLength;
            body[2] = total >> 8;
            body[3] = total & 0xff;
            body[6] = d.flagsAndOffset >> 8;
            body[7] = d.flagsAndOffset & 0xff;
            body[8] = d.ttl;
            body[9] = d.protocol;
            body.set([10, 0, 0, 2], 12);
            body.set([d.destination >>> 24, (d.destination >>> 16) & 0xff, (d.destination >>> 8) & 0xff, d.destination & 0xff], 16);
            const headerLength = Math.min(body.length, Math.max(20, d.headerWords * 4));
            const sum = checksum(body, 0, headerLength);
            body[10] = sum >> 8;
            body[11] = sum & 0xff;
            deliver(net, 0x0800, body);
          }
          net.clock.advance(5);
          expectConsistent(net, client);
        },
      ),
      { numRuns: 300, seed: 43 },
    );
    // Reassembly buffers from the random fragments are bounded and expire.
    net.clock.advance(60_000);
    expectStillWorks(net, 82);
  });

  it('keeps a connection consistent whatever segments arrive for it', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            sequenceOffset: fc.oneof(fc.integer({ min: -70_000, max: 70_000 }), fc.integer({ min: 0, max: 0xffffffff })),
            acknowledgmentOffset: fc.oneof(fc.integer({ min: -70_000, max: 70_000 }), fc.integer({ min: 0, max: 0xffffffff })),
            flags: fc.integer({ min: 0, max: 0xff }),
            window: fc.integer({ min: 0, max: 0xffff }),
            timestamps: fc.option(
              fc.record({ value: fc.integer({ min: 0, max: 0xffffffff }), echo: fc.integer({ min: 0, max: 0xffffffff }) }),
              { nil: undefined },
            ),
            sackBlocks: fc.option(
              fc.array(fc.tuple(fc.integer({ min: -70_000, max: 70_000 }), fc.integer({ min: 0, max: 70_000 })), { maxLength: 3 }),
              { nil: undefined },
            ),
            mss: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
            windowScale: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
            payload: fc.uint8Array({ maxLength: 1400 }),
            from: fc.constantFrom('b', 'a'),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (segments) => {
          const { net, client, server } = connected();
          const atClient = collect(client);
          const atServer = collect(server);
          sendAll(client, patternBytes(30_000, 1), { end: false });
          sendAll(server, patternBytes(30_000, 2), { end: false });
          for (const s of segments) {
            const target = s.from === 'b' ? client : server;
            const [sender, receiver] = s.from === 'b' ? [net.wire[1], net.wire[0]] : [net.wire[0], net.wire[1]];
            const st = diagnostics(net, target);
            const sequence = (st.receiveNext + s.sequenceOffset) >>> 0;
            const acknowledgment = (st.sendUnacknowledged + s.acknowledgmentOffset) >>> 0;
            forgeSegment(
              sender,
              receiver,
              target,
              {
                sequence,
                acknowledgment,
                flags: s.flags,
                window: s.window,
                ...(s.timestamps ? { timestamps: s.timestamps } : {}),
                ...(s.sackBlocks
                  ? { sackBlocks: s.sackBlocks.map(([start, length]) => [(sequence + start) >>> 0, (sequence + start + length) >>> 0]) }
                  : {}),
                ...(s.mss !== undefined ? { mss: s.mss } : {}),
                ...(s.windowScale !== undefined && s.flags & TcpFlag.syn ? { windowScale: s.windowScale } : {}),
              },
              s.payload,
            );
            net.clock.advance(1);
            expectConsistent(net, client);
            expectConsistent(net, server);
          }
          // Let the real exchange go on for a while: the connection ends one way or another, or lives on.
          net.clock.advance(5_000);
          expectConsistent(net, client);
          expectConsistent(net, server);
          expect(atClient.bytes).toBeGreaterThanOrEqual(0);
          expect(atServer.bytes).toBeGreaterThanOrEqual(0);
          net.clock.runUntilIdle(3_600_000);
          expectStillWorks(net, 83);
        },
      ),
      { numRuns: 150, seed: 44 },
    );
  });

  it('answers a UDP datagram to a closed port with ICMP and keeps going after a flood of them', () => {
    const { net } = connected();
    const before = net.a.icmp.stats.unreachable_tx.value;
    for (let i = 0; i < 5000; i++) {
      net.wire[1].transmit(
        udpFrame(
          { sourceMac: macFromBytes(net.wire[1].mac), destinationMac: macFromBytes(net.wire[0].mac), source: B, destination: A },
          { source: 1000 + (i % 100), destination: 9 },
          new Uint8Array(i % 64),
        ),
      );
    }
    net.clock.advance(1000);
    const sent = net.a.icmp.stats.unreachable_tx.value - before;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(5000); // rate-limited
    expect(net.a.icmp.stats.rate_limited.value).toBeGreaterThan(0);
    expectStillWorks(net, 84);
  });
});

describe('transfers whatever the faults', () => {
  it('delivers 256 KB each way byte-exact for any fault seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const n = network++;
        const net = createTestNetwork({
          seed,
          names: [`fs${n}a`, `fs${n}b`],
          faults: { drop: 0.05, duplicate: 0.02, reorder: 0.05, corrupt: 0.01, jitterMs: 2 },
        });
        let server: TcpSocket | undefined;
        net.b.tcp.listen(80, (c) => {
          server = c;
        });
        const start = net.a.tcp.connect(B, 80);
        if (!start.ok) throw new Error(start.error);
        runUntil(net.clock, () => server !== undefined, 120_000);
        const up = patternBytes(256 * 1024, seed);
        const down = patternBytes(256 * 1024, seed + 1);
        const atServer = collect(server!);
        const atClient = collect(start.connection);
        sendAll(start.connection, up);
        sendAll(server!, down);
        runUntil(net.clock, () => atServer.ended && atClient.ended, 3_600_000);
        expect(firstDifference(atServer.data(), up)).toBe(-1);
        expect(firstDifference(atClient.data(), down)).toBe(-1);
        net.clock.runUntilIdle();
        expect(net.a.tcp.connectionCount + net.b.tcp.connectionCount).toBe(0);
      }),
      { numRuns: 25, seed: 45 },
    );
  }, 120_000);
});
