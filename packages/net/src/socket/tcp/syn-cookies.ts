import type { NetClock, RandomSource } from '../../clock.js';
import { type IpAddress, foldIpAddress } from '../../wire/address.js';
import { TcpFlag, type TcpSegment } from '../../wire/tcp.js';
import { seqAdd } from './sequence.js';

/**
 * The MSS values a cookie can carry, two bits of it (Linux's msstab for IPv4): the largest that does
 * not exceed the peer's is used.
 */
export const COOKIE_MSS = [536, 1300, 1440, 1460] as const;
/** A cookie is good for this many minutes after the one it was made in (as Linux's MAX_SYNCOOKIE_AGE). */
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
 * SYN cookies (RFC 4987 §3.6): when a listener's half-open queue is full, the SYN is answered with a
 * SYN-ACK whose sequence number carries what the connection needs, and nothing is kept; the ACK that
 * completes the handshake brings it back and the connection is made then.
 *
 * The cookie is the classic one RFC 4987 describes: the minute mod 32 (5 bits), the MSS index (3 bits)
 * and 24 bits of a keyed hash (HalfSipHash-1-3, Linux's hsiphash on 32-bit machines, under a random
 * 64-bit key) of the endpoints, the peer's ISN and both of those; it checks out for that minute and the
 * two after it. One hash per SYN: under a flood the guest's CPU is what runs out first. When the SYN carried timestamps
 * (RFC 7323), the low six bits of our timestamp carry the window scale and SACK-permitted and come back
 * in the peer's echo, as Linux encodes them (cookie_init_timestamp); without timestamps a cookie
 * connection has neither.
 */
export class SynCookies {
  private readonly key0: number;
  private readonly key1: number;
  private readonly words = new Uint32Array(6);

  constructor(
    random: RandomSource,
    private readonly clock: NetClock,
  ) {
    this.key0 = random.uint32();
    this.key1 = random.uint32();
  }

  private minute(): number {
    return Math.floor(this.clock.now() / MINUTE_MS);
  }

  /** The cookie (our ISN) for a SYN with `peerSequence` from these endpoints, and the MSS it carries. */
  make(endpoints: CookieEndpoints, peerSequence: number, peerMss: number): { sequence: number; mss: number } {
    let index = 0;
    while (index < COOKIE_MSS.length - 1 && COOKIE_MSS[index + 1]! <= peerMss) index++;
    const minute = this.minute() & 31;
    const sequence = (minute << 27) | (index << 24) | (this.hash(endpoints, peerSequence, (index << 8) | minute) & 0xffffff);
    return { sequence: sequence >>> 0, mss: COOKIE_MSS[index]! };
  }

  /** The MSS a cookie (the ACK's acknowledgment − 1) carries, or undefined when it is forged or too old. */
  check(endpoints: CookieEndpoints, peerSequence: number, cookie: number): number | undefined {
    const minute = cookie >>> 27;
    const index = (cookie >>> 24) & 7;
    if (((this.minute() - minute) & 31) > MAX_AGE_MINUTES || index >= COOKIE_MSS.length) return undefined;
    return (this.hash(endpoints, peerSequence, (index << 8) | minute) & 0xffffff) === (cookie & 0xffffff) ? COOKIE_MSS[index] : undefined;
  }

  /**
   * HalfSipHash-1-3 of the endpoints (IPv6 addresses folded), the peer's ISN, and the minute and MSS
   * index. The rounds are written out (a function call costs as much as a round in the guest).
   */
  private hash(endpoints: CookieEndpoints, peerSequence: number, minuteAndIndex: number): number {
    const words = this.words;
    words[0] = foldIpAddress(endpoints.localAddress);
    words[1] = foldIpAddress(endpoints.remoteAddress);
    words[2] = (endpoints.localPort << 16) | endpoints.remotePort;
    words[3] = peerSequence;
    words[4] = minuteAndIndex;
    words[5] = (5 * 4) << 24; // the length, in the last word
    let v0 = this.key0;
    let v1 = this.key1;
    let v2 = 0x6c796765 ^ this.key0;
    let v3 = 0x74656462 ^ this.key1;
    for (let i = 0; i < 6; i++) {
      const m = words[i]!;
      v3 ^= m;
      v0 = (v0 + v1) | 0;
      v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
      v2 = (v2 << 16) | (v2 >>> 16);
      v0 ^= m;
    }
    v2 ^= 0xff;
    for (let r = 0; r < 3; r++) {
      v0 = (v0 + v1) | 0;
      v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
      v2 = (v2 << 16) | (v2 >>> 16);
    }
    return (v1 ^ v3) >>> 0;
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
