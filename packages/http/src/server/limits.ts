import { HttpError } from '../errors.js';

/** The server's limits: each has a default and may be set per server (`serve({ ..., maxBodyBytes })`). */
export interface HttpLimits {
  /** Request line and header fields, CRLFs included (default 16 KiB); more answers 431. */
  maxHeadBytes?: number;
  /** The request line alone (default 8 KiB); more answers 414. */
  maxRequestLineBytes?: number;
  /** Header fields in a request (default 100); more answers 431. */
  maxHeaders?: number;
  /** A request body, declared or chunked (default 1 MiB); more answers 413. */
  maxBodyBytes?: number;
  /** From a connection's first byte, or a request's first byte, to the end of its head (default 10 s); then 408 and close. */
  headersTimeoutMs?: number;
  /** How long an idle connection is kept open between requests (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** How long the server waits for more of a request body its handler is reading (default 30 s); then 408. */
  bodyTimeoutMs?: number;
  /** Open connections (default 256); one more is answered 503 and closed. */
  maxConnections?: number;
  /** Each connection's TCP send buffer (default 16 KiB): what an unread response may hold in memory. */
  sendBufferBytes?: number;
  /**
   * How long a connection the server closed stays in TCP TIME-WAIT (default 2 s, not TCP's 60 s): a server
   * closes first (HTTP/1.0, `Connection: close`, timeouts) and under connection churn 60 s would hold
   * thousands of TIME-WAIT records (small, but charged to @uos/net's memory budget and recycled oldest first
   * past `tcp.maxTimeWait`). TCP timestamps (PAWS, RFC 7323, and RFC 6191's reuse of TIME-WAIT) cover what
   * the long wait protects against.
   */
  timeWaitMs?: number;
}

export type ResolvedLimits = Required<HttpLimits>;

export const DEFAULT_LIMITS: Readonly<ResolvedLimits> = {
  maxHeadBytes: 16 * 1024,
  maxRequestLineBytes: 8 * 1024,
  maxHeaders: 100,
  maxBodyBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  bodyTimeoutMs: 30_000,
  maxConnections: 256,
  sendBufferBytes: 16 * 1024,
  timeWaitMs: 2_000,
};

/** The limits with defaults filled in; a limit that is not a positive integer is the caller's mistake. */
export function resolveLimits(options: HttpLimits): ResolvedLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new HttpError('invalid-option', `${key} must be a positive integer, not ${JSON.stringify(value)}`);
    }
    limits[key] = value;
  }
  if (limits.maxRequestLineBytes > limits.maxHeadBytes) limits.maxRequestLineBytes = limits.maxHeadBytes;
  return limits;
}
