/**
 * Congestion control, as the connection sees it: a window of bytes that may be in flight, moved by
 * ACKs, duplicate ACKs and timeouts, and what to retransmit at once. NewReno (RFC 5681, RFC 6582,
 * `new-reno.ts`) is the one implementation; another (CUBIC, say) plugs in behind the same interface.
 *
 * The connection keeps the send sequence space, the SACK scoreboard and the retransmission itself; the
 * controller sees numbers only (sequence numbers unsigned 32-bit, sizes in bytes), so it allocates
 * nothing per ACK.
 */

/**
 * What the connection does after an ACK: nothing more, retransmit the next hole now, or enter fast
 * recovery (retransmit from SND.UNA, counted as a fast retransmit).
 */
export type CongestionAction = 'none' | 'retransmit' | 'recover';

export interface CongestionControl {
  /** The congestion window (cwnd) in bytes. */
  readonly window: number;
  readonly slowStartThreshold: number;
  /** In fast recovery. */
  readonly inRecovery: boolean;
  /** The handshake fixed the segment size and whether the peer reports SACK blocks: the initial window. */
  start(mss: number, sack: boolean): void;
  /**
   * An ACK moved SND.UNA to `ack`, acknowledging `acked` bytes of data; `flightSize` is what is still
   * outstanding (SND.MAX − SND.UNA, after the move).
   */
  onNewAck(ack: number, acked: number, flightSize: number, mss: number): CongestionAction;
  /**
   * A duplicate ACK (RFC 5681 §2) with SND.UNA and SND.MAX as they are; `sackedBytes`: what the peer
   * reports holding above SND.UNA (0 without SACK).
   */
  onDuplicateAck(sendUnacknowledged: number, sendMax: number, flightSize: number, mss: number, sackedBytes: number): CongestionAction;
  /**
   * Time-based loss detection (RACK, RFC 8985 §6.2 step 5) found a segment lost: enter fast recovery
   * unless in it, or unless SND.UNA is still short of the last recovery's end (the same episode).
   * Returns whether it entered.
   */
  enterRecovery(sendUnacknowledged: number, sendMax: number, flightSize: number, mss: number): boolean;
  /** The retransmission timer expired (the connection goes back to SND.UNA). */
  onRetransmitTimeout(sendMax: number, flightSize: number, mss: number): void;
}
