/** RFC 7323 §2.3: a shift of at most 14. */
export const MAX_WINDOW_SHIFT = 14;

const UNLIMITED = { receiveAllowance: Number.POSITIVE_INFINITY };
/** The window scale shift that lets a 16-bit field carry `capacity` (what our SYN announces). */
export function windowShiftFor(capacity: number): number {
  let shift = 0;
  while (shift < MAX_WINDOW_SHIFT && capacity >> shift > 0xffff) shift++;
  return shift;
}

/**
 * The window we offer the peer (RFC 9293 §3.8.6.2, RFC 7323 §2):
 * - It is the receive buffer less the in-order bytes the application has not taken yet. Out-of-order
 *   bytes lie inside it already (they are kept only there), so they do not shrink it.
 * - Its right edge (RCV.NXT + window) never moves left, not even by the rounding of a scaled window: the
 *   offered window is at least what was advertised last, less what arrived since. A peer whose window
 *   shrank drops the segments beyond the new edge, ACKs with them, and the two can deadlock.
 * - With window scaling the field carries the window >> shift, rounded up (so rounding never shrinks).
 */
export class ReceiveWindow {
  /** Our window scale shift, announced in our SYN (0 when the peer does not scale). */
  shift: number;
  /** RCV.NXT plus the largest window advertised, in sequence space. */
  private advertisedEdge = 0;

  constructor(
    /** Bytes received and not yet taken that the connection will hold. */
    readonly capacity: number,
    scaling: boolean,
    /**
     * The memory budget's say: a window offers at most `receiveAllowance` beyond what is held (all of
     * the buffer normally, a few segments under pressure, nothing new at the limit).
     */
    private readonly memory: { readonly receiveAllowance: number } = UNLIMITED,
  ) {
    this.shift = scaling ? windowShiftFor(capacity) : 0;
  }

  /** The peer's SYN fixed RCV.NXT: nothing advertised beyond it yet. */
  synchronize(receiveNext: number): void {
    this.advertisedEdge = receiveNext;
  }

  /**
   * The window the buffer allows from RCV.NXT, `held` bytes waiting for the application; under memory
   * pressure held data and the window together stay within the budget's allowance, so a connection that
   * holds much is offered nothing new.
   */
  available(held: number): number {
    return Math.max(0, Math.min(this.capacity, this.memory.receiveAllowance) - held);
  }

  /** The window as the peer knows it: what the buffer allows, but never short of the edge advertised. */
  offered(receiveNext: number, held: number): number {
    // Comparisons rather than Math.min/max and seqDiff: this runs for every segment in and out.
    const capacity = this.capacity;
    const allowance = this.memory.receiveAllowance;
    // biome-ignore lint/complexity/useMathMinMax: a comparison costs less than a call here (per segment)
    const available = (allowance < capacity ? allowance : capacity) - held;
    const advertised = (this.advertisedEdge - receiveNext) | 0;
    // biome-ignore lint/complexity/useMathMinMax: a comparison costs less than a call here (per segment)
    const window = available > advertised ? available : advertised;
    // biome-ignore lint/complexity/useMathMinMax: a comparison costs less than a call here (per segment)
    return window > 0 ? window : 0;
  }

  /** The window field of a segment going out now (scaled, at most 0xffff), remembering the edge it advertises. */
  advertise(receiveNext: number, held: number): number {
    const scale = 1 << this.shift;
    const scaled = Math.ceil(this.offered(receiveNext, held) / scale);
    // biome-ignore lint/complexity/useMathMinMax: a comparison costs less than a call here (per segment)
    const field = scaled < 0xffff ? scaled : 0xffff;
    const edge = (receiveNext + field * scale) >>> 0;
    if (((edge - this.advertisedEdge) | 0) > 0) this.advertisedEdge = edge;
    return field;
  }
}
