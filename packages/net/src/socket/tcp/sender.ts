import type { NetClock, TimerHandle } from '../../clock.js';
import type { TcpSegment } from '../../wire/tcp.js';
import { TcpFlag } from '../../wire/tcp.js';
import type { CongestionControl } from './congestion.js';
import type { ConnectionStats, PayloadCopier, SenderHost } from './options.js';
import { Rack, type RackHost } from './rack.js';
import type { RttEstimator } from './rtt.js';
import { SackScoreboard } from './sack-scoreboard.js';
import type { SendQueue } from './send-buffer.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './sequence.js';
import { RetransmitTimer } from './timers.js';

export type { SenderHost } from './options.js';

/** The flags of a data segment, read once (`TcpFlag.x` is a lookup by name per use). */
const { ack: ACK, fin: FIN, psh: PSH } = TcpFlag;
/** Retransmissions of a SYN before the handshake is given up. */
const SYN_RETRANSMITS = 6;
/** RFC 6675 IsLost: this many segments' worth SACKed above a range marks it lost. */
const LOST_SEGMENTS = 3;
/** Zero-window probes back off to at most a minute apart. */
const MAX_PERSIST_MS = 60_000;
/** RFC 8985 §7.2: WCDelAckT, the longest a receiver may delay the ACK of a lone segment. */
const WORST_CASE_DELAYED_ACK_MS = 200;

/** Milliseconds on the clock as a timestamp option value (RFC 7323 §4: never 0, which means none). */
export function timestampOf(clock: NetClock): number {
  return clock.now() >>> 0 || 1; // ToUint32 truncates: the floor of a time, which is never negative
}

/**
 * The send side of one connection: the send sequence space (RFC 9293 §3.3.1), the send buffer, what
 * goes out and when (the windows, Nagle, the FIN), what ACKs do to it (RTT samples, congestion control,
 * the SACK scoreboard, the peer's window), retransmission (fast recovery guided by SACK, going back after
 * a timeout) and zero-window probes.
 *
 * Rules learnt against Linux under loss (each has a netsim test): a retransmission never reaches past
 * SND.MAX (bytes never sent go out through `output`, which moves SND.MAX); a segment carrying SACK blocks
 * carries that much less payload, so nothing is IP-fragmented; in recovery a range is resent only when
 * RFC 6675 deems it lost; after a timeout ranges the peer SACKed are skipped (forgotten after a second
 * timeout in a row, in case the peer reneged, RFC 2018 §8).
 */
export class Sender implements RackHost {
  readonly iss: number;
  /** SND.UNA, SND.NXT (moved back to SND.UNA by a timeout) and SND.MAX, the highest sent. */
  sendUnacknowledged: number;
  sendNext: number;
  sendMax: number;
  /** Payload bytes the peer acknowledged (retransmissions counted once): the connection's "bytes out". */
  bytesAcknowledged = 0;
  /** SND.WND (scaled), the segment that last set it (SND.WL1, SND.WL2), and the largest it has been. */
  sendWindow = 0;
  private windowSequence = 0;
  private windowAcknowledgment = 0;
  maxSendWindow = 0;
  /** end() was called; the FIN went out. */
  finRequested = false;
  finSent = false;
  /** Retransmission timeouts in a row. */
  retransmitCount = 0;
  readonly scoreboard = new SackScoreboard();
  /** Time-based loss detection (RFC 8985 §6) with SACK: made at the first data sent. */
  rack: Rack | undefined;
  private readonly timer: RetransmitTimer;
  /** Where the next retransmission in recovery starts (the first un-SACKed hole at or after it). */
  private retransmitNext: number;
  /** A segment timed without timestamps: [sequence it ends at, sent at]. */
  private timedSegment: [number, number] | undefined;
  private persistTimer: TimerHandle | undefined;
  private persistBackoff = 0;
  /** Zero-window probes sent since the peer last acknowledged anything (Linux's icsk_probes_out). */
  private probesUnanswered = 0;
  /** The retransmission timer is armed for a tail loss probe (RFC 8985 §7), not a timeout. */
  private probeDue = false;
  /** SND.MAX when the last tail loss probe went, until an ACK reaches it (one probe per episode). */
  private probedUpTo: number | undefined;
  /** The persist timer's callback, made when the window is first probed. */
  private persistDue: (() => void) | undefined;
  /** Nagle's algorithm off (RFC 896). */
  readonly noDelay: boolean;
  private readonly maxRetransmits: number;
  /** What `copier` copies next: the payload of the segment being sent (one closure per connection, not per segment). */
  private copyOffset = 0;
  private copyLength = 0;
  private copier: PayloadCopier | undefined;

  constructor(
    private readonly host: SenderHost,
    iss: number,
    readonly buffer: SendQueue,
    readonly congestion: CongestionControl,
    readonly rtt: RttEstimator,
    private readonly clock: NetClock,
    private readonly stats: ConnectionStats,
    options: { noDelay: boolean; maxRetransmits: number },
  ) {
    // Kept as fields, not the object: one object fewer per connection.
    this.noDelay = options.noDelay;
    this.maxRetransmits = options.maxRetransmits;
    this.iss = iss;
    this.sendUnacknowledged = iss;
    this.sendNext = iss;
    this.sendMax = iss;
    this.retransmitNext = iss;
    this.timer = new RetransmitTimer(clock, this);
  }

  /**
   * The sequence number of a pure ACK (Linux's tcp_acceptable_seq): SND.MAX, unless that lies beyond the
   * peer's window, as a zero-window probe's byte does; then the window's right edge. A peer with a shut
   * window takes a segment only at its RCV.NXT: an ACK one past it would be dropped unread, and the
   * peer's data it acknowledges would be sent again until the peer gave up.
   */
  get ackSequence(): number {
    const edge = seqAdd(this.sendUnacknowledged, this.sendWindow);
    return seqGt(this.sendMax, edge) ? edge : this.sendMax;
  }

  /** Outstanding bytes, FlightSize (RFC 5681): SND.MAX − SND.UNA. */
  get flightSize(): number {
    return seqDiff(this.sendMax, this.sendUnacknowledged);
  }

  // ---------------------------------------------------------------- the handshake

  /** Our SYN went out (again). */
  synSent(): void {
    this.sendNext = seqAdd(this.iss, 1);
    this.sendMax = this.sendNext;
    this.timer.arm(this.rtt.timeoutMs);
  }

  /** The peer's SYN arrived with its window (never scaled in a SYN, RFC 7323 §2.2). */
  synReceived(window: number, sequence: number): void {
    this.sendWindow = window;
    this.maxSendWindow = window;
    this.windowSequence = sequence;
  }

  /** Our SYN was acknowledged: the send side starts at `ack` with the peer's (scaled) window. */
  synAcknowledged(ack: number, window: number, sequence: number): void {
    this.sendUnacknowledged = ack;
    this.sendWindow = window;
    this.maxSendWindow = Math.max(this.maxSendWindow, window);
    this.windowSequence = sequence;
    this.windowAcknowledgment = ack;
    this.retransmitCount = 0;
    this.timer.cancel();
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends what the windows allow from SND.NXT on: data (Nagle permitting), and the FIN with or after the
   * last byte once end() was called. After a timeout SND.NXT went back to SND.UNA, so the same loop
   * resends what was lost (go-back-N in slow start, skipping what the peer SACKed).
   */
  output(): void {
    if (this.buffer.length === 0 && !this.finRequested) return; // nothing to send, no FIN to come (as on a receiver)
    const state = this.host.state;
    // ESTABLISHED first: each string comparison is a call in QuickJS.
    if (state !== 'established' && (state === 'closed' || state === 'syn-sent' || state === 'syn-received' || state === 'time-wait'))
      return;
    // Everything, the FIN included, acknowledged: nothing can follow it.
    if (this.finSent && this.sendUnacknowledged === this.sendMax) return;
    // The window is shut and being probed: only the persist timer sends (a FIN included) until it opens.
    if (this.persistTimer && this.sendWindow === 0) return;
    const mss = this.host.segmentLimit();
    // With TSO one send carries up to this many bytes (whole segments, but for the last of the data).
    const large = this.host.largeSend;
    const burst = large > mss ? large - (large % mss) : mss;
    const sack = this.host.sackEnabled;
    // Read once, not per segment (QuickJS looks every property up by name).
    const scoreboard = this.scoreboard;
    const buffer = this.buffer;
    let sentNew = false;
    for (;;) {
      // Going back after a timeout: skip what the peer has SACKed, and stop short of the next such range.
      let sackedAhead = Infinity;
      const sacked = scoreboard.ranges.length !== 0;
      if (sacked && seqLt(this.sendNext, this.sendMax)) {
        this.sendNext = scoreboard.skip(this.sendNext);
        sackedAhead = scoreboard.gapAfter(this.sendNext);
      }
      const dataEnd = buffer.length;
      const nextOffset = seqDiff(this.sendNext, this.sendUnacknowledged);
      if (nextOffset > dataEnd) break; // the FIN is out too
      const unsent = dataEnd - nextOffset;
      if (unsent === 0 && !this.finRequested) break;
      let length = 0;
      if (unsent > 0) {
        const pipe = nextOffset - (sack && sacked ? scoreboard.sackedBytes() : 0);
        const byCongestion = this.congestion.window - pipe;
        const byPeer = this.sendWindow - nextOffset;
        // The least of the five, without Math.min's lookups and call.
        length = unsent;
        if (burst < length) length = burst;
        if (byCongestion < length) length = byCongestion;
        if (byPeer < length) length = byPeer;
        if (sackedAhead < length) length = sackedAhead;
        if (length <= 0) {
          if (this.sendWindow === 0) this.persist(); // the peer's window is shut: probe it
          break;
        }
        // A large send is whole segments; a partial one goes only with the last of the data, as it would alone.
        if (length > mss && length < unsent) length -= length % mss;
        // Nagle (RFC 896): a small segment waits while data is in flight, unless it is the last before a FIN.
        if (length < mss && !this.noDelay && nextOffset > 0 && !(this.finRequested && length === unsent)) break;
      }
      const fin = this.finRequested && length === unsent;
      if (!seqLt(this.sendNext, this.sendMax)) sentNew = true;
      this.sendData(this.sendNext, length, fin, seqLt(this.sendNext, this.sendMax), false, mss);
      this.sendNext = seqAdd(this.sendNext, length + (fin ? 1 : 0));
      if (seqGt(this.sendNext, this.sendMax)) this.sendMax = this.sendNext;
      if (fin) {
        if (!this.finSent) {
          this.finSent = true;
          this.host.finWasSent();
        }
        break;
      }
    }
    // New data out: the tail loss probe's timer runs from the last transmission (RFC 8985 §7.2).
    if (sentNew) this.armProbe();
  }

  /**
   * Arms the retransmission timer for a tail loss probe (RFC 8985 §7.2: PTO = 2·SRTT, plus WCDelAckT
   * when one segment is out, never beyond the RTO) when one may go: SACK on, an RTT measured, data
   * outstanding, not in recovery, no probe of this episode out yet. Returns whether it did.
   */
  private armProbe(): boolean {
    const srtt = this.rtt.smoothedMs;
    if (
      !this.host.sackEnabled ||
      srtt === undefined ||
      this.congestion.inRecovery ||
      this.probedUpTo !== undefined ||
      this.persistTimer !== undefined ||
      this.finSent ||
      this.sendUnacknowledged === this.sendMax
    ) {
      this.probeDue = false;
      return false;
    }
    let pto = 2 * srtt;
    if (this.flightSize <= this.host.effectiveMss) pto += WORST_CASE_DELAYED_ACK_MS;
    this.timer.arm(Math.max(1, Math.min(pto, this.rtt.timeoutMs)), true);
    this.probeDue = true;
    return true;
  }

  /**
   * The probe timer expired (RFC 8985 §7.3): the last segment sent goes again (what the stack has of
   * "new data if any": new data goes through output as soon as the windows allow it anyway), so its
   * ACK, with SACK, tells which of the tail was lost and recovery starts without waiting for the RTO.
   * Returns whether a probe went.
   */
  private sendTailLossProbe(): boolean {
    this.probeDue = false;
    const dataEnd = seqAdd(this.sendUnacknowledged, this.buffer.length);
    if (seqGt(this.sendMax, dataEnd) || this.sendUnacknowledged === this.sendMax) return false;
    const start = seqMax(this.sendUnacknowledged, seqAdd(this.sendMax, -this.host.segmentLimit()));
    this.sendData(start, seqDiff(this.sendMax, start), false, true);
    this.probedUpTo = this.sendMax;
    this.stats.tail_loss_probes.increment();
    this.timer.arm(this.rtt.timeoutMs, true);
    return true;
  }

  /**
   * One segment of [sequence, sequence + length) from the send buffer (plus FIN). A `probe` (zero-window)
   * is timed like a retransmission but not counted as one.
   */
  private sendData(sequence: number, length: number, fin: boolean, retransmission: boolean, probe = false, segmentSize = 0): void {
    const host = this.host;
    const offset = seqDiff(sequence, this.sendUnacknowledged);
    const bufferEnd = this.buffer.length;
    let count = bufferEnd - offset;
    if (length < count) count = length;
    if (count < 0) count = 0;
    const flags = ACK | (fin ? FIN : 0) | (count && offset + count === bufferEnd ? PSH : 0);
    this.copyOffset = offset;
    this.copyLength = count;
    const copier = count
      ? (this.copier ??= (target: Uint8Array, at: number): void => this.buffer.copy(this.copyOffset, this.copyLength, target, at))
      : undefined;
    host.sendSegment(sequence, flags, count, copier, segmentSize);
    if (count && host.sackEnabled) (this.rack ??= new Rack(this.clock, this)).sent(sequence, (sequence + count) >>> 0, retransmission);
    if (!retransmission && !host.timestampsEnabled && !this.timedSegment && count) {
      this.timedSegment = [seqAdd(sequence, count), this.clock.now()];
    }
    if (retransmission && !probe) this.stats.retransmits.increment();
    // Karn's rule: a retransmitted segment (a probe too) is not timed.
    if ((retransmission || probe) && this.timedSegment && seqLt(sequence, this.timedSegment[0])) this.timedSegment = undefined;
    // A probe is guarded by the persist timer, not the retransmission timer.
    if (!probe && !this.timer.running) this.timer.arm(this.rtt.timeoutMs); // (arm would return at once when running)
  }

  /** Resends one segment: the first range at or after `retransmitNext` that the peer has not SACKed. */
  private retransmitHole(): void {
    const dataEnd = seqAdd(this.sendUnacknowledged, this.buffer.length);
    const start = this.scoreboard.skip(seqMax(this.retransmitNext, this.sendUnacknowledged));
    if (seqGe(start, this.sendMax)) return;
    // Above SND.UNA, a range counts as lost only with three segments' worth SACKed beyond it (RFC 6675
    // IsLost); short of that it may still be on its way, and new data goes out instead.
    if (start !== this.sendUnacknowledged && this.scoreboard.sackedAbove(start) < LOST_SEGMENTS * this.host.effectiveMss) return;
    if (seqGe(start, dataEnd)) {
      // Only the FIN is left to resend.
      if (this.finSent) {
        this.sendData(dataEnd, 0, true, true);
        this.retransmitNext = seqAdd(dataEnd, 1);
      }
      return;
    }
    // A retransmission resends: up to the next SACKed range, never past SND.MAX (bytes never sent go out
    // through output(), which moves SND.MAX), one segment at most.
    let length = Math.min(this.host.segmentLimit(), seqDiff(dataEnd, start), seqDiff(this.sendMax, start));
    length = Math.min(length, this.scoreboard.gapAfter(start));
    const end = seqAdd(start, length);
    const fin = this.finSent && end === dataEnd;
    this.sendData(start, length, fin, true);
    this.retransmitNext = seqAdd(end, fin ? 1 : 0);
  }

  // ---------------------------------------------------------------- acknowledgments

  /**
   * What an acceptable ACK does to the send side: SACK blocks into the scoreboard; new data acknowledged
   * (RTT sample, the buffer released, congestion control, the retransmission timer restarted or stopped);
   * or a duplicate ACK (RFC 5681 §2: no data, no SYN or FIN, the same window, data outstanding); then the
   * window update (RFC 9293 §3.10.7.4: only from a segment newer than the last that set it).
   */
  processAck(segment: TcpSegment): void {
    const ack = segment.acknowledgment;
    const windowRaw = segment.window << this.host.sendShift;
    // The comparisons spelt out (see sequence.ts): this runs for every segment received, data included.
    const sendUnacknowledged = this.sendUnacknowledged;
    const outstanding = ((this.sendMax - sendUnacknowledged) | 0) > 0;
    const advanced = ((ack - sendUnacknowledged) | 0) > 0;
    const sack = this.host.sackEnabled;
    // With SACK, RACK finds losses by time (RFC 8985 §6); the duplicate ACK rules are for connections without.
    const rack = sack ? this.rack : undefined;
    // The peer answers: probes so far were not in vain (RFC 1122 §4.2.2.17: probe for as long as it does).
    this.probesUnanswered = 0;
    const blocks = segment.sackBlocks;
    let delivered = 0;
    if (sack && blocks?.length) {
      if (rack !== undefined) delivered = -this.scoreboard.sackedBytes();
      this.scoreboard.update(blocks, ack, this.sendMax);
      if (rack !== undefined) delivered += this.scoreboard.sackedBytes();
    }
    if (rack !== undefined) rack.acknowledged(ack, blocks, this.sendMax);

    if (advanced) {
      const acked = Math.min(seqDiff(ack, this.sendUnacknowledged), this.buffer.length); // the FIN is no data
      this.sampleRtt(segment, ack);
      this.buffer.release(acked);
      this.bytesAcknowledged += acked;
      this.sendUnacknowledged = ack;
      if (seqLt(this.sendNext, ack)) this.sendNext = ack;
      this.retransmitCount = 0;
      this.scoreboard.acknowledge(ack);
      const recovering = this.congestion.inRecovery;
      if (this.congestion.onNewAck(ack, acked, this.flightSize, this.host.effectiveMss) === 'retransmit' && rack === undefined) {
        // A partial ACK in recovery (RFC 6582 §3.2 step 4): the next hole goes at once.
        this.retransmitNext = seqMax(this.retransmitNext, ack);
        this.retransmitHole();
      }
      if (recovering && !this.congestion.inRecovery) rack?.recoveryEnded();
      delivered += acked;
      if (this.probedUpTo !== undefined && seqGe(ack, this.probedUpTo)) this.probedUpTo = undefined;
      if (this.sendUnacknowledged === this.sendMax) {
        this.timer.cancel();
        this.probeDue = false;
      } else if (!this.armProbe()) this.timer.arm(this.rtt.timeoutMs, true);
    } else if (
      // Not while the window is shut: the answers to zero-window probes say nothing about loss.
      (rack === undefined || this.congestion.inRecovery) &&
      ack === this.sendUnacknowledged &&
      outstanding &&
      windowRaw > 0 &&
      segment.payload.length === 0 &&
      !(segment.flags & (TcpFlag.syn | TcpFlag.fin)) &&
      windowRaw === this.sendWindow
    ) {
      const mss = this.host.effectiveMss;
      const action = this.congestion.onDuplicateAck(ack, this.sendMax, this.flightSize, mss, sack ? this.scoreboard.sackedBytes() : 0);
      if (rack !== undefined) {
        // In recovery a duplicate ACK inflates the window; what goes again is RACK's to say (below).
      } else if (action === 'recover') {
        // Recovery is guarded by the RTO, not a probe (RFC 8985 §7.2).
        this.probeDue = false;
        this.timer.arm(this.rtt.timeoutMs, true);
        this.retransmitNext = ack;
        this.stats.fast_retransmits.increment();
        this.retransmitHole();
      } else if (action === 'retransmit') {
        this.retransmitHole();
      }
    }

    // The window from a segment newer than the last that set it (RFC 9293 SND.WL1/WL2), or from any ACK
    // of new data (Linux's tcp_may_update_window): a stray segment that moved SND.WL1 ahead cannot keep
    // the window from reopening while data is acknowledged, zero-window probes included.
    if (
      advanced ||
      ((this.windowSequence - segment.sequence) | 0) < 0 ||
      (this.windowSequence === segment.sequence && seqLe(this.windowAcknowledgment, ack))
    ) {
      const opened = windowRaw > this.sendWindow;
      this.sendWindow = windowRaw;
      if (windowRaw > this.maxSendWindow) this.maxSendWindow = windowRaw; // Math.max without the call (per segment)
      this.windowSequence = segment.sequence;
      this.windowAcknowledgment = ack;
      if (opened && this.persistTimer) this.cancelPersist();
    }
    if (this.sendWindow === 0 && this.waiting) this.persist();
    if (rack?.irregular) this.repairLosses(delivered);
  }

  /**
   * RACK (RFC 8985 §6.2 steps 4-5) after an ACK that delivered `delivered` bytes, or when its reordering
   * timer expires: what it deems lost starts fast recovery (§6.3: unless in it, or the same episode)
   * and goes again, one segment for each delivered (packet conservation), one at least.
   */
  private repairLosses(delivered: number): void {
    const rack = this.rack!;
    if (this.sendUnacknowledged === this.sendMax || this.persistTimer !== undefined) return;
    const mss = this.host.effectiveMss;
    const congestion = this.congestion;
    const sacked = this.scoreboard.ranges.length === 0 ? 0 : this.scoreboard.sackedBytes();
    const srtt = this.rtt.smoothedMs ?? this.rtt.timeoutMs;
    rack.detectLoss(rack.reorderingWindow(congestion.inRecovery, sacked, mss, srtt));
    if (rack.lostRecords === 0) return;
    if (!congestion.inRecovery && congestion.enterRecovery(this.sendUnacknowledged, this.sendMax, this.flightSize, mss)) {
      this.stats.fast_retransmits.increment();
      // Recovery is guarded by the RTO, not a probe (RFC 8985 §7.2).
      this.probeDue = false;
      this.timer.arm(this.rtt.timeoutMs, true);
    }
    const dataEnd = seqAdd(this.sendUnacknowledged, this.buffer.length);
    // As many as the window leaves room for beside what is in flight (RFC 6675's pipe: not SACKed, not lost).
    const room = congestion.window - Math.max(0, this.flightSize - sacked - rack.lostBytes);
    for (let budget = Math.max(1, Math.ceil(delivered / mss), Math.floor(room / mss)); budget > 0; budget--) {
      const start = rack.nextLost(this.sendUnacknowledged);
      if (start < 0 || !seqLt(start, dataEnd)) return;
      // One segment at most, up to the next SACKed range, never past SND.MAX or the lost send's end.
      let length = Math.min(this.host.segmentLimit(), seqDiff(dataEnd, start), seqDiff(this.sendMax, start), seqDiff(rack.lostEnd, start));
      length = Math.min(length, this.scoreboard.gapAfter(start));
      const fin = this.finSent && seqAdd(start, length) === dataEnd;
      this.sendData(start, length, fin, true);
    }
  }

  notSackedFrom(sequence: number): number {
    return this.scoreboard.skip(sequence);
  }

  /** RACK's reordering timer expired (RFC 8985 §6.2 step 5): losses deemed by time go now. */
  reorderTimedOut(): void {
    this.repairLosses(0); // (stop() cancels the timer when the connection ends)
  }

  /** RFC 7323 §4.1 (the echoed timestamp) when timestamps are on, else one timed segment (RFC 6298 §3, Karn). */
  sampleRtt(segment: TcpSegment, ack: number): void {
    if (this.host.timestampsEnabled && segment.timestamps?.echo) {
      this.rtt.sample(timestampOf(this.clock) - segment.timestamps.echo);
    } else if (this.timedSegment && seqGe(ack, this.timedSegment[0])) {
      this.rtt.sample(this.clock.now() - this.timedSegment[1]);
      this.timedSegment = undefined;
    }
  }

  // ---------------------------------------------------------------- timers

  /**
   * The retransmission timer expired (RFC 6298 §5.4-5.7): back off; resend the SYN during the handshake;
   * else slow start again from SND.UNA (RFC 5681 §3.1). What the peer SACKed is not sent again (as Linux
   * does); in case the peer reneged on it (RFC 2018 §8), a second timeout in a row forgets it.
   */
  timedOut(): void {
    const state = this.host.state;
    if (state === 'closed' || state === 'time-wait') return;
    const opening = state === 'syn-sent' || state === 'syn-received';
    if (this.probeDue && !opening) {
      // A probe's timer, not the RTO: probe, or (no probe may go now) wait out the RTO.
      if (!this.congestion.inRecovery && this.sendTailLossProbe()) return;
      this.probeDue = false;
      this.timer.arm(this.rtt.timeoutMs, true);
      return;
    }
    this.probedUpTo = undefined;
    if (!opening && this.sendWindow === 0 && this.waiting) {
      this.persist(); // the window is shut: what is outstanding waits for it, probed
      return;
    }
    this.retransmitCount++;
    this.stats.timeouts.increment();
    if (this.retransmitCount > (opening ? SYN_RETRANSMITS : this.maxRetransmits)) {
      this.host.giveUp();
      return;
    }
    this.rtt.backOff();
    this.timedSegment = undefined;
    if (opening) {
      this.host.resendSyn();
      this.stats.retransmits.increment();
      return;
    }
    this.congestion.onRetransmitTimeout(this.sendMax, this.flightSize, this.host.effectiveMss);
    this.rack?.reset(); // everything from SND.UNA goes again
    if (this.retransmitCount > 1) this.scoreboard.clear();
    this.sendNext = this.sendUnacknowledged;
    if (this.buffer.length > 0 || this.finSent) this.output();
    if (!this.persistTimer) this.timer.arm(this.rtt.timeoutMs, true);
  }

  /** Data or a FIN waits to be sent or acknowledged. */
  private get waiting(): boolean {
    return this.buffer.length > 0 || (this.finRequested && !(this.finSent && this.sendUnacknowledged === this.sendMax));
  }

  /**
   * The peer's window is shut while something waits (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): the
   * retransmission timer rests, SND.NXT goes back to SND.UNA (what is outstanding goes again when the
   * window opens), and the persist timer probes.
   */
  private persist(): void {
    if (!this.waiting) return;
    this.timer.cancel();
    this.probeDue = false;
    this.sendNext = this.sendUnacknowledged;
    this.armPersist();
  }

  /** Zero-window probes back off from the RTO to a minute apart, for as long as the peer answers them. */
  private armPersist(): void {
    if (this.persistTimer) return;
    const delay = Math.min(MAX_PERSIST_MS, Math.max(this.rtt.timeoutMs, 200) * 2 ** this.persistBackoff);
    this.persistTimer = this.clock.setTimer(delay, (this.persistDue ??= () => this.probeWindow()));
  }

  /**
   * A zero-window probe: the first byte not yet acknowledged (or the FIN, when only it is left), sent
   * even though the window is shut. It is data sent like any other: SND.MAX moves over it, so the ACK
   * of a receiver that takes the byte (probe + 1, with its window open: what Linux sends) acknowledges
   * data that was sent and is taken. A probe is not a retransmission: the peer answering it resets the
   * count; after `maxRetransmits` probes in a row unanswered the peer is gone and the connection ends.
   */
  private probeWindow(): void {
    this.persistTimer = undefined;
    const state = this.host.state;
    if (state === 'closed' || state === 'time-wait') return;
    if (this.sendWindow > 0 || !this.waiting) {
      this.persistBackoff = 0;
      this.output();
      return;
    }
    if (this.probesUnanswered >= this.maxRetransmits) {
      this.host.giveUp();
      return;
    }
    this.probesUnanswered++;
    this.stats.zero_window_probes.increment();
    const sequence = this.sendUnacknowledged;
    const finOnly = this.buffer.length === 0;
    this.sendData(sequence, finOnly ? 0 : 1, finOnly, seqLt(sequence, this.sendMax), true);
    const end = seqAdd(sequence, 1); // one byte, or the FIN
    if (seqGt(end, this.sendMax)) this.sendMax = end;
    if (finOnly && !this.finSent) {
      this.finSent = true;
      this.host.finWasSent();
    }
    this.persistBackoff++;
    this.armPersist();
  }

  private cancelPersist(): void {
    this.persistTimer?.cancel();
    this.persistTimer = undefined;
    this.persistBackoff = 0;
  }

  /** Every timer off (the connection ended or entered TIME-WAIT). */
  stop(): void {
    this.timer.cancel();
    this.rack?.stop();
    this.cancelPersist();
  }
}
