/**
 * The rules one TcpConnection enforces, one test each, driven with crafted segments and a virtual clock
 * (src/test/connection-harness.ts plays the layer and the peer): RFC 9293's handshake, acceptability and
 * closing, RFC 5961's checks against blind attacks, RFC 7323's options and PAWS, RFC 6298's timer, RFC
 * 5681/6582 (NewReno) as the connection applies them, RFC 2018/6675 SACK both ways, and the window rules
 * of docs/architecture/network.md.
 */
import { describe, expect, it } from 'vitest';
import { ISS, PEER_ISS, bytes, established, flagsOf, harness, last } from '../../test/connection-harness.js';
import { TcpFlag } from '../../wire/tcp.js';
import { diagnose } from './diagnostics.js';

const MSS = 1460;

describe('RFC 9293 §3.10.7.3: SYN-SENT', () => {
  it('opens with a SYN carrying our options, its window unscaled', () => {
    const h = harness();
    h.connection.connect();
    const [syn] = h.take();
    expect(flagsOf(syn!)).toBe('S');
    expect(syn).toMatchObject({ sequence: ISS, mss: 1460, windowScale: 2, sackPermitted: true, window: 65535 });
    expect(syn!.timestamps!.echo).toBe(0);
  });

  it('answers an ACK that does not acknowledge our SYN with a reset from that ACK, and stays', () => {
    const h = harness();
    h.connection.connect();
    h.take();
    h.receive({ sequence: 77, acknowledgment: ISS + 5 });
    expect(h.take().map((s) => [flagsOf(s), s.sequence])).toEqual([['R', ISS + 5]]);
    expect(h.connection.state).toBe('syn-sent');
  });

  it('is refused by a reset whose ACK is acceptable, and ignores one without an ACK', async () => {
    const h = harness();
    h.connection.connect();
    h.receive({ flags: TcpFlag.rst, sequence: PEER_ISS });
    expect(h.connection.state).toBe('syn-sent');
    h.receive({ flags: TcpFlag.rst | TcpFlag.ack, sequence: 0, acknowledgment: ISS + 1 });
    expect(h.connection.state).toBe('closed');
    expect(await h.connection.opened()).toEqual({ ok: false, error: 'refused' });
    expect(h.released).toBe(1);
  });

  it('is established by a SYN-ACK, and acknowledges it', async () => {
    const h = harness();
    h.connection.connect();
    h.take();
    h.receive({ flags: TcpFlag.syn | TcpFlag.ack, sequence: PEER_ISS, acknowledgment: ISS + 1, mss: 1000 });
    expect(h.connection.state).toBe('established');
    expect(h.take().map((s) => [flagsOf(s), s.sequence, s.acknowledgment])).toEqual([['A', ISS + 1, PEER_ISS + 1]]);
    expect(await h.connection.opened()).toEqual({ ok: true });
    expect(h.connection.effectiveMss).toBe(1000);
  });

  it('answers a bare SYN with a SYN-ACK from SYN-RECEIVED (simultaneous open, figure 8)', () => {
    const h = harness();
    h.connection.connect();
    h.take();
    h.receive({ flags: TcpFlag.syn, sequence: PEER_ISS });
    expect(h.connection.state).toBe('syn-received');
    expect(h.take().map((s) => [flagsOf(s), s.sequence, s.acknowledgment])).toEqual([['SA', ISS, PEER_ISS + 1]]);
    h.receive({ acknowledgment: ISS + 1 });
    expect(h.connection.state).toBe('established');
  });
});

describe('RFC 9293 §3.10.7.4: SYN-RECEIVED', () => {
  const passive = () => {
    const h = harness({ state: 'syn-received' });
    h.connection.acceptSyn({
      sourcePort: 80,
      destinationPort: 40000,
      sequence: PEER_ISS,
      acknowledgment: 0,
      flags: TcpFlag.syn,
      window: 8192,
      mss: 1460,
      payload: new Uint8Array(0),
    });
    return h;
  };

  it('answers the SYN with a SYN-ACK, and is established by the ACK of it', () => {
    const h = passive();
    expect(h.take().map((s) => [flagsOf(s), s.sequence, s.acknowledgment])).toEqual([['SA', ISS, PEER_ISS + 1]]);
    h.receive({ acknowledgment: ISS + 1 });
    expect(h.connection.state).toBe('established');
    expect(h.established).toBe(1);
  });

  it('resets an ACK that does not acknowledge the SYN, and stays', () => {
    const h = passive();
    h.take();
    h.receive({ acknowledgment: ISS });
    expect(h.take().map((s) => [flagsOf(s), s.sequence])).toEqual([['R', ISS]]);
    expect(h.connection.state).toBe('syn-received');
  });

  it('answers the peer’s repeated SYN with the SYN-ACK again', () => {
    const h = passive();
    h.take();
    h.receive({ flags: TcpFlag.syn, sequence: PEER_ISS });
    expect(h.take().map(flagsOf)).toEqual(['SA']);
  });

  it('is refused by an exact reset', () => {
    const h = passive();
    const reasons: string[] = [];
    h.connection.socket.onClose((reason) => reasons.push(reason));
    h.receive({ flags: TcpFlag.rst });
    expect(reasons).toEqual(['refused']);
  });
});

describe('RFC 9293 §3.10.7.4: acceptability', () => {
  /** Established, with a 1000-byte receive buffer that nobody reads yet. */
  const small = () => established({ receiveBufferBytes: 1000 });

  it('takes data at RCV.NXT and acknowledges it', () => {
    const h = established();
    const got: number[] = [];
    h.connection.socket.onData((d) => got.push(...d));
    h.receive({ acknowledgment: ISS + 1 }, bytes(3));
    expect(got).toEqual([0, 1, 2]);
    expect(h.connection.receiveNext).toBe(PEER_ISS + 4);
  });

  it('with a zero window takes an empty segment at RCV.NXT only, and no data', () => {
    const h = small();
    h.receive({ acknowledgment: ISS + 1 }, bytes(1000));
    expect(diagnose(h.connection).receiveWindow).toBe(0);
    h.take();
    h.receive({ acknowledgment: ISS + 1, window: 1000 });
    expect(h.stats.duplicate_segments.value).toBe(0);
    h.receive({ acknowledgment: ISS + 1, sequence: h.peerNext + 1 });
    expect(h.stats.duplicate_segments.value).toBe(1);
    h.receive({ acknowledgment: ISS + 1 }, bytes(10));
    expect(h.stats.duplicate_segments.value).toBe(2);
    expect(h.connection.socket.bufferedBytes + diagnose(h.connection).heldBytes).toBe(1000);
    expect(h.take().every((s) => flagsOf(s) === 'A' && s.acknowledgment === PEER_ISS + 1001)).toBe(true);
  });

  it('keeps only the new bytes of a segment that begins before RCV.NXT', () => {
    const h = established();
    const got: number[] = [];
    h.connection.socket.onData((d) => got.push(...d));
    h.receive({ acknowledgment: ISS + 1 }, bytes(4));
    h.receive({ acknowledgment: ISS + 1, sequence: PEER_ISS + 3 }, bytes(4, 2));
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('acknowledges a segment wholly before RCV.NXT (a duplicate) and drops it', () => {
    const h = established();
    const got: number[] = [];
    h.connection.socket.onData((d) => got.push(...d));
    h.receive({ acknowledgment: ISS + 1 }, bytes(4));
    h.take();
    h.receive({ acknowledgment: ISS + 1, sequence: PEER_ISS + 1 }, bytes(4));
    expect(got).toEqual([0, 1, 2, 3]);
    expect(h.stats.duplicate_segments.value).toBe(1);
    expect(h.take().map((s) => s.acknowledgment)).toEqual([PEER_ISS + 5]);
  });

  it('drops data beyond the window, answering with an ACK', () => {
    const h = small();
    h.receive({ acknowledgment: ISS + 1, sequence: PEER_ISS + 1 + 1000 }, bytes(10));
    expect(h.stats.duplicate_segments.value).toBe(1);
    expect(diagnose(h.connection).heldBytes).toBe(0);
  });

  it('trims data that runs past the window', () => {
    const h = small();
    h.receive({ acknowledgment: ISS + 1 }, bytes(1500));
    expect(diagnose(h.connection).heldBytes).toBe(1000);
    expect(h.connection.receiveNext).toBe(PEER_ISS + 1001);
  });
});

describe('RFC 9293 §3.5, §3.6: closing', () => {
  it('closes actively: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for its time, then closed', () => {
    const h = established({ timeWaitMs: 30_000 });
    const reasons: string[] = [];
    h.connection.socket.onClose((reason) => reasons.push(reason));
    h.connection.socket.end();
    expect(h.take().map((s) => [flagsOf(s), s.sequence])).toEqual([['FA', ISS + 1]]);
    expect(h.connection.state).toBe('fin-wait-1');
    h.receive({ acknowledgment: ISS + 2 });
    expect(h.connection.state).toBe('fin-wait-2');
    h.receive({ flags: TcpFlag.fin | TcpFlag.ack, acknowledgment: ISS + 2 });
    expect(h.connection.state).toBe('time-wait');
    expect(h.take().map((s) => [flagsOf(s), s.acknowledgment])).toEqual([['A', PEER_ISS + 2]]);
    expect(reasons).toEqual(['normal']);
    // The connection itself is let go at once: a small record answers for it meanwhile.
    expect(h.released).toBe(1);
    expect(h.timeWait).toMatchObject({ sendNext: ISS + 2, receiveNext: PEER_ISS + 2, durationMs: 30_000 });
    h.clock.advance(29_999);
    expect(h.connection.socket.state).toBe('time-wait');
    h.clock.advance(1);
    expect(h.connection.socket.state).toBe('closed');
    expect(h.timeWait!.ended).toBe(true);
  });

  it('closes passively: CLOSE-WAIT on the peer’s FIN (the end reaches the socket), LAST-ACK, closed', () => {
    const h = established();
    const events: string[] = [];
    h.connection.socket.onEnd(() => events.push('end'));
    h.receive({ flags: TcpFlag.fin | TcpFlag.ack, acknowledgment: ISS + 1 });
    expect(h.connection.state).toBe('close-wait');
    expect(events).toEqual(['end']);
    h.connection.socket.end();
    expect(h.connection.state).toBe('last-ack');
    h.receive({ acknowledgment: ISS + 2 });
    expect(h.connection.state).toBe('closed');
    expect(h.released).toBe(1);
  });

  it('closes simultaneously: CLOSING, then TIME-WAIT when our FIN is acknowledged', () => {
    const h = established();
    h.connection.socket.end();
    h.receive({ flags: TcpFlag.fin | TcpFlag.ack, acknowledgment: ISS + 1 });
    expect(h.connection.state).toBe('closing');
    h.receive({ acknowledgment: ISS + 2 });
    expect(h.connection.state).toBe('time-wait');
  });

  it('acknowledges a repeated FIN in TIME-WAIT and starts the wait again', () => {
    const h = established({ timeWaitMs: 10_000 });
    h.connection.socket.end();
    h.receive({ acknowledgment: ISS + 2 });
    h.receive({ flags: TcpFlag.fin | TcpFlag.ack, acknowledgment: ISS + 2 });
    h.take();
    h.clock.advance(9_000);
    h.receive({ flags: TcpFlag.fin | TcpFlag.ack, acknowledgment: ISS + 2, sequence: PEER_ISS + 1 });
    expect(h.take().map(flagsOf)).toEqual(['A']);
    h.clock.advance(9_000);
    expect(h.connection.socket.state).toBe('time-wait');
    h.clock.advance(1_000);
    expect(h.connection.socket.state).toBe('closed');
  });

  it('does not take a FIN that lies beyond RCV.NXT', () => {
    const h = established();
    h.receive({ flags: TcpFlag.fin | TcpFlag.ack, acknowledgment: ISS + 1, sequence: PEER_ISS + 11 });
    expect(h.connection.state).toBe('established');
    expect(h.take().map((s) => [flagsOf(s), s.acknowledgment])).toEqual([['A', PEER_ISS + 1]]);
  });

  it('refuses writes after end(), and aborts with a reset at SND.NXT', () => {
    const h = established();
    h.connection.socket.write(bytes(10));
    h.connection.socket.end();
    expect(h.connection.socket.write(bytes(1))).toEqual({ ok: false, error: 'ending' });
    h.take();
    h.connection.socket.abort();
    expect(h.take().map((s) => [flagsOf(s), s.sequence])).toEqual([['R', ISS + 12]]);
    expect(h.connection.socket.write(bytes(1))).toEqual({ ok: false, error: 'closed' });
  });
});

describe('RFC 5961: blind attacks', () => {
  it('§3.2: resets on a RST at exactly RCV.NXT', () => {
    const h = established();
    const reasons: string[] = [];
    h.connection.socket.onClose((reason) => reasons.push(reason));
    h.receive({ flags: TcpFlag.rst });
    expect(reasons).toEqual(['reset']);
    expect(h.stats.resets_rx.value).toBe(1);
  });

  it('§3.2: answers an in-window RST elsewhere with a challenge ACK, and ignores one outside the window', () => {
    const h = established();
    h.receive({ flags: TcpFlag.rst, sequence: PEER_ISS + 1000 });
    expect(h.connection.state).toBe('established');
    expect(h.take().map((s) => [flagsOf(s), s.acknowledgment])).toEqual([['A', PEER_ISS + 1]]);
    expect(h.stats.challenge_acks.value).toBe(1);
    h.receive({ flags: TcpFlag.rst, sequence: PEER_ISS + 0x40000000 });
    expect(h.take()).toEqual([]);
    expect(h.connection.state).toBe('established');
  });

  it('§4: answers a SYN on a synchronized connection with a challenge ACK, never a reset', () => {
    const h = established();
    h.receive({ flags: TcpFlag.syn, sequence: PEER_ISS + 10 });
    expect(h.connection.state).toBe('established');
    expect(h.take().map(flagsOf)).toEqual(['A']);
    expect(h.stats.challenge_acks.value).toBe(1);
    expect(h.stats.resets_tx.value).toBe(0);
  });

  it('§5: drops a segment whose ACK acknowledges what was never sent', () => {
    const h = established();
    const got: number[] = [];
    h.connection.socket.onData((d) => got.push(...d));
    h.receive({ acknowledgment: ISS + 100 }, bytes(5));
    expect(got).toEqual([]);
    expect(h.stats.challenge_acks.value).toBe(1);
    expect(h.connection.state).toBe('established');
  });

  it('§5: drops an ACK older than SND.UNA less the largest window the peer offered', () => {
    const h = established({}, { window: 1000 });
    h.connection.socket.write(bytes(900));
    h.receive({ acknowledgment: ISS + 901, window: 1000 });
    h.take();
    const got: number[] = [];
    h.connection.socket.onData((d) => got.push(...d));
    h.receive({ acknowledgment: ISS + 901 - 1001 }, bytes(5));
    expect(got).toEqual([]);
    expect(h.stats.challenge_acks.value).toBe(1);
    h.receive({ acknowledgment: ISS + 901 - 1000 }, bytes(5));
    expect(got).toHaveLength(5);
  });

  it('§7: sends no challenge ACK when the layer’s rate limit is spent', () => {
    const h = established();
    h.allowChallengeAck = false;
    h.receive({ flags: TcpFlag.syn, sequence: PEER_ISS + 10 });
    expect(h.take()).toEqual([]);
    expect(h.stats.challenge_acks.value).toBe(0);
  });
});

describe('RFC 7323: window scaling and timestamps', () => {
  it('uses window scaling, SACK and timestamps only when the peer’s SYN carries them too', () => {
    const none = established();
    expect(diagnose(none.connection)).toMatchObject({ sendShift: 0, receiveShift: 0, sack: false, timestamps: false });
    const all = established({}, { windowScale: 7, sackPermitted: true, timestamps: { value: 100, echo: 1 } });
    expect(diagnose(all.connection)).toMatchObject({ sendShift: 7, receiveShift: 2, sack: true, timestamps: true });
    expect(all.connection.effectiveMss).toBe(MSS - 12);
    const capped = established({}, { windowScale: 20 });
    expect(diagnose(capped.connection).sendShift).toBe(14);
  });

  it('scales the peer’s windows by its shift, and ours by our shift, rounded up', () => {
    const h = established({ receiveBufferBytes: 200_000 }, { windowScale: 3, window: 1000 });
    expect(h.connection.sender.sendWindow).toBe(1000); // the SYN-ACK's window is not scaled
    h.receive({ acknowledgment: ISS + 1, window: 1000 });
    expect(h.connection.sender.sendWindow).toBe(8000);
    h.receive({ acknowledgment: ISS + 1 }, bytes(1));
    h.clock.advance(40);
    // 200,000 bytes less the 1 held: 199,999 >> 2 rounded up, so the edge does not move left.
    expect(last(h.take())!.window).toBe(50_000);
  });

  it('PAWS: drops a segment whose timestamp is older than TS.Recent, acknowledging it; a RST is exempt', () => {
    const h = established({}, { timestamps: { value: 1000, echo: 1 } });
    const got: number[] = [];
    h.connection.socket.onData((d) => got.push(...d));
    h.receive({ acknowledgment: ISS + 1, timestamps: { value: 999, echo: 0 } }, bytes(5));
    expect(got).toEqual([]);
    expect(h.stats.duplicate_segments.value).toBe(1);
    expect(h.take().map(flagsOf)).toEqual(['A']);
    h.receive({ acknowledgment: ISS + 1, timestamps: { value: 1000, echo: 0 } }, bytes(5));
    expect(got).toHaveLength(5);
    h.receive({ flags: TcpFlag.rst, timestamps: { value: 1, echo: 0 } });
    expect(h.connection.state).toBe('closed');
  });

  it('takes TS.Recent only from segments that reach no further than the last ACK sent, and echoes it', () => {
    const h = established({}, { timestamps: { value: 1000, echo: 1 }, sackPermitted: true });
    h.receive({ acknowledgment: ISS + 1, timestamps: { value: 2000, echo: 0 } }, bytes(5));
    h.receive({ acknowledgment: ISS + 1, sequence: h.peerNext + 100, timestamps: { value: 3000, echo: 0 } }, bytes(5));
    // The out-of-order segment lies beyond Last.ACK.sent: its timestamp is not taken.
    expect(last(h.take())!.timestamps!.echo).toBe(2000);
  });
});

describe('RFC 6298: the retransmission timer', () => {
  it('resends the first unacknowledged segment after the RTO (1 s at first), doubling it each time', () => {
    const h = established();
    h.connection.socket.write(bytes(100));
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1, 100]]);
    h.clock.advance(999);
    expect(h.take()).toEqual([]);
    h.clock.advance(1);
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1, 100]]);
    h.clock.advance(1999);
    expect(h.take()).toEqual([]);
    h.clock.advance(1);
    expect(h.take()).toHaveLength(1);
    expect(h.stats.timeouts.value).toBe(2);
  });

  it('restarts the timer when new data is acknowledged, and stops it when everything is', () => {
    const h = established();
    h.connection.socket.write(bytes(2 * MSS));
    expect(h.take()).toHaveLength(2);
    h.clock.advance(500);
    h.receive({ acknowledgment: ISS + 1 + MSS });
    // A 500 ms sample: SRTT 500, RTTVAR 250, RTO 1500 from now.
    expect(h.connection.sender.rtt.timeoutMs).toBe(1500);
    h.clock.advance(1499);
    expect(h.take()).toEqual([]);
    h.clock.advance(1);
    expect(h.take().map((s) => s.sequence)).toEqual([ISS + 1 + MSS]);
    h.receive({ acknowledgment: ISS + 1 + 2 * MSS });
    h.clock.advance(60_000);
    expect(h.take()).toEqual([]);
  });

  it('gives up after maxRetransmits timeouts in a row', () => {
    const h = established({ maxRetransmits: 2 });
    const reasons: string[] = [];
    h.connection.socket.onClose((reason) => reasons.push(reason));
    h.connection.socket.write(bytes(10));
    h.clock.advance(1000 + 2000 + 4000);
    expect(reasons).toEqual(['timeout']);
    expect(h.stats.retransmits.value).toBe(2);
  });

  it('does not time a retransmitted segment (Karn), without timestamps', () => {
    const h = established();
    h.connection.socket.write(bytes(4 * MSS));
    h.clock.advance(10);
    for (let i = 0; i < 3; i++) h.receive({ acknowledgment: ISS + 1 }); // the first segment goes again
    h.clock.advance(10);
    h.receive({ acknowledgment: ISS + 1 + 4 * MSS });
    expect(h.connection.socket.smoothedRttMs).toBeUndefined();
    h.connection.socket.write(bytes(10));
    h.clock.advance(30);
    h.receive({ acknowledgment: ISS + 11 + 4 * MSS });
    expect(h.connection.socket.smoothedRttMs).toBe(30);
  });

  it('measures with timestamps: the echo of our own clock', () => {
    const h = established({}, { timestamps: { value: 1, echo: 0 } });
    h.clock.advance(1000);
    h.connection.socket.write(bytes(10));
    const sentAt = h.take()[0]!.timestamps!.value;
    h.clock.advance(40);
    h.receive({ acknowledgment: ISS + 11, timestamps: { value: 2, echo: sentAt } });
    expect(h.connection.socket.smoothedRttMs).toBe(40);
  });

  it('resends the SYN with backoff and gives up after six tries', async () => {
    const h = harness();
    h.connection.connect();
    h.clock.advance(1000 + 2000 + 4000 + 8000 + 16_000 + 32_000);
    expect(h.take().map(flagsOf)).toEqual(['S', 'S', 'S', 'S', 'S', 'S', 'S']);
    h.clock.advance(60_000);
    expect(await h.connection.opened()).toEqual({ ok: false, error: 'timeout' });
  });
});

describe('RFC 5681, RFC 6582: NewReno as the connection applies it', () => {
  /** Ten segments in flight (the initial window), none acknowledged. */
  const inFlight = (peer = {}) => {
    const h = established({}, peer);
    h.connection.socket.write(bytes(10 * MSS));
    expect(h.take()).toHaveLength(10);
    return h;
  };
  const duplicate = (h: ReturnType<typeof inFlight>, fields = {}) => h.receive({ acknowledgment: ISS + 1, ...fields });

  it('starts with ten segments and grows by one segment per ACK in slow start', () => {
    const h = inFlight();
    expect(h.connection.sender.congestion.window).toBe(10 * MSS);
    h.receive({ acknowledgment: ISS + 1 + MSS });
    expect(h.connection.sender.congestion.window).toBe(11 * MSS);
  });

  it('fast-retransmits the first unacknowledged segment on the third duplicate ACK, and enters recovery', () => {
    const h = inFlight();
    duplicate(h);
    duplicate(h);
    expect(h.take()).toEqual([]);
    duplicate(h);
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1, MSS]]);
    expect(h.stats.fast_retransmits.value).toBe(1);
    expect(diagnose(h.connection)).toMatchObject({ inRecovery: true, slowStartThreshold: 5 * MSS, congestionWindow: 8 * MSS });
  });

  it('counts only true duplicates: not with data, not with a window change', () => {
    const h = inFlight();
    duplicate(h, { window: 60000 });
    duplicate(h);
    duplicate(h);
    expect(h.stats.fast_retransmits.value).toBe(0);
  });

  it('resends the next hole on a partial ACK, and leaves recovery on the ACK that reaches `recover`', () => {
    const h = inFlight();
    for (let i = 0; i < 3; i++) duplicate(h);
    h.take();
    h.receive({ acknowledgment: ISS + 1 + 2 * MSS });
    expect(h.take().map((s) => s.sequence)).toContain(ISS + 1 + 2 * MSS);
    expect(h.connection.sender.congestion.inRecovery).toBe(true);
    h.receive({ acknowledgment: ISS + 1 + 10 * MSS });
    expect(h.connection.sender.congestion.inRecovery).toBe(false);
    // min(ssthresh, FlightSize + MSS), at least two segments: nothing is in flight any more.
    expect(h.connection.sender.congestion.window).toBe(2 * MSS);
  });

  it('starts no second recovery for duplicates of the same episode (RFC 6582 §4.1)', () => {
    const h = inFlight();
    for (let i = 0; i < 3; i++) duplicate(h);
    h.clock.advance(1000); // a timeout ends recovery; `recover` stays at SND.MAX
    h.receive({ acknowledgment: ISS + 1 + MSS });
    for (let i = 0; i < 3; i++) duplicate(h, { acknowledgment: ISS + 1 + MSS });
    expect(h.stats.fast_retransmits.value).toBe(1);
  });

  it('after a timeout goes back to SND.UNA with one segment of window', () => {
    const h = inFlight();
    h.clock.advance(1000);
    expect(h.take().map((s) => [s.sequence, s.payload.length])).toEqual([[ISS + 1, MSS]]);
    expect(diagnose(h.connection)).toMatchObject({ congestionWindow: MSS, slowStartThreshold: 5 * MSS, sendNext: ISS + 1 + MSS });
  });
});

describe('RFC 2018, RFC 6675: SACK', () => {
  const withSack = (options = {}) => established(options, { sackPermitted: true });

  it('reports out-of-order data at once, the newest block first, and delivers it when the hole fills', () => {
    const h = withSack();
    const got: number[] = [];
    h.connection.socket.onData((d) => got.push(d.length));
    const next = h.peerNext;
    h.receive({ acknowledgment: ISS + 1, sequence: next + 100 }, bytes(100));
    expect(h.take().map((s) => [s.acknowledgment, s.sackBlocks])).toEqual([[next, [[next + 100, next + 200]]]]);
    h.receive({ acknowledgment: ISS + 1, sequence: next + 300 }, bytes(100));
    expect(h.take()[0]!.sackBlocks).toEqual([
      [next + 300, next + 400],
      [next + 100, next + 200],
    ]);
    expect(h.stats.out_of_order.value).toBe(2);
    h.receive({ acknowledgment: ISS + 1, sequence: next }, bytes(100));
    expect(got).toEqual([100, 100]);
    h.receive({ acknowledgment: ISS + 1, sequence: next + 200 }, bytes(100));
    expect(got).toEqual([100, 100, 100, 100]);
    const final = last(h.take())!;
    expect([final.acknowledgment, final.sackBlocks]).toEqual([next + 400, undefined]);
  });

  it('sends no SACK blocks when the peer did not permit them', () => {
    const h = established();
    h.receive({ acknowledgment: ISS + 1, sequence: h.peerNext + 100 }, bytes(100));
    expect(h.take()[0]!.sackBlocks).toBeUndefined();
  });

  it('carries less payload in a segment that carries SACK blocks, so nothing is fragmented', () => {
    const h = withSack();
    h.receive({ acknowledgment: ISS + 1, sequence: h.peerNext + 100 }, bytes(100));
    h.take();
    h.connection.socket.write(bytes(MSS));
    const [first] = h.take();
    expect(first!.sackBlocks).toHaveLength(1);
    expect(first!.payload.length).toBe(MSS - 12);
  });

  it('in recovery resends only what the peer has not SACKed, and only what counts as lost', () => {
    const h = inFlightWithSack();
    const seg = (n: number) => ISS + 1 + n * MSS;
    // Segments 0 and 2 lost; 1 and 3..6 arrive a round trip later, each reported by a duplicate ACK with
    // its SACK blocks. Before three segments' worth are SACKed, RACK gives reordering a quarter RTT.
    h.clock.advance(40);
    h.receive({ acknowledgment: seg(0), sackBlocks: [[seg(1), seg(2)]] });
    h.receive({ acknowledgment: seg(0), sackBlocks: [[seg(3), seg(4)]] });
    h.receive({ acknowledgment: seg(0), sackBlocks: [[seg(3), seg(5)]] });
    expect(h.take().map((s) => s.sequence)).toEqual([seg(0)]);
    h.receive({ acknowledgment: seg(0), sackBlocks: [[seg(3), seg(6)]] });
    h.receive({ acknowledgment: seg(0), sackBlocks: [[seg(3), seg(7)]] });
    const resent = h.take().filter((s) => s.sequence < seg(10));
    expect(resent.map((s) => s.sequence)).toEqual([seg(2)]);
  });

  it('after a timeout goes back but skips what the peer SACKed', () => {
    const h = inFlightWithSack();
    const seg = (n: number) => ISS + 1 + n * MSS;
    h.receive({ acknowledgment: seg(0), sackBlocks: [[seg(1), seg(2)]] });
    h.clock.advance(1000);
    h.receive({ acknowledgment: seg(1), window: 65535 });
    // Acknowledged up to segment 1 (lost 0 resent by the timeout): SND.NXT skips the SACKed segment 1.
    h.take();
    h.receive({ acknowledgment: seg(2) });
    expect(h.take().every((s) => s.sequence !== seg(1))).toBe(true);
  });

  function inFlightWithSack() {
    const h = withSack();
    h.connection.socket.write(bytes(10 * MSS));
    expect(h.take()).toHaveLength(10);
    return h;
  }
});

describe('window rules (docs/architecture/network.md)', () => {
  it('does not let out-of-order bytes shrink the offered window', () => {
    const h = established({ receiveBufferBytes: 20_000 }, { sackPermitted: true });
    h.receive({ acknowledgment: ISS + 1 }, bytes(100));
    const before = last(h.take())?.window;
    h.receive({ acknowledgment: ISS + 1, sequence: h.peerNext + 1000 }, bytes(5000));
    const after = last(h.take())!.window;
    expect(before ?? 19_900).toBe(19_900);
    expect(after).toBe(19_900);
  });

  it('sends pure ACKs from SND.MAX after a timeout moved SND.NXT back', () => {
    const h = established();
    h.connection.socket.write(bytes(3 * MSS));
    h.take();
    h.clock.advance(1000);
    h.take();
    expect(h.connection.sender.sendNext).toBe(ISS + 1 + MSS);
    h.receive({ acknowledgment: ISS + 1, sequence: h.peerNext + 10 }, bytes(1));
    expect(h.take().map((s) => [flagsOf(s), s.sequence])).toEqual([['A', ISS + 1 + 3 * MSS]]);
  });

  it('never retransmits beyond SND.MAX: unsent bytes go out as new data', () => {
    const h = established({}, { sackPermitted: true });
    h.connection.socket.write(bytes(MSS + 100));
    h.take(); // one full segment; Nagle holds the 100
    const seg = (n: number) => ISS + 1 + n * MSS;
    for (let i = 0; i < 3; i++) h.receive({ acknowledgment: seg(0), window: 65535 });
    const resent = h.take();
    expect(resent.every((s) => s.sequence + s.payload.length <= seg(1))).toBe(true);
  });

  it('probes a zero window with one byte, backing off (RFC 9293 §3.8.6.1)', () => {
    const h = established({}, { window: 0 });
    h.connection.socket.write(bytes(100));
    expect(h.take()).toEqual([]);
    h.clock.advance(1000);
    expect(h.take().map((s) => s.payload.length)).toEqual([1]);
    expect(h.stats.zero_window_probes.value).toBe(1);
    h.clock.advance(1999);
    expect(h.stats.zero_window_probes.value).toBe(1);
    h.clock.advance(1);
    expect(h.stats.zero_window_probes.value).toBe(2);
    h.take();
    h.receive({ acknowledgment: ISS + 1, window: 65535 });
    expect(h.take().map((s) => s.payload.length)).toEqual([100]);
  });

  it('delays the ACK of one segment up to 40 ms and acknowledges every second at once (RFC 9293 §3.8.6.3)', () => {
    const h = established();
    h.receive({ acknowledgment: ISS + 1 }, bytes(MSS));
    expect(h.take()).toEqual([]);
    h.clock.advance(40);
    expect(h.take().map((s) => s.acknowledgment)).toEqual([PEER_ISS + 1 + MSS]);
    h.receive({ acknowledgment: ISS + 1 }, bytes(MSS));
    h.receive({ acknowledgment: ISS + 1 }, bytes(MSS));
    expect(h.take().map((s) => s.acknowledgment)).toEqual([PEER_ISS + 1 + 3 * MSS]);
  });

  it('holds a small segment while data is in flight (Nagle, RFC 896) unless noDelay', () => {
    const nagle = established();
    nagle.connection.socket.write(bytes(10));
    nagle.connection.socket.write(bytes(10));
    expect(nagle.take().map((s) => s.payload.length)).toEqual([10]);
    nagle.receive({ acknowledgment: ISS + 11 });
    expect(nagle.take().map((s) => s.payload.length)).toEqual([10]);
    const quick = established({ noDelay: true });
    quick.connection.socket.write(bytes(10));
    quick.connection.socket.write(bytes(10));
    expect(quick.take().map((s) => s.payload.length)).toEqual([10, 10]);
  });

  it('acknowledges a small segment on a noDelay connection after the work it set off: an answer carries the ACK', () => {
    const h = established({ noDelay: true });
    h.connection.socket.onData(() => h.connection.socket.write(bytes(20)));
    h.receive({ acknowledgment: ISS + 1 }, bytes(30));
    h.clock.advance(0);
    // One segment: the answer, with the request's ACK; no pure ACK before it.
    expect(h.take().map((s) => [s.payload.length, s.acknowledgment])).toEqual([[20, PEER_ISS + 1 + 30]]);
  });

  it('acknowledges a small unanswered segment on a noDelay connection a turn later, not after 40 ms', () => {
    const h = established({ noDelay: true });
    h.receive({ acknowledgment: ISS + 1 }, bytes(30));
    expect(h.take()).toEqual([]);
    h.clock.advance(0);
    expect(h.take().map((s) => [flagsOf(s), s.acknowledgment])).toEqual([['A', PEER_ISS + 1 + 30]]);
    h.clock.advance(40);
    expect(h.take()).toEqual([]);
  });

  it('sends keepalive probes on an idle connection and gives up when they go unanswered', () => {
    const h = established({ keepAlive: { idleMs: 10_000, intervalMs: 1000, probes: 2 } });
    h.clock.advance(10_000);
    expect(h.take().map((s) => [flagsOf(s), s.sequence])).toEqual([['A', ISS]]);
    h.receive({ acknowledgment: ISS + 1 });
    h.clock.advance(9_999);
    expect(h.take()).toEqual([]);
    h.clock.advance(1 + 1000 + 1000);
    expect(h.connection.state).toBe('closed');
    expect(h.stats.keepalives.value).toBe(3);
  });
});
