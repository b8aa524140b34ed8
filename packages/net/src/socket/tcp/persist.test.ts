/**
 * Zero-window probing (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17), one connection driven by hand: the probe
 * byte is data sent (SND.MAX moves over it), a receiver may take it and open its window in the same ACK,
 * probes go on for as long as they are answered, and stop the connection when they are not.
 */
import { describe, expect, it } from 'vitest';
import { ISS, bytes, established, flagsOf } from '../../test/connection-harness.js';

describe('zero-window probes', () => {
  it('moves SND.MAX over the probe byte, so the ACK of probe + 1 that opens the window is taken', () => {
    const h = established({}, { window: 0 });
    h.connection.socket.write(bytes(3000));
    expect(h.take()).toEqual([]);
    h.clock.advance(1000);
    const [probe] = h.take();
    expect(probe).toMatchObject({ sequence: ISS + 1 });
    expect(probe!.payload.length).toBe(1);
    expect(h.connection.sender.sendMax).toBe(ISS + 2);
    // The receiver took the byte and opened its window in the same ACK (its window update was lost).
    h.receive({ acknowledgment: ISS + 2, window: 65535 });
    expect(h.stats.challenge_acks.value).toBe(0);
    // Two full segments; Nagle holds the last 79 bytes until they are acknowledged.
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([
      [ISS + 2, 1460],
      [ISS + 2 + 1460, 1460],
    ]);
    h.receive({ acknowledgment: ISS + 2 + 2920, window: 65535 });
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 2 + 2920, 79]]);
  });

  it('resends the same byte while the window stays shut, and trickles when the receiver takes one at a time', () => {
    const h = established({}, { window: 0 });
    h.connection.socket.write(bytes(10));
    h.clock.advance(1000);
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1, 1]]);
    h.receive({ acknowledgment: ISS + 1, window: 0 }); // not taken
    h.clock.advance(2000);
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1, 1]]);
    h.receive({ acknowledgment: ISS + 2, window: 0 }); // taken, window still shut
    h.clock.advance(4000);
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 2, 1]]);
    expect(h.stats.retransmits.value).toBe(0);
    expect(h.stats.timeouts.value).toBe(0);
  });

  it('keeps probing for an hour while every probe is answered, with no retransmission timeout', () => {
    const h = established({}, { window: 0 });
    h.connection.socket.write(bytes(100));
    for (let t = 0; t < 3_600_000; t += 1000) {
      h.clock.advance(1000);
      if (h.take().length) h.receive({ acknowledgment: ISS + 1, window: 0 });
    }
    expect(h.connection.state).toBe('established');
    expect(h.stats.timeouts.value).toBe(0);
    expect(h.stats.zero_window_probes.value).toBeGreaterThan(60);
  });

  it('gives up after maxRetransmits probes in a row go unanswered', () => {
    const h = established({ maxRetransmits: 4 }, { window: 0 });
    h.connection.socket.write(bytes(100));
    h.clock.advance(600_000);
    expect(h.stats.zero_window_probes.value).toBe(4);
    expect(h.connection.state).toBe('closed');
    expect(h.released).toBe(1);
  });

  it('probes instead of timing out when the window shuts with data in flight', () => {
    const h = established();
    h.connection.socket.write(bytes(2920));
    expect(h.take().length).toBe(2);
    // The peer takes 1000 bytes and shuts its window (it shrank: the rest lies beyond it).
    h.receive({ acknowledgment: ISS + 1001, window: 0 });
    for (let t = 0; t < 600_000; t += 500) {
      h.clock.advance(500);
      const sent = h.take();
      for (const s of sent) expect([s.sequence, s.payload.length, flagsOf(s)]).toEqual([ISS + 1001, 1, 'A']);
      if (sent.length) h.receive({ acknowledgment: ISS + 1001, window: 0 });
    }
    expect(h.connection.state).toBe('established');
    expect(h.stats.timeouts.value).toBe(0);
    h.receive({ acknowledgment: ISS + 1001, window: 65535 });
    // What was outstanding goes again from SND.UNA (one full segment; Nagle holds the rest of it).
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1001, 1460]]);
  });

  it('probes with the FIN when only the FIN is left, and the connection still ends normally', () => {
    const h = established({}, { window: 0 });
    h.connection.socket.end();
    const [fin] = h.take();
    expect(flagsOf(fin!)).toBe('FA');
    h.receive({ acknowledgment: ISS + 1, window: 0 }); // not taken
    h.clock.advance(1000);
    expect(h.take().map(flagsOf)).toEqual(['FA']);
    expect(h.stats.timeouts.value).toBe(0);
    h.receive({ acknowledgment: ISS + 2, window: 65535 });
    expect(h.connection.state).toBe('fin-wait-2');
  });

  it("acknowledges the peer's data from the edge of its shut window, not from past the probe byte", () => {
    const h = established({}, { window: 0 });
    h.connection.socket.write(bytes(10));
    h.clock.advance(1000);
    h.take(); // the probe: SND.MAX is ISS + 2 now
    // The peer, its window shut, sends data of its own: our ACK must carry a sequence number it takes.
    h.receive({ acknowledgment: ISS + 1, window: 0 }, bytes(100));
    h.clock.advance(40);
    const acks = h.take().filter((s) => s.payload.length === 0);
    expect(acks.map((s) => [s.sequence, s.acknowledgment])).toEqual([[ISS + 1, h.peerNext]]);
  });
});
