import type { Counter } from './options.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './sequence.js';

/** One run of contiguous bytes held: `length` bytes from sequence number `start`, in `bytes` (which may have room to grow). */
interface Range {
  start: number;
  bytes: Uint8Array;
  length: number;
}

/**
 * What one held range costs beyond its bytes (the range and array objects, a slot in the list), charged
 * against the budget as Linux charges each out-of-order skb its truesize: a flood of one-byte segments
 * with holes costs what it holds.
 */
export const RANGE_OVERHEAD_BYTES = 512;
/** Ranges held at most, whatever the budget. */
export const MAX_RANGES = 256;

const NO_BLOCKS: [number, number][] = [];

/**
 * The receive side's out-of-order data (RFC 9293 §3.10.7.4, RFC 2018): what arrived beyond RCV.NXT,
 * kept until the hole before it fills, and the SACK blocks that report it.
 *
 * - An interval structure: a sorted array of disjoint, non-adjacent ranges, each one buffer. A segment
 *   is placed by binary search and merged with the ranges it touches (bytes already held win over a
 *   segment that overlaps them), so in-order arrivals after a hole extend one range in place (its buffer
 *   grows by doubling) and nothing is ever sorted again.
 * - Bounded as Linux bounds its out-of-order queue: bytes plus a per-range overhead within `budget` (the
 *   receive buffer), and at most MAX_RANGES ranges. Past the bound the highest ranges, furthest from
 *   being delivered, go first (Linux's tcp_prune_ofo_queue), or the new segment when it is the highest;
 *   each is counted in `dropped`. A sender keeps what it sent until it is acknowledged (RFC 2018 §8), so
 *   it sends again what was given up.
 */
export class Assembler {
  private ranges: Range[] = [];
  /** Data bytes held. */
  bytes = 0;
  /** Ranges held: a field, not a getter, since the connection asks for every segment it sends or takes. */
  count = 0;
  /** The most recent arrival, reported first in SACK (RFC 2018 §4). */
  private lastArrival: number | undefined;

  constructor(
    private readonly budget = 128 * 1024,
    private readonly dropped: Counter = { increment() {} },
  ) {}

  /** What is charged against the budget: bytes plus the overhead of each range. */
  get charged(): number {
    return this.bytes + this.ranges.length * RANGE_OVERHEAD_BYTES;
  }

  /**
   * Keeps `data` (copied) at `sequence`, merged with what it touches: 'held', 'duplicate' when every byte
   * of it was held already, 'dropped' when the bound left no room for it.
   */
  insert(sequence: number, data: Uint8Array): 'held' | 'duplicate' | 'dropped' {
    const length = data.length;
    if (!length) return 'duplicate';
    const end = seqAdd(sequence, length);
    const ranges = this.ranges;
    // The ranges [first, last) that overlap or touch [sequence, end].
    const first = this.firstReaching(sequence);
    let last = first;
    while (last < ranges.length && seqLe(ranges[last]!.start, end)) last++;
    this.lastArrival = sequence;
    const touched = last - first;
    if (touched === 1) {
      const range = ranges[first]!;
      if (seqLe(range.start, sequence) && seqGe(seqAdd(range.start, range.length), end)) return 'duplicate';
    }
    // The merged range, and what it adds.
    const start = touched && seqLt(ranges[first]!.start, sequence) ? ranges[first]!.start : sequence;
    const lastEnd = touched ? seqAdd(ranges[last - 1]!.start, ranges[last - 1]!.length) : end;
    const unionEnd = seqGt(lastEnd, end) ? lastEnd : end;
    let held = 0;
    for (let i = first; i < last; i++) held += ranges[i]!.length;
    const added = seqDiff(unionEnd, start) - held;
    // Room within the bound: the highest ranges above this segment give way, else the segment does.
    for (;;) {
      const count = ranges.length - touched + 1;
      if (count <= MAX_RANGES && this.bytes + added + count * RANGE_OVERHEAD_BYTES <= this.budget) break;
      if (ranges.length <= last) {
        this.dropped.increment();
        return 'dropped';
      }
      const pruned = ranges.pop()!;
      this.bytes -= pruned.length;
      this.count--;
      this.dropped.increment();
    }
    if (touched === 1 && ranges[first]!.start === start) {
      this.extend(ranges[first]!, sequence, data, unionEnd);
    } else {
      ranges.splice(first, touched, this.merge(start, unionEnd, sequence, data, first, last));
    }
    this.count = ranges.length;
    this.bytes += added;
    return 'held';
  }

  /** The first range that ends at or after `sequence` (binary search: the ranges' ends increase). */
  private firstReaching(sequence: number): number {
    let low = 0;
    let high = this.ranges.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const range = this.ranges[middle]!;
      if (seqLt(seqAdd(range.start, range.length), sequence)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The common case: a segment that continues one range (after a hole, in order). Its buffer grows by doubling. */
  private extend(range: Range, sequence: number, data: Uint8Array, unionEnd: number): void {
    const length = seqDiff(unionEnd, range.start);
    if (length > range.bytes.length) {
      const grown = new Uint8Array(Math.max(length, 2 * range.bytes.length));
      grown.set(range.bytes.subarray(0, range.length));
      range.bytes = grown;
    }
    // Only the bytes beyond what the range holds: held bytes win.
    const from = range.length - seqDiff(sequence, range.start);
    range.bytes.set(data.subarray(from), range.length);
    range.length = length;
  }

  /** One range for [start, unionEnd): the new data, with the held ranges [first, last) copied over it. */
  private merge(start: number, unionEnd: number, sequence: number, data: Uint8Array, first: number, last: number): Range {
    const length = seqDiff(unionEnd, start);
    const bytes = new Uint8Array(length);
    bytes.set(data, seqDiff(sequence, start));
    for (let i = first; i < last; i++) {
      const range = this.ranges[i]!;
      bytes.set(range.bytes.subarray(0, range.length), seqDiff(range.start, start));
    }
    return { start, bytes, length };
  }

  /**
   * The held bytes that now follow `receiveNext` without a gap (the part not already received), or
   * undefined when the first range still lies beyond it. Call again with the new RCV.NXT until
   * undefined: ranges wholly below it are dropped on the way. The bytes are the caller's to keep.
   */
  take(receiveNext: number): Uint8Array | undefined {
    const ranges = this.ranges;
    while (ranges.length) {
      const range = ranges[0]!;
      if (seqGt(range.start, receiveNext)) return undefined;
      ranges.shift();
      this.bytes -= range.length;
      this.count--;
      if (!ranges.length) this.lastArrival = undefined;
      const skip = seqDiff(receiveNext, range.start);
      if (skip < range.length) {
        const fresh = range.bytes.subarray(skip, range.length);
        // Room a doubled buffer left is not handed on to be kept.
        return range.bytes.length > 2 * fresh.length ? fresh.slice() : fresh;
      }
    }
    return undefined;
  }

  /**
   * SACK blocks for what is held, the most recent arrival's range first (RFC 2018 §4), then the others
   * from the lowest, at most `maxBlocks`. A shared empty array when nothing is held.
   */
  sackBlocks(maxBlocks: number): [number, number][] {
    const ranges = this.ranges;
    if (!ranges.length) return NO_BLOCKS;
    const blocks: [number, number][] = [];
    let recent = -1;
    if (this.lastArrival !== undefined) {
      const i = this.firstReaching(this.lastArrival);
      if (i < ranges.length && seqLe(ranges[i]!.start, this.lastArrival)) recent = i;
    }
    if (recent >= 0) blocks.push([ranges[recent]!.start, seqAdd(ranges[recent]!.start, ranges[recent]!.length)]);
    for (let i = 0; i < ranges.length && blocks.length < maxBlocks; i++) {
      if (i !== recent) blocks.push([ranges[i]!.start, seqAdd(ranges[i]!.start, ranges[i]!.length)]);
    }
    return blocks;
  }

  clear(): void {
    this.ranges = [];
    this.bytes = 0;
    this.count = 0;
    this.lastArrival = undefined;
  }
}
