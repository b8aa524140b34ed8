import type { NetClock, RandomSource } from '../../clock.js';
import type { IpAddress } from '../../wire/address.js';
import { TcpFlag, type TcpSegment } from '../../wire/tcp.js';
import { InitialSequence } from './initial-sequence.js';
import { seqAdd } from './sequence.js';

/**
 * The MSS values a cookie can carry, two bits of it (Linux's msstab for IPv4): the largest that does
 * not exceed the peer's is used.
 */
export const COOKIE_MSS = [536, 1300, 1440, 1460] as const;
/** A cookie is good for this many minutes after the one it was made in (Linux's MAX_SYNCOOKIE_AGE). */
const MAX_AGE_MINUTES = 2;
const MINUTE_MS = 60_000;
/** The low bits of our timestamp that carry the options in a cookie's SYN-ACK (Linux's TSBITS). */
const TIMESTAMP_OPTION_BITS = 6;
const TIMESTAMP_OPTION_MASK = (1 << TIMESTAMP_OPTION_BITS) - 1;
/** Window scale 15 (never valid) means none; bit 4 SACK-permitted. */
const NO_WINDOW_SCALE = 0x0f;
const SACK_BIT = 0x10;

/** What a SYN asked for that a cookie keeps (with timestamps; without them only the MSS survives). */
export interface CookieOptions {
  mss: number;
  /** The peer's window scale shift, when it offered one. */
  windowScale: number | undefined;
  sackPermitted: boolean;
}

export interface CookieEndpoints {
  localAddress: IpAddress;
  localPort: number;
  remoteAddress: IpAddress;
  remotePort: number;
}

/**
 * SYN cookies (RFC 4987 §3.6), as Linux makes them: when a listener's half-open queue is full, the SYN
 * is answered with a SYN-ACK whose sequence number carries what the connection needs, and nothing is
 * kept; the ACK that completes the handshake brings it back and the connection is made then.
 *
 * ISN = hash1(endpoints) + peer ISN + (minute << 24) + ((hash2(endpoints, minute) + MSS index) mod 2^24),
 * keyed hashes under a secret of their own. It checks out for this minute and the two before it. When the
 * SYN carried timestamps (RFC 7323), the low six bits of our timestamp carry the window scale and
 * SACK-permitted, and come back in the peer's echo (Linux's cookie_init_timestamp); without timestamps
 * a cookie connection has neither.
 */
export class SynCookies {
  private readonly hash: InitialSequence;

  constructor(
    random: RandomSource,
    private readonly clock: NetClock,
  ) {
    this.hash = new InitialSequence(random, () => 0);
  }

  private minute(): number {
    return Math.floor(this.clock.now() / MINUTE_MS);
  }

  /** The cookie (our ISN) for a SYN with `peerSequence` from these endpoints, and the MSS it carries. */
  make(endpoints: CookieEndpoints, peerSequence: number, peerMss: number): { sequence: number; mss: number } {
    let index = 0;
    while (index < COOKIE_MSS.length - 1 && COOKIE_MSS[index + 1]! <= peerMss) index++;
    const minute = this.minute();
    const sequence =
      this.keyed(endpoints, 1) + peerSequence + ((minute & 0xff) << 24) + ((this.keyed(endpoints, 2 + minute) + index) & 0xffffff);
    return { sequence: sequence >>> 0, mss: COOKIE_MSS[index]! };
  }

  /** The MSS a cookie (the ACK's acknowledgment − 1) carries, or undefined when it is forged or too old. */
  check(endpoints: CookieEndpoints, peerSequence: number, cookie: number): number | undefined {
    const value = (cookie - this.keyed(endpoints, 1) - peerSequence) >>> 0;
    const now = this.minute();
    const age = (now - (value >>> 24)) & 0xff;
    if (age > MAX_AGE_MINUTES) return undefined;
    const minute = now - age;
    const index = ((value & 0xffffff) - this.keyed(endpoints, 2 + minute)) & 0xffffff;
    return index < COOKIE_MSS.length ? COOKIE_MSS[index] : undefined;
  }

  /** Our timestamp for a cookie's SYN-ACK: `now` (ms) with the options in its low bits, never ahead of it. */
  timestamp(now: number, windowScale: number | undefined, sackPermitted: boolean): number {
    const options = (windowScale === undefined ? NO_WINDOW_SCALE : windowScale) | (sackPermitted ? SACK_BIT : 0);
    let value = ((now & ~TIMESTAMP_OPTION_MASK) | options) >>> 0;
    if (value > now >>> 0) value = (value - (TIMESTAMP_OPTION_MASK + 1)) >>> 0;
    return value || TIMESTAMP_OPTION_MASK + 1 + options; // 0 means no timestamp
  }

  /** The options a cookie's timestamp carried, from the peer's echo of it. */
  static optionsFromEcho(echo: number): { windowScale: number | undefined; sackPermitted: boolean } {
    const scale = echo & NO_WINDOW_SCALE;
    return { windowScale: scale === NO_WINDOW_SCALE ? undefined : Math.min(scale, 14), sackPermitted: (echo & SACK_BIT) !== 0 };
  }

  private keyed(endpoints: CookieEndpoints, salt: number): number {
    return this.hash.keyed(endpoints.localAddress, endpoints.localPort, endpoints.remoteAddress, endpoints.remotePort, salt);
  }
}

/**
 * The SYN a cookie stands for, rebuilt from the ACK that brought it back and what the cookie kept, and
 * the ACK as the connection takes it: its echo carries the cookie's options in its low bits, so it is no
 * RTT sample.
 */
export function cookieHandshake(ack: TcpSegment, kept: CookieOptions): { syn: TcpSegment; ack: TcpSegment } {
  const syn: TcpSegment = {
    ...ack,
    sequence: seqAdd(ack.sequence, -1),
    acknowledgment: 0,
    flags: TcpFlag.syn,
    window: 0,
    payload: ack.payload.subarray(0, 0),
    mss: kept.mss,
    windowScale: kept.windowScale,
    sackPermitted: kept.sackPermitted,
    sackBlocks: undefined,
  };
  return { syn, ack: ack.timestamps ? { ...ack, timestamps: { value: ack.timestamps.value, echo: 0 } } : ack };
}
