import type { Ipv4Address } from '../wire/address.js';
import type { NetClock, TimerHandle } from '../clock.js';
import type { MemoryAccount } from '../memory.js';

export interface ReassemblyLimits {
  /** A datagram whose fragments do not all arrive in this time is dropped (default 30 s). */
  timeoutMs?: number;
  /**
   * Memory for all datagrams being reassembled, in bytes charged: each fragment's data plus a fixed
   * overhead per fragment and per datagram, so a flood of tiny fragments costs what it holds (default 256 KiB).
   */
  maxBytes?: number;
  /** The share of `maxBytes` one source address may hold (default half: a 64 KiB datagram always fits). */
  maxBytesPerSource?: number;
  /** Datagrams being reassembled at once, a cap beside the memory bound (default 1024). */
  maxDatagrams?: number;
  /** Fragments of one datagram (default 64). */
  maxFragments?: number;
}

/** What a held fragment and a datagram being reassembled cost beyond their data (objects, views, map entries). */
export const FRAGMENT_OVERHEAD_BYTES = 64;
export const DATAGRAM_OVERHEAD_BYTES = 192;

interface Fragment {
  offset: number;
  data: Uint8Array;
}

interface Partial {
  readonly key: string;
  readonly source: Ipv4Address;
  /** Sorted by offset, never overlapping. */
  readonly fragments: Fragment[];
  /** Data bytes held (no overlaps, so complete when it equals `total`). */
  covered: number;
  /** Memory charged: data plus overheads. */
  charged: number;
  /** Known once the last fragment (more-fragments clear) arrived. */
  total: number | undefined;
  readonly expires: number;
}

export type ReassemblyOutcome =
  | { kind: 'complete'; payload: Uint8Array }
  | { kind: 'waiting' }
  | { kind: 'duplicate' }
  | { kind: 'dropped'; reason: 'overlap' | 'invalid' | 'limit' };

export interface ReassemblyEvents {
  /** A datagram timed out with fragments missing. */
  timeout(): void;
  /** A datagram was given up to make room for newer ones. */
  evicted(): void;
}

/**
 * IPv4 fragment reassembly (RFC 791) within memory and time bounds.
 *
 * - Memory is bounded in bytes charged (data plus per-fragment and per-datagram overheads), not in slots,
 *   in all and per source address. To make room, the oldest datagrams go first: a source over its share
 *   loses its own oldest, and when all memory is taken the oldest of anyone's goes. Junk first fragments
 *   that never complete therefore cannot keep a datagram whose fragments arrive together from completing.
 * - Overlapping fragments drop the whole datagram (RFC 5722's rule for IPv6, adopted for IPv4 as Linux
 *   does): what a firewall saw in one fragment cannot be rewritten by another. An exact duplicate
 *   (same offset and length, as the network duplicates) is ignored on its own.
 * - One timer for all: datagrams expire in the order they were created.
 */
export class Reassembler {
  /** In creation order, which is also expiry order. */
  private readonly partials = new Map<string, Partial>();
  /** Each source's datagrams in creation order, and its bytes charged. */
  private readonly sources = new Map<Ipv4Address, { keys: Set<string>; charged: number }>();
  private charged = 0;
  private timer: TimerHandle | undefined;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxBytesPerSource: number;
  private readonly maxDatagrams: number;
  private readonly maxFragments: number;

  constructor(
    private readonly clock: NetClock,
    limits: ReassemblyLimits = {},
    private readonly events: ReassemblyEvents = { timeout() {}, evicted() {} },
    /** The stack's memory budget: what is held is charged there too, and the oldest give way when it is short. */
    private readonly memory?: MemoryAccount,
  ) {
    this.timeoutMs = limits.timeoutMs ?? 30_000;
    this.maxBytes = limits.maxBytes ?? 256 * 1024;
    this.maxBytesPerSource = Math.min(limits.maxBytesPerSource ?? Math.floor(this.maxBytes / 2), this.maxBytes);
    this.maxDatagrams = limits.maxDatagrams ?? 1024;
    this.maxFragments = limits.maxFragments ?? 64;
  }

  /** Datagrams being reassembled. */
  get pending(): number {
    return this.partials.size;
  }

  /** Memory charged for them. */
  get bytes(): number {
    return this.charged;
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
    const end = offset + data.length;
    if (end > 65535 - 20) return { kind: 'dropped', reason: 'invalid' }; // longer than a datagram can be
    if (moreFragments && (data.length === 0 || data.length % 8)) return { kind: 'dropped', reason: 'invalid' };
    const key = `${source}:${destination}:${protocol}:${identification}`;
    let partial = this.partials.get(key);
    const cost = data.length + FRAGMENT_OVERHEAD_BYTES + (partial ? 0 : DATAGRAM_OVERHEAD_BYTES);
    if (partial) {
      // Where the fragment goes, and whether it overlaps a neighbour (RFC 5722).
      const fragments = partial.fragments;
      let at = fragments.length;
      while (at > 0 && fragments[at - 1]!.offset >= offset) at--;
      const next = fragments[at];
      if (next && next.offset === offset && next.data.length === data.length) return { kind: 'duplicate' };
      const previous = fragments[at - 1];
      if ((next && next.offset < end) || (previous && previous.offset + previous.data.length > offset)) {
        this.discard(partial);
        return { kind: 'dropped', reason: 'overlap' };
      }
      if (!this.consistentEnd(partial, end, moreFragments) || fragments.length >= this.maxFragments) {
        this.discard(partial);
        return { kind: 'dropped', reason: 'invalid' };
      }
      if (!this.makeRoom(source, cost, partial)) {
        this.discard(partial);
        return { kind: 'dropped', reason: 'limit' };
      }
      fragments.splice(at, 0, { offset, data: data.slice() });
    } else {
      if (!this.makeRoom(source, cost, undefined)) return { kind: 'dropped', reason: 'limit' };
      partial = {
        key,
        source,
        fragments: [{ offset, data: data.slice() }],
        covered: 0,
        charged: 0,
        total: undefined,
        expires: this.clock.now() + this.timeoutMs,
      };
      this.partials.set(key, partial);
      let held = this.sources.get(source);
      if (!held) this.sources.set(source, (held = { keys: new Set(), charged: 0 }));
      held.keys.add(key);
      this.armTimer();
    }
    if (!moreFragments) partial.total = end;
    partial.covered += data.length;
    partial.charged += cost;
    this.charged += cost;
    this.sources.get(source)!.charged += cost;
    if (partial.total === undefined || partial.covered < partial.total) return { kind: 'waiting' };
    // No overlaps and no gaps: the fragments, in order, are the datagram.
    const payload = new Uint8Array(partial.total);
    for (const f of partial.fragments) payload.set(f.data, f.offset);
    this.discard(partial);
    return { kind: 'complete', payload };
  }

  /** A fragment agrees with the datagram's end: one last fragment, and nothing beyond it. */
  private consistentEnd(partial: Partial, end: number, moreFragments: boolean): boolean {
    if (!moreFragments) {
      if (partial.total !== undefined && partial.total !== end) return false;
      const last = partial.fragments[partial.fragments.length - 1]!;
      return last.offset + last.data.length <= end;
    }
    return partial.total === undefined || end <= partial.total;
  }

  /**
   * Frees room for `cost` more bytes from `source` (into `keep`, or a new datagram), giving up the
   * oldest datagrams: the source's own while it is over its share, then anyone's while all memory is
   * taken. False when even that cannot make room (the fragment is bigger than the share).
   */
  private makeRoom(source: Ipv4Address, cost: number, keep: Partial | undefined): boolean {
    const held = this.sources.get(source);
    if ((keep ? keep.charged : 0) + cost > this.maxBytesPerSource) return false;
    if (held) {
      for (const key of held.keys) {
        if (held.charged + cost <= this.maxBytesPerSource) break;
        if (key === keep?.key) continue;
        this.evict(this.partials.get(key)!);
      }
    }
    const newDatagram = keep === undefined ? 1 : 0;
    for (const partial of this.partials.values()) {
      if (this.charged + cost <= this.maxBytes && this.partials.size + newDatagram <= this.maxDatagrams) break;
      if (partial === keep) continue;
      this.evict(partial);
    }
    if (this.charged + cost > this.maxBytes) return false;
    // The stack's budget: the oldest datagrams (others') give way while it cannot pay.
    const memory = this.memory;
    if (!memory) return true;
    for (const partial of this.partials.values()) {
      if (memory.reserve(cost)) return true;
      if (partial !== keep) this.evict(partial);
    }
    return memory.reserve(cost);
  }

  private evict(partial: Partial): void {
    this.discard(partial);
    this.events.evicted();
  }

  private discard(partial: Partial): void {
    this.partials.delete(partial.key);
    this.charged -= partial.charged;
    this.memory?.release(partial.charged);
    const held = this.sources.get(partial.source)!;
    held.keys.delete(partial.key);
    held.charged -= partial.charged;
    if (!held.keys.size) this.sources.delete(partial.source);
    if (!this.partials.size) {
      this.timer?.cancel();
      this.timer = undefined;
    }
  }

  /** Sets the one timer for the oldest datagram's expiry, unless it is set. */
  private armTimer(): void {
    if (this.timer) return;
    const oldest = this.partials.values().next();
    if (oldest.done) return;
    this.timer = this.clock.setTimer(Math.max(0, oldest.value.expires - this.clock.now()), () => {
      this.timer = undefined;
      const now = this.clock.now();
      for (const partial of this.partials.values()) {
        if (partial.expires > now) break;
        this.discard(partial);
        this.events.timeout();
      }
      this.armTimer();
    });
  }

  clear(): void {
    for (const partial of [...this.partials.values()]) this.discard(partial);
  }
}
