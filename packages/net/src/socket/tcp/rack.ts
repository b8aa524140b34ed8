/**
 * RACK, time-based loss detection (RFC 8985 §6): a segment is lost when one sent after it was delivered
 * (ACKed or SACKed) and it has had a round trip plus a reordering window to arrive, whatever its
 * sequence number. Lost retransmissions and losses in a short flight are found without three duplicate
 * ACKs and without the RTO.
 *
 * The send side logs every transmission (one record per send: a large TSO send is one record) in the
 * order it went, in a ring of parallel typed arrays: its sequence range, its send time and flags. No
 * object or closure is made per segment. The cost when nothing is lost: a send writes one record; an ACK
 * drops the records it covers from the head of the ring and stops at the first record sent after the
 * newest delivered one. The whole ring is walked only while something in it is irregular (SACK blocks,
 * retransmissions, segments delivered or lost out of order).
 */
import type { NetClock } from '../../clock.js';
import { seqDiff, seqGt, seqLe, seqLt } from './sequence.js';
import { RetransmitTimer } from './timers.js';

/** Records kept at first; the ring doubles when full, up to `MAX_RECORDS`. */
const INITIAL_RECORDS = 16;
/** Beyond this many sends outstanding, the oldest records go: the RTO still guards what they covered. */
const MAX_RECORDS = 8192;
/** RFC 8985 §6.2 step 4: DupThresh, in segments' worth of SACKed bytes. */
const DUPLICATE_THRESHOLD = 3;
/**
 * The reordering window grows on D-SACK by a quarter min_RTT at a time (RFC 8985 §6.2 step 4), bounded
 * by SRTT; the multiplier itself stops here (Linux's 255 steps): where min_RTT is far below the time
 * frames are held back on the path, the window must be able to reach SRTT.
 */
const MAX_WINDOW_MULTIPLIER = 255;
/** Recoveries a grown reordering window lasts before it goes back to one quarter min_RTT. */
const WINDOW_PERSIST = 16;

/** The record is a retransmission (its ACK may be for an earlier copy). */
const RETRANSMITTED = 1;
/** Delivered, superseded by a later send of the same bytes, or lost: no longer a candidate for loss. */
const DONE = 2;
/** Deemed lost: [start, end) less what the peer SACKed is due to be sent again. */
const LOST = 4;
/** A retransmission of bytes RACK deemed lost (an ACK of the first copy then says they were only late). */
const REPAIR = 8;

/** What RACK asks of the send side: the SACK scoreboard's verdict on a sequence number, and the timer's call. */
export interface RackHost {
  /** The first sequence number at or after `sequence` the peer has not SACKed. */
  notSackedFrom(sequence: number): number;
  /** The reordering timer expired (RFC 8985 §6.2 step 5): detect losses again and repair them. */
  reorderTimedOut(): void;
}

export class Rack {
  /**
   * RACK.xmit_ts and RACK.end_seq: the send time and end of the most recently sent segment delivered,
   * and its place in the log. The place, not the time and sequence number, says which of two sends went
   * first: sends in the same clock tick are common, and a retransmission goes after new data of a
   * higher sequence number as often as before it.
   */
  xmitTime = -1;
  endSequence = 0;
  private xmitIndex = -1;
  /** RACK.rtt: the round trip of that segment; RACK.min_RTT: the smallest seen (ms; -1 before any). */
  rtt = 0;
  minRtt = -1;
  /** RACK.fack: the highest end of a segment delivered; whether a segment arrived below it (reordering). */
  private forwardAck = 0;
  private delivered = false;
  reorderingSeen = false;
  /** The reordering window's multiplier (RACK.reo_wnd_mult), the round a D-SACK grew it in, and how long it lasts. */
  private windowMultiplier = 1;
  private dsackRoundEnd = 0;
  private dsackRound = false;
  private windowPersist = 0;
  /** SND.MAX at the last ACK: where a round trip that starts now ends. */
  private sendMax = 0;
  /** Records deemed lost and not yet sent again in full. */
  lostRecords = 0;
  /** Bytes in them (SACKed parts of a large send included): what the estimate of the bytes in flight leaves out. */
  lostBytes = 0;

  private start: Uint32Array;
  private end: Uint32Array;
  private sentAt: Float64Array;
  private flags: Uint8Array;
  private mask: number;
  /** The ring's live records are [head, tail) (indices grow without bound; `& mask` places them). */
  private head = 0;
  private tail = 0;
  /**
   * Something in the ring is out of the ordinary (SACK blocks came, something was resent or deemed lost):
   * an ACK walks all of it, not just its head, and losses are looked for. While it is not, every record
   * delivered left from the head and the rest were sent after them: nothing can be deemed lost.
   */
  irregular = false;
  private readonly timer: RetransmitTimer;

  constructor(
    private readonly clock: NetClock,
    private readonly host: RackHost,
  ) {
    this.start = new Uint32Array(INITIAL_RECORDS);
    this.end = new Uint32Array(INITIAL_RECORDS);
    this.sentAt = new Float64Array(INITIAL_RECORDS);
    this.flags = new Uint8Array(INITIAL_RECORDS);
    this.mask = INITIAL_RECORDS - 1;
    this.timer = new RetransmitTimer(clock, { timedOut: () => host.reorderTimedOut() });
  }

  /** Sends logged and not yet dropped. */
  get records(): number {
    return this.tail - this.head;
  }

  /**
   * [start, end) went out now. A retransmission supersedes what earlier records cover of the same bytes
   * (they can no longer be deemed lost), and uses up the lost record it resends.
   */
  sent(start: number, end: number, retransmission: boolean): void {
    if (this.tail - this.head > this.mask) this.grow();
    const at = this.tail & this.mask;
    this.start[at] = start;
    this.end[at] = end;
    this.sentAt[at] = this.clock.now();
    this.flags[at] = retransmission ? RETRANSMITTED : 0;
    if (retransmission) {
      if (this.supersede(start, end)) this.flags[at] = RETRANSMITTED | REPAIR;
      this.irregular = true;
    }
    this.tail++;
  }

  /** Earlier records lose the bytes of [start, end), sent again now. Returns whether a lost one did. */
  private supersede(start: number, end: number): boolean {
    const mask = this.mask;
    let repair = false;
    for (let i = this.head; i < this.tail; i++) {
      const at = i & mask;
      const flags = this.flags[at]!;
      const from = this.start[at]!;
      const to = this.end[at]!;
      if ((flags & (DONE | LOST)) === DONE || seqLe(to, start) || seqLe(end, from)) continue;
      if (flags & LOST) {
        repair = true;
        this.lostBytes -= seqDiff(to, from);
      }
      if (seqLe(start, from)) {
        // Covered from its start: what is left of it (if anything) begins where the resent bytes end.
        if (seqLe(to, end)) this.retire(at);
        else this.start[at] = end;
      } else if (seqLe(to, end)) this.end[at] = start;
      else if (flags & LOST) this.start[at] = end; // the lost bytes before `start` went out earlier
      // A send inside a record that is not lost leaves it whole: it can only be deemed lost later.
      if (this.flags[at]! & LOST) this.lostBytes += seqDiff(this.end[at]!, this.start[at]!);
    }
    return repair;
  }

  private retire(at: number): void {
    if (this.flags[at]! & LOST) this.lostRecords--;
    this.flags[at] = DONE;
  }

  private grow(): void {
    const size = this.mask + 1;
    if (size >= MAX_RECORDS) {
      // Full: the oldest record goes (the RTO still covers its bytes).
      const at = this.head & this.mask;
      if (this.flags[at]! & LOST) this.lostBytes -= seqDiff(this.end[at]!, this.start[at]!);
      this.retire(at);
      this.head++;
      return;
    }
    const start = new Uint32Array(size * 2);
    const end = new Uint32Array(size * 2);
    const sentAt = new Float64Array(size * 2);
    const flags = new Uint8Array(size * 2);
    const newMask = size * 2 - 1;
    for (let i = this.head; i < this.tail; i++) {
      const from = i & this.mask;
      const to = i & newMask;
      start[to] = this.start[from]!;
      end[to] = this.end[from]!;
      sentAt[to] = this.sentAt[from]!;
      flags[to] = this.flags[from]!;
    }
    this.start = start;
    this.end = end;
    this.sentAt = sentAt;
    this.flags = flags;
    this.mask = newMask;
  }

  /**
   * An ACK arrived (RFC 8985 §6.2 steps 1-3): `ack` (SND.UNA after it) and its SACK blocks (or
   * undefined). The records it delivers update RACK.xmit_ts, RACK.end_seq, RACK.rtt, RACK.min_RTT and
   * RACK.fack, and show reordering; D-SACK blocks (below `ack`) widen the reordering window.
   */
  acknowledged(ack: number, blocks: readonly (readonly [number, number])[] | undefined, sendMax: number): void {
    this.sendMax = sendMax;
    const mask = this.mask;
    let now = -1; // read once, when first needed
    // The head: everything sent before the first record the ACK does not cover.
    const end = this.end;
    let head = this.head;
    if (!this.irregular) {
      // All in order, nothing resent: the last record covered is the newest, the one RACK follows.
      while (head < this.tail && seqLe(end[head & mask]!, ack)) head++;
      if (head !== this.head) {
        now = this.clock.now();
        this.deliver(head - 1, (head - 1) & mask, now);
        this.head = head;
      }
    } else {
      for (; head < this.tail; head++) {
        const at = head & mask;
        if (!seqLe(end[at]!, ack)) break;
        if (now < 0) now = this.clock.now();
        const flags = this.flags[at]!;
        if (!(flags & DONE)) this.deliver(head, at, now);
        else if (flags & LOST) {
          this.lostRecords--;
          this.lostBytes -= seqDiff(end[at]!, this.start[at]!);
        }
      }
      this.head = head;
      if (head === this.tail) this.irregular = false;
    }
    const blockCount = blocks === undefined ? 0 : blocks.length;
    if (blockCount !== 0) {
      this.irregular = true;
      if (
        seqLe(blocks![0]![1], ack) ||
        (blockCount > 1 && seqLe(blocks![0]![1], blocks![1]![1]) && seqLe(blocks![1]![0], blocks![0]![0]))
      ) {
        this.dsack(ack, sendMax);
      }
    }
    if (this.dsackRound && seqLe(this.dsackRoundEnd, ack)) this.dsackRound = false;
    if (!this.irregular) return;
    if (now < 0) now = this.clock.now();
    for (let i = this.head; i < this.tail; i++) {
      const at = i & mask;
      if (this.flags[at]! & DONE) continue;
      const from = this.start[at]!;
      const to = this.end[at]!;
      let covered = seqLe(to, ack);
      for (let b = 0; !covered && b < blockCount; b++) {
        const block = blocks![b]!;
        covered = seqLe(block[0], from) && seqLe(to, block[1]);
      }
      if (covered) {
        this.deliver(i, at, now);
        this.flags[at] = this.flags[at]! | DONE;
      } else if (i > this.xmitIndex) this.deliverPart(i, at, from, to, blocks, blockCount, now);
    }
  }

  /**
   * A large send (TSO) is one record, but its segments arrive one by one: a block SACKing part of it
   * says a segment sent then was delivered, so RACK follows that send from now on (what it would do with
   * a record per segment) and what went before it can be deemed lost, even while a loss of its own keeps
   * the record from being delivered whole.
   */
  private deliverPart(
    index: number,
    at: number,
    from: number,
    to: number,
    blocks: readonly (readonly [number, number])[] | undefined,
    blockCount: number,
    now: number,
  ): void {
    for (let b = 0; b < blockCount; b++) {
      const block = blocks![b]!;
      if (seqLt(block[0], to) && seqLt(from, block[1])) {
        const flags = this.flags[at]!;
        const rtt = now - this.sentAt[at]!;
        if (flags & RETRANSMITTED && rtt < this.minRtt) return; // maybe an earlier copy's (see deliver)
        this.xmitIndex = index;
        this.xmitTime = this.sentAt[at]!;
        this.endSequence = seqLt(block[1], to) ? block[1] : to;
        this.rtt = rtt;
        if (this.minRtt < 0 || rtt < this.minRtt) this.minRtt = rtt;
        return;
      }
    }
  }

  /** A record was delivered: RACK's state follows the most recently sent segment delivered (steps 1-3). */
  private deliver(index: number, at: number, now: number): void {
    const sentAt = this.sentAt[at]!;
    const end = this.end[at]!;
    const rtt = now - sentAt;
    const flags = this.flags[at]!;
    const retransmitted = flags & RETRANSMITTED;
    if (retransmitted && rtt < this.minRtt) {
      // An ACK sooner than min_RTT after a retransmission answers an earlier copy (step 2): no sample.
      // When RACK had deemed that copy lost, it was only late: reordering, as a D-SACK would have shown
      // (peers that send none, this stack included, show it this way), and the window widens.
      if (flags & REPAIR) {
        this.reorderingSeen = true;
        this.widen(this.sendMax);
      }
      return;
    }
    if (this.minRtt < 0 || rtt < this.minRtt) this.minRtt = rtt;
    if (index > this.xmitIndex) {
      this.xmitIndex = index;
      this.xmitTime = sentAt;
      this.endSequence = end;
      this.rtt = rtt;
    }
    // Step 3: an original delivered below the highest end delivered came out of order.
    if (!this.delivered || seqGt(end, this.forwardAck)) {
      this.forwardAck = end;
      this.delivered = true;
    } else if (!retransmitted && seqLt(end, this.forwardAck)) this.reorderingSeen = true;
  }

  /** A D-SACK: the peer got something twice; once per round trip the reordering window grows (step 4). */
  private dsack(ack: number, sendMax: number): void {
    this.widen(seqGt(sendMax, ack) ? sendMax : ack);
  }

  /** The reordering window grows by a quarter min_RTT, once per round trip (until `roundEnd` is acknowledged). */
  private widen(roundEnd: number): void {
    if (this.dsackRound) return;
    this.dsackRound = true;
    this.dsackRoundEnd = roundEnd;
    if (this.windowMultiplier < MAX_WINDOW_MULTIPLIER) this.windowMultiplier++;
    this.windowPersist = WINDOW_PERSIST;
  }

  /** A recovery ended: a grown reordering window lasts `WINDOW_PERSIST` of them (step 4). */
  recoveryEnded(): void {
    if (this.windowPersist > 0 && --this.windowPersist === 0) this.windowMultiplier = 1;
  }

  /**
   * RACK.reo_wnd (step 4): none while no reordering was seen and a loss is certain (in recovery, or
   * DupThresh segments' worth SACKed), else a quarter of min_RTT per multiplier, at most SRTT.
   */
  reorderingWindow(inRecovery: boolean, sackedBytes: number, mss: number, srtt: number): number {
    if (!this.reorderingSeen && (inRecovery || sackedBytes >= DUPLICATE_THRESHOLD * mss)) return 0;
    const window = (this.windowMultiplier * Math.max(0, this.minRtt)) / 4;
    return Math.min(window, srtt);
  }

  /**
   * Step 5: marks lost each record sent before the most recently delivered one that has had RACK.rtt +
   * `window` to arrive; arms the reordering timer for the soonest of the rest, when there are any.
   * Returns how many records it newly marked lost.
   */
  detectLoss(window: number): number {
    const last = this.xmitIndex;
    if (last < 0) return 0;
    const now = this.clock.now();
    const mask = this.mask;
    const deadline = this.rtt + window - now;
    let wait = 0;
    let marked = 0;
    // The ring is in the order of sending: only what precedes RACK's segment in it can be deemed lost.
    for (let i = this.head; i < last; i++) {
      const at = i & mask;
      const flags = this.flags[at]!;
      if (flags & DONE) continue;
      const remaining = this.sentAt[at]! + deadline;
      if (remaining <= 0) {
        this.flags[at] = flags | DONE | LOST;
        this.lostRecords++;
        this.lostBytes += seqDiff(this.end[at]!, this.start[at]!);
        this.irregular = true;
        marked++;
      } else if (remaining > wait) wait = remaining;
    }
    if (wait > 0) this.timer.arm(wait, true);
    return marked;
  }

  /**
   * The first byte deemed lost at or above `sendUnacknowledged` that the peer has not SACKed, or -1 when
   * none is; `lostEnd` then says where that lost record ends (a retransmission goes no further).
   */
  nextLost(sendUnacknowledged: number): number {
    if (this.lostRecords === 0) return -1;
    const mask = this.mask;
    for (let i = this.head; i < this.tail; i++) {
      const at = i & mask;
      if (!(this.flags[at]! & LOST)) continue;
      const from = this.start[at]!;
      const to = this.end[at]!;
      const first = this.host.notSackedFrom(seqLt(from, sendUnacknowledged) ? sendUnacknowledged : from);
      if (seqLt(first, to)) {
        this.lostEnd = to;
        return first;
      }
      this.lostBytes -= seqDiff(to, from);
      this.retire(at); // all of it SACKed or acknowledged since
    }
    return -1;
  }

  /** Where the record `nextLost` found ends. */
  lostEnd = 0;

  /** The retransmission timer expired: the sender goes back to SND.UNA and resends all; the log starts again. */
  reset(): void {
    this.head = this.tail;
    this.irregular = false;
    this.lostRecords = 0;
    this.lostBytes = 0;
  }

  /** Every timer off (the connection ended). */
  stop(): void {
    this.timer.cancel();
  }
}
