/**
 * The retransmission timer (RFC 6298): smoothed RTT and variance from samples (Karn's rule is the
 * caller's: never sample a retransmitted segment unless timestamps say which copy was answered), RTO =
 * SRTT + 4 * RTTVAR, bounded, doubled on every timeout.
 */
export interface RttOptions {
  /** RFC 6298 says 1 s; Linux uses 200 ms, which recovers faster on a LAN. Default 200 ms. */
  minimumMs?: number;
  maximumMs?: number;
  initialMs?: number;
}

export class RttEstimator {
  private smoothed: number | undefined;
  private variance = 0;
  private base: number;
  private backoff = 0;
  private readonly minimum: number;
  private readonly maximum: number;
  /** `timeoutMs`, worked out when a sample or a backoff changes it (it is read for every segment sent). */
  private timeout: number;

  constructor(options: RttOptions = {}) {
    this.minimum = options.minimumMs ?? 200;
    this.maximum = options.maximumMs ?? 60_000;
    this.base = options.initialMs ?? 1000;
    this.timeout = this.workOutTimeout();
  }

  /** A measured round trip in milliseconds. */
  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (this.smoothed === undefined) {
      this.smoothed = r;
      this.variance = r / 2;
    } else {
      this.variance = 0.75 * this.variance + 0.25 * Math.abs(this.smoothed - r);
      this.smoothed = 0.875 * this.smoothed + 0.125 * r;
    }
    this.base = this.smoothed + Math.max(1, 4 * this.variance);
    this.backoff = 0;
    this.timeout = this.workOutTimeout();
  }

  /** The timeout to use now, backoff included. */
  get timeoutMs(): number {
    return this.timeout;
  }

  private workOutTimeout(): number {
    return Math.min(this.maximum, Math.max(this.minimum, this.base) * 2 ** this.backoff);
  }

  /** After a timeout: double (RFC 6298 5.5). */
  backOff(): void {
    if (this.timeout < this.maximum) {
      this.backoff++;
      this.timeout = this.workOutTimeout();
    }
  }

  get backoffCount(): number {
    return this.backoff;
  }

  get smoothedMs(): number | undefined {
    return this.smoothed;
  }
}
