/**
 * Tail loss probes (RFC 8985 §7): when the ACKs stop with data outstanding, the last segment goes again
 * after the probe timeout (2·SRTT, plus the worst-case delayed ACK for a lone segment) instead of waiting
 * for the RTO; one probe per episode; none without SACK or an RTT, or in recovery.
 */
import { describe, expect, it } from 'vitest';
import { ISS, bytes, established } from '../../test/connection-harness.js';

const MSS = 1000;

/** Five segments out, the first `acked` bytes acknowledged 50 ms later (an RTT sample of 50 ms). */
function tail(acked: number, sack = true) {
  const h = established({ timestamps: false, sack }, { mss: MSS, sackPermitted: sack });
  h.connection.write(bytes(5 * MSS));
  expect(h.take().length).toBe(5);
  h.clock.advance(50);
  h.receive({ acknowledgment: ISS + 1 + acked });
  h.take();
  return h;
}

describe('tail loss probe', () => {
  it('resends the last segment after 2·SRTT when the ACKs stop, and its ACK ends the episode without a timeout', () => {
    const h = tail(4 * MSS);
    // One segment out: PTO = 2·50 + 200 ms (the peer may delay its ACK), but never beyond the RTO
    // (200 ms, its minimum): the probe instead of a timeout, and no collapse of the window.
    h.clock.advance(199);
    expect(h.take()).toEqual([]);
    h.clock.advance(2);
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1 + 4 * MSS, MSS]]);
    expect(h.stats.tail_loss_probes.value).toBe(1);
    h.receive({ acknowledgment: ISS + 1 + 5 * MSS });
    h.clock.advance(5000);
    expect(h.stats.timeouts.value).toBe(0);
    expect(h.connection.sender.flightSize).toBe(0);
  });

  it('probes after 2·SRTT when several segments are out', () => {
    const h = tail(2 * MSS);
    h.clock.advance(99);
    expect(h.take()).toEqual([]);
    h.clock.advance(2);
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1 + 4 * MSS, MSS]]);
  });

  it('sends one probe per episode: the RTO follows one that goes unanswered', () => {
    const h = tail(2 * MSS);
    h.clock.advance(101);
    expect(h.stats.tail_loss_probes.value).toBe(1);
    h.take();
    h.clock.advance(2000);
    expect(h.stats.tail_loss_probes.value).toBe(1);
    expect(h.stats.timeouts.value).toBeGreaterThan(0);
    // Slow start again from SND.UNA.
    expect(h.take()[0]!.sequence).toBe(ISS + 1 + 2 * MSS);
  });

  it('does not probe without SACK', () => {
    const h = tail(2 * MSS, false);
    h.clock.advance(150);
    expect(h.take()).toEqual([]);
    expect(h.stats.tail_loss_probes.value).toBe(0);
  });
});
