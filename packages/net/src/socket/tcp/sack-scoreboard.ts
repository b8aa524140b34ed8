import { seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './sequence.js';

/** Ranges kept at most: a peer cannot make the scoreboard grow without bound. */
const MAX_RANGES = 64;
/** The empty scoreboard's list, shared (never changed in place): an idle connection holds no array of its own. */
const NO_RANGES: [number, number][] = [];

/**
 * The SACK scoreboard (RFC 2018 §8, RFC 6675 §3): the ranges above SND.UNA the peer reported holding,
 * [start, end) in sequence space, sorted and merged. The send side asks it which bytes need not be sent
 * again, and whether a range counts as lost (RFC 6675 IsLost: three segments' worth SACKed above it).
 */
export class SackScoreboard {
  /** Sorted, disjoint, none ending at or below SND.UNA. */
  ranges: [number, number][] = NO_RANGES;

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /**
   * Takes the blocks of one ACK. Blocks at or below `ack` (D-SACK, RFC 2883), reaching beyond `sendMax`
   * or empty are ignored: a peer cannot SACK what was never sent.
   */
  update(blocks: [number, number][], ack: number, sendMax: number): void {
    let added = false;
    for (const [start, end] of blocks) {
      if (seqLe(end, ack) || seqGt(end, sendMax) || seqGe(start, end)) continue;
      if (this.ranges === NO_RANGES) this.ranges = [];
      this.ranges.push([start, end]);
      added = true;
    }
    if (!added) return;
    this.ranges.sort((a, b) => seqDiff(a[0], b[0]));
    const merged: [number, number][] = [];
    for (const range of this.ranges) {
      const last = merged[merged.length - 1];
      if (last && seqLe(range[0], last[1])) last[1] = seqMax(last[1], range[1]);
      else merged.push([range[0], range[1]]);
    }
    this.ranges = merged.length > MAX_RANGES ? merged.slice(0, MAX_RANGES) : merged;
  }

  /** SND.UNA moved to `ack`: ranges below it go, one straddling it is cut there. */
  acknowledge(ack: number): void {
    const ranges = this.ranges;
    if (!ranges.length) return;
    let drop = 0;
    while (drop < ranges.length && seqLe(ranges[drop]![1], ack)) drop++;
    if (drop === ranges.length) {
      this.ranges = NO_RANGES;
      return;
    }
    if (drop) ranges.splice(0, drop);
    if (ranges.length && seqLt(ranges[0]![0], ack)) ranges[0]![0] = ack;
  }

  /** Bytes the peer reported above SND.UNA. */
  sackedBytes(): number {
    // Indexed, not for-of (an iterator per call): the sender asks for every segment it sends.
    const ranges = this.ranges;
    let n = 0;
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i]!;
      n += seqDiff(range[1], range[0]);
    }
    return n;
  }

  /** Bytes SACKed in ranges that start above `sequence` (RFC 6675 IsLost counts these). */
  sackedAbove(sequence: number): number {
    let n = 0;
    for (const [start, end] of this.ranges) if (seqGt(start, sequence)) n += seqDiff(end, start);
    return n;
  }

  /** The first sequence number at or after `sequence` that the peer has not SACKed. */
  skip(sequence: number): number {
    let at = sequence;
    for (const [start, end] of this.ranges) if (seqLe(start, at) && seqLt(at, end)) at = end;
    return at;
  }

  /** How far from `sequence` the next SACKed range starts (Infinity when none does). */
  gapAfter(sequence: number): number {
    for (const [start] of this.ranges) if (seqGt(start, sequence)) return seqDiff(start, sequence);
    return Infinity;
  }

  clear(): void {
    this.ranges = NO_RANGES;
  }
}
