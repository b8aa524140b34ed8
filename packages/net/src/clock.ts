/**
 * Time and chance for the stack, injected so tests drive them: the network code never calls setTimeout,
 * Date or Math.random itself. In an image the defaults use the kernel's timers and crypto.getRandomValues;
 * netsim tests use a VirtualClock and a seeded random source.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface NetClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Runs `callback` once after `ms`. */
  setTimer(ms: number, callback: () => void): TimerHandle;
}

export interface RandomSource {
  /** A uniformly random unsigned 32-bit integer. */
  uint32(): number;
}

/** The globals every uOS image (and Node) provides; ES2020's library does not declare them. */
interface HostGlobals {
  performance: { now(): number };
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  crypto: { getRandomValues<T extends ArrayBufferView>(array: T): T };
}
const host = globalThis as unknown as HostGlobals;

/** The real clock: the kernel's timers in an image, Node's in tests. */
export const systemClock: NetClock = {
  now: () => host.performance.now(),
  setTimer(ms, callback) {
    const handle = host.setTimeout(callback, Math.max(0, ms));
    return { cancel: () => host.clearTimeout(handle) };
  },
};

/** Cryptographic randomness from the platform (crypto.getRandomValues). */
export const systemRandom: RandomSource = {
  uint32() {
    const words = new Uint32Array(1);
    host.crypto.getRandomValues(words);
    return words[0]!;
  },
};

/** A seeded generator (xorshift128+ reduced to 32 bits): reproducible tests, never cryptographic. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0 || 0x9e3779b9;
  let b = Math.imul(a ^ 0x85ebca6b, 0xc2b2ae35) >>> 0 || 1;
  return {
    uint32() {
      let s1 = a;
      const s0 = b;
      a = s0;
      s1 ^= s1 << 11;
      s1 ^= s1 >>> 8;
      b = (s1 ^ s0 ^ (s0 >>> 19)) >>> 0;
      return (a + b) >>> 0;
    },
  };
}

/** A timer of the virtual clock; it is its own handle (no closure per timer). */
class VirtualTimer implements TimerHandle {
  cancelled = false;
  constructor(
    readonly at: number,
    readonly sequence: number,
    readonly callback: () => void,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }
}

/** Whether `a` fires before `b`: earlier deadline, then the order they were set in. */
function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.sequence < b.sequence);
}

/**
 * Simulated time for tests: timers fire only when the test advances the clock, in deadline order, so a
 * transfer that takes minutes of protocol time runs in milliseconds and the same way every time. Timers
 * wait in a binary heap (cancelled ones are dropped when they reach its top): a simulated wire sets one
 * per frame, so this is on the path of every packet a netsim test moves.
 */
export class VirtualClock implements NetClock {
  private time = 0;
  private sequence = 0;
  private readonly heap: VirtualTimer[] = [];

  now(): number {
    return this.time;
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    const timer = new VirtualTimer(this.time + Math.max(0, ms), this.sequence++, callback);
    const heap = this.heap;
    let i = heap.length;
    heap.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = timer;
    return timer;
  }

  /** Timers set and neither fired nor cancelled. */
  get pendingTimers(): number {
    let n = 0;
    for (const t of this.heap) if (!t.cancelled) n++;
    return n;
  }

  /** The deadline of the next live timer, or undefined. */
  nextDeadline(): number | undefined {
    return this.top()?.at;
  }

  /** The next live timer (cancelled ones on top are dropped). */
  private top(): VirtualTimer | undefined {
    const heap = this.heap;
    while (heap.length !== 0 && heap[0]!.cancelled) this.pop();
    return heap[0];
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.top();
      if (due === undefined || due.at > until) break;
      this.pop();
      if (due.at > this.time) this.time = due.at;
      due.cancelled = true;
      due.callback();
    }
    this.time = until;
  }

  /** Runs timers until none is left or `limit` ms have passed; returns the time spent. */
  runUntilIdle(limit = 3_600_000): number {
    const start = this.time;
    for (;;) {
      const next = this.nextDeadline();
      if (next === undefined || next - start > limit) break;
      this.advance(next - this.time);
    }
    return this.time - start;
  }
}
