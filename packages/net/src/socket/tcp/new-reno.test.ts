/** NewReno's arithmetic (RFC 5681, RFC 6582), on numbers alone. */
import { describe, expect, it } from 'vitest';
import { NewReno } from './new-reno.js';

const MSS = 1000;
const ISS = 5000;

function started(): NewReno {
  const reno = new NewReno(ISS, 536);
  reno.start(MSS, false);
  return reno;
}

describe('NewReno', () => {
  it('starts with ten segments (RFC 6928)', () => {
    expect(started().window).toBe(10 * MSS);
  });

  it('grows by the bytes acknowledged in slow start, a stretch ACK counting in full (RFC 3465, as Linux)', () => {
    const reno = started();
    reno.onNewAck(ISS + 500, 500, 0, MSS);
    expect(reno.window).toBe(10 * MSS + 500);
    reno.onNewAck(ISS + 3500, 3000, 0, MSS);
    expect(reno.window).toBe(10 * MSS + 3500);
  });

  it('stops slow start near ssthresh, a stretch ACK overshooting it by a segment at most', () => {
    const reno = started();
    reno.onRetransmitTimeout(ISS + 24 * MSS, 24 * MSS, MSS); // ssthresh 12 segments, cwnd 1
    reno.onNewAck(ISS + 40 * MSS, 40 * MSS, 0, MSS);
    expect(reno.window).toBe(12 * MSS);
  });

  it('grows by about one segment per window in congestion avoidance (RFC 5681 §3.1)', () => {
    const reno = started();
    reno.onRetransmitTimeout(ISS + 20 * MSS, 20 * MSS, MSS); // ssthresh 10 segments, cwnd 1
    let ack = ISS;
    while (reno.window < reno.slowStartThreshold) reno.onNewAck((ack += MSS), MSS, 0, MSS);
    const before = reno.window;
    for (let i = 0; i < 10; i++) reno.onNewAck((ack += MSS), MSS, 0, MSS);
    // Ten ACKs are one window's worth: about one segment more, MSS²/cwnd at a time.
    expect(reno.window - before).toBeGreaterThan(0.9 * MSS);
    expect(reno.window - before).toBeLessThanOrEqual(MSS);
  });

  it('enters fast recovery on the third duplicate ACK: ssthresh half the flight, cwnd ssthresh + 3 MSS (RFC 5681 §3.2)', () => {
    const reno = started();
    reno.onNewAck(ISS + MSS, MSS, 9 * MSS, MSS);
    expect(reno.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0)).toBe('none');
    expect(reno.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0)).toBe('none');
    expect(reno.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0)).toBe('recover');
    expect(reno.inRecovery).toBe(true);
    expect(reno.slowStartThreshold).toBe(4500);
    expect(reno.window).toBe(4500 + 3 * MSS);
  });

  it('never lets ssthresh fall under two segments', () => {
    const reno = started();
    reno.onNewAck(ISS + MSS, MSS, MSS, MSS);
    for (let i = 0; i < 3; i++) reno.onDuplicateAck(ISS + MSS, ISS + 2 * MSS, MSS, MSS, 0);
    expect(reno.slowStartThreshold).toBe(2 * MSS);
  });

  it('with SACK counts three segments SACKed as the loss signal (RFC 6675), before three duplicates', () => {
    const reno = new NewReno(ISS, 536);
    reno.start(MSS, true);
    reno.onNewAck(ISS + MSS, MSS, 9 * MSS, MSS);
    expect(reno.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 3 * MSS)).toBe('recover');
  });

  it('inflates per duplicate in recovery, letting the next loss go with SACK only', () => {
    const plain = started();
    plain.onNewAck(ISS + MSS, MSS, 9 * MSS, MSS);
    for (let i = 0; i < 3; i++) plain.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0);
    const window = plain.window;
    expect(plain.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0)).toBe('none');
    expect(plain.window).toBe(window + MSS);
    const sack = new NewReno(ISS, 536);
    sack.start(MSS, true);
    sack.onNewAck(ISS + MSS, MSS, 9 * MSS, MSS);
    for (let i = 0; i < 3; i++) sack.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0);
    expect(sack.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0)).toBe('retransmit');
  });

  it('retransmits on a partial ACK and deflates by what it acknowledged less one MSS (RFC 6582 §3.2 step 4)', () => {
    const reno = started();
    reno.onNewAck(ISS + MSS, MSS, 9 * MSS, MSS);
    for (let i = 0; i < 3; i++) reno.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0);
    const window = reno.window;
    expect(reno.onNewAck(ISS + 3 * MSS, 2 * MSS, 7 * MSS, MSS)).toBe('retransmit');
    expect(reno.window).toBe(window - 2 * MSS + MSS);
    expect(reno.inRecovery).toBe(true);
  });

  it('leaves recovery on a full ACK with cwnd min(ssthresh, FlightSize + MSS) (RFC 6582 §3.2 step 3)', () => {
    const reno = started();
    reno.onNewAck(ISS + MSS, MSS, 9 * MSS, MSS);
    for (let i = 0; i < 3; i++) reno.onDuplicateAck(ISS + MSS, ISS + 10 * MSS, 9 * MSS, MSS, 0);
    expect(reno.onNewAck(ISS + 10 * MSS, 9 * MSS, 2 * MSS, MSS)).toBe('none');
    expect(reno.inRecovery).toBe(false);
    expect(reno.window).toBe(3 * MSS);
  });

  it('starts no new recovery until SND.UNA passes `recover` (RFC 6582 §4.1)', () => {
    const reno = started();
    reno.onNewAck(ISS + MSS, MSS, 9 * MSS, MSS);
    reno.onRetransmitTimeout(ISS + 10 * MSS, 9 * MSS, MSS);
    for (let i = 0; i < 5; i++) expect(reno.onDuplicateAck(ISS + 2 * MSS, ISS + 10 * MSS, 8 * MSS, MSS, 0)).toBe('none');
    reno.onNewAck(ISS + 11 * MSS, MSS, 0, MSS);
    for (let i = 0; i < 2; i++) reno.onDuplicateAck(ISS + 11 * MSS, ISS + 15 * MSS, 4 * MSS, MSS, 0);
    expect(reno.onDuplicateAck(ISS + 11 * MSS, ISS + 15 * MSS, 4 * MSS, MSS, 0)).toBe('recover');
  });

  it('falls back to one segment on a timeout (RFC 5681 §3.1)', () => {
    const reno = started();
    reno.onRetransmitTimeout(ISS + 8 * MSS, 8 * MSS, MSS);
    expect(reno.window).toBe(MSS);
    expect(reno.slowStartThreshold).toBe(4 * MSS);
    expect(reno.inRecovery).toBe(false);
  });
});
