import type { NetClock } from './clock.js';

/**
 * A token bucket: at most `burst` at once, refilled at `perSecond`. What the stack sends because of
 * what arrived (ICMP errors, TCP resets for segments that belong to nothing, RFC 5961 challenge ACKs)
 * goes through one, so a flood cannot turn the stack into an amplifier or keep its link busy.
 */
export class RateLimiter {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly clock: NetClock,
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
    this.refilledAt = clock.now();
  }

  /** Takes a token when one is there. */
  allow(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
