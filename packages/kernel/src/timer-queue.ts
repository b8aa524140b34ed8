/** A monotonic clock in milliseconds. Injected so tests can drive time. */
export interface Clock {
  now(): number;
}

export type TimerCallback = () => void;

/** Where a queue counts what it does (statman handles in the kernel; optional). */
export interface TimerCounters {
  started?: { increment(): void };
  fired?: { increment(): void };
  cancelled?: { increment(): void };
}

const NOTHING: TimerCallback = () => {};

interface TimerEntry {
  id: number;
  deadline: number;
  seq: number;
  /** 0 for one-shot timers. */
  period: number;
  callback: TimerCallback;
  referenced: boolean;
  active: boolean;
}

/**
 * Pending timers ordered by deadline, then creation order, in a binary heap. One-shot and periodic
 * (fixed rate: the next deadline is the previous one plus the period, skipping ahead after a stall).
 * Timers created while due timers run wait for the next pass, so a 0 ms timer never starves the loop.
 */
export class TimerQueue {
  // Not readonly: QuickJS never gives back an array's or a Map's storage as they shrink, so after a burst
  // (10,000 connections closing at once) the queue starts again with fresh ones (see `retire`).
  private heap: TimerEntry[] = [];
  private byId = new Map<number, TimerEntry>();
  /** The most timers pending at once since the containers were made. */
  private highWater = 0;
  private nextId = 1;
  private nextSeq = 0;
  private referencedCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly counters: TimerCounters = {},
  ) {}

  /** Schedules `callback` after `delayMs` (and every `periodMs` after that when given). Returns its id. */
  add(delayMs: number, callback: TimerCallback, periodMs = 0): number {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const period = Number.isFinite(periodMs) && periodMs > 0 ? periodMs : 0;
    const entry: TimerEntry = {
      id: this.nextId++,
      deadline: this.clock.now() + delay,
      seq: this.nextSeq++,
      period,
      callback,
      referenced: true,
      active: true,
    };
    this.byId.set(entry.id, entry);
    if (this.byId.size > this.highWater) this.highWater = this.byId.size;
    this.referencedCount++;
    this.push(entry);
    this.counters.started?.increment();
    return entry.id;
  }

  /** Cancels a timer; unknown or finished ids are ignored. */
  cancel(id: number): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    this.retire(entry);
    this.counters.cancelled?.increment();
  }

  /** A timer that is not referenced does not keep the service alive. */
  setReferenced(id: number, referenced: boolean): void {
    const entry = this.byId.get(id);
    if (!entry || entry.referenced === referenced) return;
    entry.referenced = referenced;
    this.referencedCount += referenced ? 1 : -1;
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** Active timers. */
  get size(): number {
    return this.byId.size;
  }

  /** Active timers that keep the service alive. */
  get referenced(): number {
    return this.referencedCount;
  }

  /** The earliest deadline among active timers, or undefined. */
  nextDeadline(): number | undefined {
    this.dropInactiveTop();
    return this.heap[0]?.deadline;
  }

  /**
   * Runs every timer due now, in order. `between` runs after each callback (the event loop drains
   * promise jobs there). A callback that throws is handed to `onError`; the others still run.
   * Returns how many callbacks ran.
   */
  runDue(
    between: () => void = () => {},
    onError: (error: unknown) => void = (e) => {
      throw e;
    },
  ): number {
    const now = this.clock.now();
    const seqLimit = this.nextSeq;
    let ran = 0;
    for (;;) {
      this.dropInactiveTop();
      const top = this.heap[0];
      if (!top || top.deadline > now || top.seq >= seqLimit) break;
      this.pop();
      const callback = top.callback; // retire() lets go of it
      if (top.period) {
        top.deadline += top.period;
        if (top.deadline <= now) top.deadline = now + top.period;
        top.seq = this.nextSeq++;
        this.push(top);
      } else {
        this.retire(top);
      }
      ran++;
      this.counters.fired?.increment();
      try {
        callback();
      } catch (error) {
        onError(error);
      }
      between();
    }
    return ran;
  }

  private retire(entry: TimerEntry): void {
    if (!entry.active) return;
    entry.active = false;
    // A cancelled entry stays in the heap until it reaches the top: it must not keep its callback (and
    // what the callback holds, a whole connection for a network timer) alive until its deadline.
    entry.callback = NOTHING;
    this.byId.delete(entry.id);
    if (entry.referenced) this.referencedCount--;
    if (this.byId.size === 0 && this.highWater > 256) {
      // Nothing pending (what the heap holds is cancelled): the storage a burst grew goes.
      this.heap = [];
      this.byId = new Map();
      this.highWater = 0;
      return;
    }
    // Nor may cancelled entries pile up: rebuilt from the live ones when they are most of the heap.
    if (this.heap.length > 64 && this.heap.length > 2 * this.byId.size) this.compact();
  }

  /** Drops every inactive entry and restores the heap order (O(n), amortized over the cancels that made them). */
  private compact(): void {
    const live = this.heap.filter((entry) => entry.active);
    this.heap = [];
    for (const entry of live) this.push(entry);
  }

  private dropInactiveTop(): void {
    while (this.heap.length && !this.heap[0]!.active) this.pop();
  }

  private less(a: TimerEntry, b: TimerEntry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  private push(entry: TimerEntry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): TimerEntry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
