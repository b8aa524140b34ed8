/**
 * TCP over a NIC with offloads (src/test/offloading-device.ts does them in software): large segments
 * that honour the peer's MSS once cut, the congestion window and the peer's window; checksums left to
 * the NIC and completed correctly (the peer checks them in software); coalesced segments taken and
 * acknowledged at once. The connection alone (the harness) for the window rules, two stacks for bytes.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock, seededRandom } from '../../clock.js';
import { Inet } from '../../iface/inet.js';
import { ISS, bytes, established } from '../../test/connection-harness.js';
import { FaultInjector } from '../../test/fault-injector.js';
import { linkPair } from '../../test/loopback-device.js';
import { collect, firstDifference, patternBytes, runUntil, sendAll } from '../../test/netsim.js';
import { OffloadingDevice } from '../../test/offloading-device.js';
import { Statman } from '@uos/statman';
import type { FaultOptions } from '../../test/fault-injector.js';

const LARGE = 65536 - 20 - 60;

describe('large segments (TSO) from one connection', () => {
  it('sends whole segments up to the congestion window, each to be cut at the MSS', () => {
    const h = established({ largeSendBytes: LARGE, timestamps: false }, { mss: 1000, window: 65535 });
    const before = h.stats.segments_tx.value;
    h.connection.write(bytes(30_000));
    const sent = h.take();
    // The initial window (RFC 6928: 10 segments) in one large segment.
    expect(sent.map((s) => [s.sequence, s.payload.length, s.segmentSize])).toEqual([[ISS + 1, 10_000, 1000]]);
    expect(h.stats.segments_tx.value - before).toBe(10); // counted as the segments on the wire
    h.receive({ acknowledgment: ISS + 1 + 10_000 });
    const next = h.take();
    // Slow start doubled the window: 20 segments' worth, again as one.
    expect(next.map((s) => [s.sequence, s.payload.length, s.segmentSize])).toEqual([[ISS + 1 + 10_000, 20_000, 1000]]);
  });

  it('stays within the peer’s window, in whole segments, the rest waiting (Nagle) while data is out', () => {
    const h = established({ largeSendBytes: LARGE, timestamps: false }, { mss: 1000, window: 4500 });
    h.connection.write(bytes(8000));
    const sent = h.take();
    expect(sent.map((s) => s.payload.length)).toEqual([4000]);
    expect(sent[0]!.segmentSize).toBe(1000);
  });

  it('sends the last partial segment with the data before it', () => {
    const h = established({ largeSendBytes: LARGE, timestamps: false }, { mss: 1000 });
    h.connection.write(bytes(2500));
    const sent = h.take();
    expect(sent.map((s) => [s.payload.length, s.segmentSize])).toEqual([[2500, 1000]]);
  });

  it('cuts at the segment size timestamps leave (MSS − 12)', () => {
    const h = established({ largeSendBytes: LARGE }, { mss: 1000, timestamps: { value: 5, echo: 0 } });
    h.connection.write(bytes(5000));
    const [first] = h.take();
    expect(first!.segmentSize).toBe(988);
    expect(first!.payload.length % 988 === 0 || first!.payload.length === 5000).toBe(true);
  });

  it('retransmits one segment at a time after a timeout', () => {
    const h = established({ largeSendBytes: LARGE, timestamps: false }, { mss: 1000 });
    h.connection.write(bytes(5000));
    h.take();
    h.clock.advance(1500);
    const resent = h.take();
    expect(resent.map((s) => [s.sequence, s.payload.length, s.segmentSize])).toEqual([[ISS + 1, 1000, undefined]]);
  });

  it('without TSO never sends more than the MSS', () => {
    const h = established({ timestamps: false }, { mss: 1000 });
    h.connection.write(bytes(5000));
    expect(h.take().map((s) => s.payload.length)).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('acknowledges the in-order segments of one receive batch once, at its end; out-of-order ones at once', () => {
    const h = established({ timestamps: false, batches: true }, { mss: 1000 });
    for (let i = 0; i < 6; i++) h.receive({}, bytes(1000));
    expect(h.take()).toEqual([]);
    h.endBatch();
    expect(h.take().map((s) => s.acknowledgment)).toEqual([h.peerNext]);
    // A gap: the duplicate ACK (with SACK) goes at once, for the sender's fast retransmit.
    h.receive({ sequence: h.peerNext + 1000 }, bytes(1000));
    expect(h.take().map((s) => s.acknowledgment)).toEqual([h.peerNext]);
    h.endBatch();
    expect(h.take()).toEqual([]);
  });

  it('acknowledges a coalesced segment at once', () => {
    const h = established({ timestamps: false }, { mss: 1000 });
    h.receive({}, bytes(3000));
    const [ack] = h.take();
    expect(ack!.acknowledgment).toBe(h.peerNext);
  });
});

/** Two stacks on one wire: `a` with offloads (`mode`), `b` as `bMode` or without any. */
function offloadedPair(mode: 'cut' | 'pass', bMode: 'pass' | undefined, faults: FaultOptions = {}) {
  const clock = new VirtualClock();
  const wire = linkPair({ clock, latencyMs: 1, mtu: 65535, names: [`off-${mode}-a`, `off-${mode}-b`] });
  const injector = new FaultInjector(clock, { seed: 7, ...faults });
  const statman = new Statman();
  const deviceA = new OffloadingDevice(injector.wrap(wire[0]), mode);
  const deviceB = bMode ? new OffloadingDevice(injector.wrap(wire[1]), bMode) : injector.wrap(wire[1]);
  const a = new Inet(deviceA, { clock, statman, random: seededRandom(3), configuration: { address: '10.0.0.1', prefixLength: 24 } });
  const b = new Inet(deviceB, { clock, statman, random: seededRandom(4), configuration: { address: '10.0.0.2', prefixLength: 24 } });
  return { clock, a, b, deviceA, deviceB };
}

/** Moves `length` bytes each way between the two stacks; returns what each side received. */
function transfer(net: ReturnType<typeof offloadedPair>, length: number) {
  const { clock, a, b } = net;
  const toB = patternBytes(length, 1);
  const toA = patternBytes(length, 2);
  let atB: ReturnType<typeof collect> | undefined;
  b.tcp.listen(9000, (socket) => {
    atB = collect(socket);
    sendAll(socket, toA);
  });
  const opened = a.tcp.connect('10.0.0.2', 9000);
  if (!opened.ok) throw new Error(opened.error);
  const atA = collect(opened.connection);
  sendAll(opened.connection, toB);
  runUntil(clock, () => atA.ended && atB?.ended === true);
  return { toB, toA, atB: atB!.data(), atA: atA.data() };
}

describe('TCP over a NIC with offloads', () => {
  it('sends large segments the NIC cuts into MSS-sized ones with correct checksums, both ways byte-exact', () => {
    const net = offloadedPair('cut', undefined);
    const result = transfer(net, 1_000_000);
    expect(firstDifference(result.atB, result.toB)).toBe(-1);
    expect(firstDifference(result.atA, result.toA)).toBe(-1);
    const device = net.deviceA as OffloadingDevice;
    expect(device.stats.largeSegments).toBeGreaterThan(0);
    expect(device.stats.longestWirePayload).toBeLessThanOrEqual(1500);
    // The peer checked every checksum in software.
    expect(net.b.tcp.stats.bad_checksum.value).toBe(0);
    expect(net.b.ip.stats.rx_bad_checksum.value).toBe(0);
  });

  it('stays byte-exact with large segments over a lossy, reordering wire', () => {
    const net = offloadedPair('cut', undefined, { drop: 0.02, reorder: 0.02, duplicate: 0.01 });
    const result = transfer(net, 500_000);
    expect(firstDifference(result.atB, result.toB)).toBe(-1);
    expect(firstDifference(result.atA, result.toA)).toBe(-1);
    expect((net.deviceA as OffloadingDevice).stats.largeSegments).toBeGreaterThan(0);
  });

  it('takes coalesced segments with checksums vouched for by the NIC', () => {
    const net = offloadedPair('pass', 'pass');
    const result = transfer(net, 1_000_000);
    expect(firstDifference(result.atB, result.toB)).toBe(-1);
    expect(firstDifference(result.atA, result.toA)).toBe(-1);
    expect((net.deviceB as OffloadingDevice).stats.coalescedReceived).toBeGreaterThan(0);
    expect((net.deviceA as OffloadingDevice).stats.coalescedReceived).toBeGreaterThan(0);
  });
});
