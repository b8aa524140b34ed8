import type { CongestionAction, CongestionControl } from './congestion.js';
import { seqGe, seqGt, seqLt } from './sequence.js';

/** RFC 6928: the initial window is ten segments. */
const INITIAL_SEGMENTS = 10;
/** RFC 5681 §3.2: three duplicate ACKs signal a loss. */
const DUPLICATE_THRESHOLD = 3;

/**
 * NewReno (RFC 5681 slow start and congestion avoidance, RFC 6582 fast retransmit and recovery):
 * - Slow start below ssthresh grows cwnd by the bytes acknowledged (RFC 3465, no per-ACK limit: stretch
 *   ACKs of large segments count in full); congestion avoidance above it by about MSS·acked/cwnd per ACK
 *   (one segment per round trip).
 * - Three duplicate ACKs, or with SACK three segments' worth SACKed above SND.UNA (RFC 6675), signal a
 *   loss: ssthresh = max(FlightSize / 2, 2·MSS), `recover` = SND.MAX, retransmit from SND.UNA, and
 *   cwnd = ssthresh + 3·MSS — unless SND.UNA has not passed the last `recover` (RFC 6582 §4.1: the same
 *   loss episode).
 * - In recovery each duplicate ACK inflates cwnd by one MSS (and, with SACK, lets the next lost range
 *   go); a partial ACK retransmits the next hole and deflates cwnd by what it acknowledged, less one MSS;
 *   a full ACK (reaching `recover`) ends recovery with cwnd = min(ssthresh, FlightSize + MSS), at least
 *   2·MSS (RFC 6582 §3.2 step 3, option 1).
 * - With SACK the sender finds losses by time (RACK, `rack.ts`) and calls `enterRecovery`: the same cut,
 *   without the three segments' inflation; duplicate ACKs then only inflate cwnd in recovery.
 * - A timeout: ssthresh = max(FlightSize / 2, 2·MSS), cwnd = one MSS, recovery over (RFC 5681 §3.1).
 */
export class NewReno implements CongestionControl {
  window: number;
  slowStartThreshold = 0x7fffffff;
  inRecovery = false;
  private duplicateAcks = 0;
  /** SND.MAX when the last recovery began: duplicate ACKs below it belong to that episode. */
  private recover: number;
  private sack = false;

  constructor(initialSequence: number, mss: number) {
    this.recover = initialSequence;
    this.window = INITIAL_SEGMENTS * mss;
  }

  start(mss: number, sack: boolean): void {
    this.window = INITIAL_SEGMENTS * mss;
    this.sack = sack;
  }

  onNewAck(ack: number, acked: number, flightSize: number, mss: number): CongestionAction {
    if (this.inRecovery) {
      if (seqGe(ack, this.recover)) {
        this.inRecovery = false;
        this.window = Math.max(Math.min(this.slowStartThreshold, flightSize + mss), 2 * mss);
        this.duplicateAcks = 0;
        return 'none';
      }
      this.window = Math.max(mss, this.window - acked + mss);
      return 'retransmit';
    }
    this.duplicateAcks = 0;
    // Byte counting (RFC 3465), without its per-ACK limit in slow start, as Linux does: a peer that
    // acknowledges large or coalesced segments once (stretch ACKs) opens the window as fast as one that
    // acknowledges every other segment.
    if (this.window < this.slowStartThreshold)
      this.window = Math.min(this.window + acked, Math.max(this.slowStartThreshold, this.window + mss));
    else this.window += Math.max(1, Math.floor((mss * Math.max(acked, mss)) / this.window));
    return 'none';
  }

  onDuplicateAck(sendUnacknowledged: number, sendMax: number, flightSize: number, mss: number, sackedBytes: number): CongestionAction {
    this.duplicateAcks++;
    if (this.inRecovery) {
      this.window += mss; // a segment left the network
      return this.sack ? 'retransmit' : 'none';
    }
    const lossSignalled = this.duplicateAcks >= DUPLICATE_THRESHOLD || (this.sack && sackedBytes >= DUPLICATE_THRESHOLD * mss);
    if (!lossSignalled || !seqGt(sendUnacknowledged, this.recover)) return 'none';
    this.slowStartThreshold = Math.max(Math.floor(flightSize / 2), 2 * mss);
    this.recover = sendMax;
    this.inRecovery = true;
    this.window = this.slowStartThreshold + DUPLICATE_THRESHOLD * mss;
    return 'recover';
  }

  enterRecovery(sendUnacknowledged: number, sendMax: number, flightSize: number, mss: number): boolean {
    // A loss RACK found lies at or above SND.UNA: once that reached the last `recover`, it is a new episode.
    if (this.inRecovery || seqLt(sendUnacknowledged, this.recover)) return false;
    this.slowStartThreshold = Math.max(Math.floor(flightSize / 2), 2 * mss);
    this.recover = sendMax;
    this.inRecovery = true;
    this.duplicateAcks = 0;
    // No duplicate ACKs counted in: the window is ssthresh, inflated by the ACKs that follow.
    this.window = this.slowStartThreshold;
    return true;
  }

  onRetransmitTimeout(sendMax: number, flightSize: number, mss: number): void {
    this.slowStartThreshold = Math.max(Math.floor(flightSize / 2), 2 * mss);
    this.window = mss;
    this.inRecovery = false;
    this.duplicateAcks = 0;
    this.recover = sendMax;
  }
}
