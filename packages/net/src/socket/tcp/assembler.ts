import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './sequence.js';

interface Held {
  sequence: number;
  data: Uint8Array;
}

const NO_BLOCKS: [number, number][] = [];

/**
 * The receive side's out-of-order segments (RFC 9293 §3.10.7.4, RFC 2018): data that arrived beyond
 * RCV.NXT, kept until the hole before it fills, and the SACK blocks that report it. It holds only what
 * lies within the window the peer was offered (the connection trims to it), so it is bounded by the
 * receive buffer.
 */
export class Assembler {
  private segments: Held[] = [];
  /** Bytes held (overlaps counted twice). */
  bytes = 0;
  /** Segments held: a field, not a getter, since the connection asks for every segment it sends or takes. */
  count = 0;
  /** The most recent arrival, reported first in SACK (RFC 2018 §4). */
  private lastArrival: number | undefined;

  /** Keeps `data` (the assembler's to keep) at `sequence`, unless a held segment covers it already. */
  insert(sequence: number, data: Uint8Array): void {
    const end = seqAdd(sequence, data.length);
    this.lastArrival = sequence;
    for (const held of this.segments) {
      if (seqLe(held.sequence, sequence) && seqGe(seqAdd(held.sequence, held.data.length), end)) return;
    }
    this.segments.push({ sequence, data });
    this.bytes += data.length;
    this.count++;
    this.segments.sort((a, b) => seqDiff(a.sequence, b.sequence));
  }

  /**
   * The held bytes that now follow `receiveNext` without a gap (the part not already received), or
   * undefined when the first held segment still lies beyond it. Call again with the new RCV.NXT until
   * undefined: segments wholly below it are dropped on the way.
   */
  take(receiveNext: number): Uint8Array | undefined {
    while (this.segments.length) {
      const first = this.segments[0]!;
      if (seqGt(first.sequence, receiveNext)) return undefined;
      this.segments.shift();
      this.bytes -= first.data.length;
      this.count--;
      if (!this.segments.length) this.lastArrival = undefined;
      const end = seqAdd(first.sequence, first.data.length);
      if (seqGt(end, receiveNext)) return first.data.subarray(seqDiff(receiveNext, first.sequence));
    }
    return undefined;
  }

  /**
   * SACK blocks for what is held, merged, the most recent arrival's first (RFC 2018 §4), at most
   * `maxBlocks`. A shared empty array when nothing is held.
   */
  sackBlocks(maxBlocks: number): [number, number][] {
    if (!this.segments.length) return NO_BLOCKS;
    const ranges: [number, number][] = [];
    for (const held of this.segments) {
      const end = seqAdd(held.sequence, held.data.length);
      const last = ranges[ranges.length - 1];
      if (last && seqLe(held.sequence, last[1])) last[1] = seqMax(last[1], end);
      else ranges.push([held.sequence, end]);
    }
    const recent = this.lastArrival;
    if (recent !== undefined) {
      const i = ranges.findIndex(([start, end]) => seqLe(start, recent) && seqLt(recent, end));
      if (i > 0) ranges.unshift(...ranges.splice(i, 1));
    }
    return ranges.length > maxBlocks ? ranges.slice(0, maxBlocks) : ranges;
  }

  clear(): void {
    this.segments = [];
    this.bytes = 0;
    this.count = 0;
    this.lastArrival = undefined;
  }
}
