/**
 * RACK (RFC 8985 §6): with SACK, a segment is lost once a segment sent after it was delivered and it has
 * had RACK.rtt plus the reordering window to arrive; the reordering timer waits out the rest. Driven by
 * the harness's virtual clock: segments leave at t = 0 and the peer answers a 50 ms round trip later.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import { ISS, bytes, established } from '../../test/connection-harness.js';
import { Rack } from './rack.js';

const MSS = 1000;
const seg = (n: number): number => ISS + 1 + n * MSS;

/** `count` segments out at t = 0, then 50 ms pass (the round trip). */
function flight(count: number) {
  const h = established({ timestamps: false, sack: true }, { mss: MSS, sackPermitted: true });
  h.connection.write(bytes(count * MSS));
  expect(h.take()).toHaveLength(count);
  h.clock.advance(50);
  return h;
}

const sequences = (segments: { sequence: number; payload: Uint8Array }[]): number[] =>
  segments.filter((s) => s.payload.length > 0).map((s) => s.sequence);

describe('RACK loss detection (RFC 8985 §6)', () => {
  it('finds a loss by time with a single duplicate ACK: the reordering timer fires after RACK.rtt + min_RTT/4', () => {
    const h = flight(4);
    // Segment 1 lost: the ACK of 0 and one SACK of 2 (no three duplicate ACKs, under DupThresh SACKed).
    h.receive({ acknowledgment: seg(1), sackBlocks: [[seg(2), seg(3)]] });
    expect(sequences(h.take())).toEqual([]);
    // reo_wnd = min_RTT / 4 = 12.5 ms: segment 1 (sent at 0) is lost at 0 + 50 + 12.5.
    h.clock.advance(12);
    expect(sequences(h.take())).toEqual([]);
    h.clock.advance(1);
    expect(sequences(h.take())).toEqual([seg(1)]);
    expect(h.stats.fast_retransmits.value).toBe(1);
    expect(h.stats.timeouts.value).toBe(0);
    expect(h.connection.sender.congestion.inRecovery).toBe(true);
    // Its ACK ends recovery: no timeout, nothing else resent.
    h.clock.advance(50);
    h.receive({ acknowledgment: seg(4) });
    h.clock.advance(5000);
    expect(h.stats.timeouts.value).toBe(0);
    expect(h.stats.retransmits.value).toBe(1);
    expect(h.connection.sender.flightSize).toBe(0);
  });

  it('resends at once when DupThresh segments were SACKed and no reordering was seen (reo_wnd = 0)', () => {
    const h = flight(5);
    h.receive({ acknowledgment: seg(1), sackBlocks: [[seg(2), seg(3)]] });
    h.receive({ acknowledgment: seg(1), sackBlocks: [[seg(2), seg(4)]] });
    expect(sequences(h.take())).toEqual([]);
    h.receive({ acknowledgment: seg(1), sackBlocks: [[seg(2), seg(5)]] });
    expect(sequences(h.take())).toEqual([seg(1)]);
  });

  it('does not resend a segment that arrives out of order within the reordering window', () => {
    const h = flight(4);
    h.receive({ acknowledgment: seg(1), sackBlocks: [[seg(2), seg(3)]] });
    // Segment 1 was only late: it arrives 5 ms later, inside reo_wnd (12.5 ms).
    h.clock.advance(5);
    h.receive({ acknowledgment: seg(4) });
    h.clock.advance(100);
    expect(sequences(h.take())).toEqual([]);
    expect(h.stats.retransmits.value).toBe(0);
    expect(h.stats.fast_retransmits.value).toBe(0);
    expect(h.connection.sender.congestion.inRecovery).toBe(false);
    // Delivered below RACK.fack without being resent: reordering was seen, so reo_wnd stays min_RTT/4
    // even with DupThresh segments SACKed.
    expect(h.connection.sender.rack!.reorderingSeen).toBe(true);
  });

  it('finds a retransmission lost again once data sent after it is delivered', () => {
    const h = flight(4);
    h.receive({ acknowledgment: seg(1), sackBlocks: [[seg(2), seg(4)]] });
    h.clock.advance(13);
    expect(sequences(h.take())).toEqual([seg(1)]); // the first retransmission (t = 63)
    // New data after it: segment 4 (t = 64).
    h.clock.advance(1);
    h.connection.write(bytes(MSS));
    expect(sequences(h.take())).toEqual([seg(4)]);
    // 50 ms later segment 4 is SACKed, the retransmission of 1 not: it went before 4, so it is lost too.
    h.clock.advance(50);
    h.receive({ acknowledgment: seg(1), sackBlocks: [[seg(2), seg(5)]] });
    expect(sequences(h.take())).toEqual([seg(1)]);
    expect(h.stats.retransmits.value).toBe(2);
    expect(h.stats.fast_retransmits.value).toBe(1); // one recovery episode
    expect(h.stats.timeouts.value).toBe(0);
  });

  it('learns from a resend answered sooner than min_RTT that the first copy was only late: the window widens', () => {
    const h = flight(4);
    h.receive({ acknowledgment: seg(1), sackBlocks: [[seg(2), seg(3)]] });
    h.clock.advance(13);
    expect(sequences(h.take())).toEqual([seg(1)]);
    const rack = h.connection.sender.rack!;
    expect(rack.reorderingWindow(false, 0, MSS, 1000)).toBe(12.5);
    // 2 ms after the resend (a round trip is 50 ms), segment 1 is acknowledged: that was its first copy.
    h.clock.advance(2);
    h.receive({ acknowledgment: seg(4) });
    expect(rack.reorderingSeen).toBe(true);
    expect(rack.reorderingWindow(false, 0, MSS, 1000)).toBe(25);
    expect(rack.minRtt).toBe(50); // and no RTT sample from it
  });

  it('works with the tail loss probe: the probe is SACKed, the rest of the tail is found lost and resent', () => {
    const h = flight(5);
    h.receive({ acknowledgment: seg(2) });
    h.take();
    // Segments 2, 3 and 4 lost: the probe timer (2·SRTT = 100 ms) resends the last one.
    h.clock.advance(101);
    expect(sequences(h.take())).toEqual([seg(4)]);
    expect(h.stats.tail_loss_probes.value).toBe(1);
    // The probe's SACK: 2 and 3 were sent before it, and a round trip has passed since.
    h.clock.advance(50);
    // Both go at once: the window (cwnd = ssthresh, 2 segments) has room beside what is in flight.
    h.receive({ acknowledgment: seg(2), sackBlocks: [[seg(4), seg(5)]] });
    expect(sequences(h.take())).toEqual([seg(2), seg(3)]);
    h.receive({ acknowledgment: seg(5) });
    h.clock.advance(5000);
    expect(h.stats.timeouts.value).toBe(0);
    expect(h.connection.sender.flightSize).toBe(0);
  });

  it('follows a large send (TSO, one record) from the first SACK of part of it: an earlier hole is lost', () => {
    const h = established({ timestamps: false, sack: true, largeSendBytes: 4 * MSS }, { mss: MSS, sackPermitted: true });
    h.connection.write(bytes(8 * MSS));
    expect(h.take().map((s) => s.payload.length)).toEqual([4 * MSS, 4 * MSS]);
    h.clock.advance(50);
    // Segment 1 (of the first send) and segment 5 (of the second) lost: neither send is delivered whole.
    h.receive({
      acknowledgment: seg(1),
      sackBlocks: [
        [seg(6), seg(8)],
        [seg(2), seg(5)],
      ],
    });
    // Part of the second was delivered: the hole in the first, sent before it, is lost (DupThresh SACKed,
    // no reordering seen: reo_wnd 0). The second's own hole waits: nothing sent after it was delivered.
    expect(sequences(h.take())).toEqual([seg(1)]);
    expect(h.stats.fast_retransmits.value).toBe(1);
  });

  it('keeps no per-connection state without SACK', () => {
    const h = established({ timestamps: false, sack: false }, { mss: MSS });
    h.connection.write(bytes(4 * MSS));
    h.take();
    expect(h.connection.sender.rack).toBeUndefined();
  });
});

describe('the transmission log', () => {
  const host = (sacked: [number, number][] = []) => ({
    timeouts: 0,
    notSackedFrom(sequence: number): number {
      let at = sequence;
      for (const [start, end] of sacked) if (start <= at && at < end) at = end;
      return at;
    },
    reorderTimedOut() {
      this.timeouts++;
    },
  });

  it('drops what the ACKs cover from its head and grows past its first size', () => {
    const clock = new VirtualClock();
    const rack = new Rack(clock, host());
    for (let i = 0; i < 100; i++) rack.sent(i * 10, i * 10 + 10, false);
    expect(rack.records).toBe(100);
    clock.advance(20);
    rack.acknowledged(500, undefined, 1000);
    expect(rack.records).toBe(50);
    expect(rack.rtt).toBe(20);
    expect(rack.minRtt).toBe(20);
    expect(rack.irregular).toBe(false);
    rack.acknowledged(1000, undefined, 1000);
    expect(rack.records).toBe(0);
  });

  it('takes the newest send delivered, by its place in the log, as RACK.xmit_ts even within one clock tick', () => {
    const clock = new VirtualClock();
    const rack = new Rack(clock, host([[20, 30]]));
    rack.sent(10, 20, false);
    rack.sent(20, 30, false);
    rack.sent(0, 10, true); // a retransmission after new data in the same tick
    clock.advance(10);
    rack.acknowledged(0, [[20, 30]], 30);
    // 20-30 delivered; 10-20 went before it: lost once RACK.rtt + reo_wnd (0 here) has passed.
    expect(rack.detectLoss(0)).toBe(1);
    expect(rack.nextLost(0)).toBe(10);
    expect(rack.lostEnd).toBe(20);
    // The retransmission of 0-10 went after 20-30: not lost.
    rack.sent(10, 20, true);
    expect(rack.nextLost(0)).toBe(-1);
  });

  it('widens the reordering window on a D-SACK, at most SRTT', () => {
    const clock = new VirtualClock();
    const rack = new Rack(clock, host());
    rack.sent(0, 10, false);
    rack.sent(10, 20, false);
    clock.advance(40);
    rack.acknowledged(10, undefined, 20);
    expect(rack.reorderingWindow(false, 0, 10, 1000)).toBe(10);
    rack.acknowledged(10, [[0, 10]], 20); // the peer got 0-10 twice
    expect(rack.reorderingWindow(false, 0, 10, 1000)).toBe(20);
    expect(rack.reorderingWindow(false, 0, 10, 15)).toBe(15);
  });
});
