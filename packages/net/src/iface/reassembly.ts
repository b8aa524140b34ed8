import type { Ipv4Address } from '../wire/address.js';
import type { NetClock, TimerHandle } from '../clock.js';

export interface ReassemblyLimits {
  /** A datagram whose fragments do not all arrive in this time is dropped (default 30 s). */
  timeoutMs?: number;
  /** Datagrams being reassembled at once (default 16). */
  maxDatagrams?: number;
  /** Bytes held in all of them (default 256 KiB). */
  maxBytes?: number;
  /** Fragments of one datagram (default 64). */
  maxFragments?: number;
}

interface Partial {
  fragments: { offset: number; data: Uint8Array }[];
  bytes: number;
  /** Known once the last fragment (more-fragments clear) arrived. */
  total: number | undefined;
  timer: TimerHandle;
}

export type ReassemblyOutcome = { kind: 'complete'; payload: Uint8Array } | { kind: 'waiting' } | { kind: 'dropped'; reason: string };

/**
 * IPv4 fragment reassembly (RFC 791, with RFC 815's hole-free check) within memory and time bounds:
 * beyond a bound the datagram (or the new fragment) is dropped safely and counted by the caller.
 */
export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  private heldBytes = 0;
  private readonly timeoutMs: number;
  private readonly maxDatagrams: number;
  private readonly maxBytes: number;
  private readonly maxFragments: number;

  constructor(
    private readonly clock: NetClock,
    limits: ReassemblyLimits = {},
    private readonly onTimeout: () => void = () => {},
  ) {
    this.timeoutMs = limits.timeoutMs ?? 30_000;
    this.maxDatagrams = limits.maxDatagrams ?? 16;
    this.maxBytes = limits.maxBytes ?? 256 * 1024;
    this.maxFragments = limits.maxFragments ?? 64;
  }

  get pending(): number {
    return this.partials.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  add(
    source: Ipv4Address,
    destination: Ipv4Address,
    protocol: number,
    identification: number,
    offset: number,
    moreFragments: boolean,
    data: Uint8Array,
  ): ReassemblyOutcome {
    if (offset + data.length > 65535 - 20) return { kind: 'dropped', reason: 'datagram longer than 65535 bytes' };
    if (moreFragments && data.length % 8)
      return { kind: 'dropped', reason: 'a fragment that is not the last is not a multiple of 8 bytes' };
    const key = `${source}:${destination}:${protocol}:${identification}`;
    let partial = this.partials.get(key);
    if (!partial) {
      if (this.partials.size >= this.maxDatagrams) return { kind: 'dropped', reason: 'too many datagrams being reassembled' };
      partial = { fragments: [], bytes: 0, total: undefined, timer: { cancel() {} } };
      const created = partial;
      partial.timer = this.clock.setTimer(this.timeoutMs, () => {
        this.discard(key, created);
        this.onTimeout();
      });
      this.partials.set(key, partial);
    }
    if (this.heldBytes + data.length > this.maxBytes || partial.fragments.length >= this.maxFragments) {
      this.discard(key, partial);
      return { kind: 'dropped', reason: 'reassembly memory bound reached' };
    }
    if (!moreFragments) {
      const total = offset + data.length;
      if (partial.total !== undefined && partial.total !== total) {
        this.discard(key, partial);
        return { kind: 'dropped', reason: 'two different last fragments' };
      }
      partial.total = total;
    }
    if (partial.total !== undefined && offset + data.length > partial.total) {
      this.discard(key, partial);
      return { kind: 'dropped', reason: 'a fragment past the end of the datagram' };
    }
    partial.fragments.push({ offset, data: data.slice() });
    partial.bytes += data.length;
    this.heldBytes += data.length;
    if (partial.total === undefined) return { kind: 'waiting' };
    // Complete when the fragments cover 0..total without a hole.
    const sorted = [...partial.fragments].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const f of sorted) {
      if (f.offset > covered) return { kind: 'waiting' };
      covered = Math.max(covered, f.offset + f.data.length);
    }
    if (covered < partial.total) return { kind: 'waiting' };
    const payload = new Uint8Array(partial.total);
    for (const f of sorted) payload.set(f.data, f.offset);
    this.discard(key, partial);
    return { kind: 'complete', payload };
  }

  private discard(key: string, partial: Partial): void {
    partial.timer.cancel();
    this.heldBytes -= partial.bytes;
    this.partials.delete(key);
  }

  clear(): void {
    for (const [key, partial] of [...this.partials]) this.discard(key, partial);
  }
}
