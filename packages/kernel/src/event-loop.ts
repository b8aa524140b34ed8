import { native } from '@uos/x86';
import { type StatHandle, statman } from '@uos/statman';
import { panic } from './panic.js';
import { KernelStat } from './stat-names.js';
import { type Clock, type TimerCounters, TimerQueue } from './timer-queue.js';

/** What the loop needs from the platform; injected in unit tests. */
export interface EventLoopHost extends Clock {
  /** Runs queued promise jobs until none is left. */
  runMicrotasks(): void;
  /** Interrupt vectors raised since the last call (each at most once). */
  takeInterrupts(): number[];
  /** After a vector's subscribers ran (unmasks a level-triggered line). Optional. */
  interruptDone?(vector: number): void;
}

export type InterruptHandler = (vector: number) => void;

interface Subscription {
  readonly handler: InterruptHandler;
  readonly keepAlive: boolean;
  /** False once unsubscribed. */
  active: boolean;
}

/**
 * The kernel's single event loop. Interrupt handlers in native code only mark a vector pending; each
 * turn runs the subscribers of pending vectors, then due timers, draining promise jobs after every
 * callback. When no timer, subscription or handle keeps the service alive, `onIdle` runs.
 */
export class EventLoop {
  readonly timers: TimerQueue;
  /**
   * One entry per subscribe() call, so the same handler may be subscribed twice and unsubscribed apart.
   * Per vector an array, replaced (never changed in place) when a subscription comes or goes: a turn
   * walks it by index, with no iterator or Set lookup per interrupt.
   */
  private readonly subscribers = new Map<number, Subscription[]>();
  private handles = 0;
  private referencedSubscriptions = 0;
  onIdle: () => void = () => {};

  constructor(
    private readonly host: EventLoopHost,
    counters: TimerCounters & { turns?: { increment(): void } } = {},
  ) {
    this.timers = new TimerQueue(host, counters);
    this.turns = counters.turns;
  }

  private readonly turns: { increment(): void } | undefined;
  /** Made once: a turn allocates no closures. */
  private readonly drainMicrotasks = (): void => this.host.runMicrotasks();

  /** Milliseconds on the monotonic clock. */
  now(): number {
    return this.host.now();
  }

  /** Keeps the service alive until the returned function is called. */
  hold(): () => void {
    this.handles++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.handles--;
      }
    };
  }

  /** Runs `handler` from the loop whenever `vector` was raised. Returns the unsubscribe function. */
  subscribe(vector: number, handler: InterruptHandler, options: { keepAlive?: boolean } = {}): () => void {
    const subscription: Subscription = { handler, keepAlive: options.keepAlive ?? false, active: true };
    this.subscribers.set(vector, [...(this.subscribers.get(vector) ?? []), subscription]);
    if (subscription.keepAlive) this.referencedSubscriptions++;
    return () => {
      if (!subscription.active) return;
      subscription.active = false;
      if (subscription.keepAlive) this.referencedSubscriptions--;
      const left = (this.subscribers.get(vector) ?? []).filter((s) => s !== subscription);
      if (left.length) this.subscribers.set(vector, left);
      else this.subscribers.delete(vector);
    };
  }

  /** Whether anything keeps the service alive. */
  alive(): boolean {
    return this.timers.referenced > 0 || this.handles > 0 || this.referencedSubscriptions > 0;
  }

  /** One turn. Returns the next timer deadline in ms, or undefined when only interrupts can wake us. */
  turn(): number | undefined {
    this.turns?.increment();
    // Indexed loops, no iterators: this runs for every interrupt, and in the image's interpreter each
    // iterator object and step costs microseconds of an echo's round trip.
    const host = this.host;
    const vectors = host.takeInterrupts();
    for (let v = 0; v < vectors.length; v++) {
      const vector = vectors[v]!;
      const list = this.subscribers.get(vector);
      if (list !== undefined) {
        for (let i = 0; i < list.length; i++) {
          const subscription = list[i]!;
          // One unsubscribed by an earlier handler of this turn is not called.
          if (!subscription.active) continue;
          try {
            subscription.handler(vector);
          } catch (error) {
            panic(`Uncaught exception in the handler of interrupt ${vector}:`, error);
          }
          host.runMicrotasks();
        }
      }
      host.interruptDone?.(vector);
    }
    this.timers.runDue(this.drainMicrotasks, timerFailed);
    if (!this.alive()) this.onIdle();
    return this.timers.nextDeadline();
  }
}

const timerFailed = (error: unknown): void => panic('Uncaught exception in a timer callback:', error);

/**
 * Where the image's one loop lives: a `Symbol.for` slot on `globalThis`, as statman's registry and the
 * device binder, so that a bundle holding two copies of this package still runs one loop (a driver from
 * one copy subscribing to a loop that nobody runs would never see an interrupt).
 */
const loopKey = Symbol.for('uos.kernel.event-loop');
const loopHolder = globalThis as unknown as Record<symbol, EventLoop | undefined>;

/** Counts kept natively (interrupts, halted cycles, the heap), copied into statman when it is read. */
function collectNativeStats(): void {
  const bindings = native();
  const gauge = (name: string): StatHandle => statman.getOrCreate(name, { type: 'u64', kind: 'gauge' });
  const counter = (name: string): StatHandle => statman.getOrCreate(name, { type: 'u64' });
  bindings.irqCounts().forEach((count, vector) => {
    if (count) counter(KernelStat.irqVector(vector)).value = count;
  });
  const cpu = bindings.cpuStats();
  counter(KernelStat.cpuHaltedCycles).value = cpu.haltedCycles;
  counter(KernelStat.cpuTotalCycles).value = cpu.totalCycles;
  counter(KernelStat.cpuWakeups).value = cpu.wakeups;
  const memory = bindings.memoryUsage();
  gauge(KernelStat.heapUsedBytes).value = memory.heapUsedBytes;
  gauge(KernelStat.heapPeakBytes).value = memory.heapPeakBytes;
  gauge(KernelStat.heapBlocks).value = memory.heapBlocks;
  gauge(KernelStat.memoryFreeBytes).value = memory.freeBytes;
}

/** The loop of this image, created on first use over the native platform. */
export function eventLoop(): EventLoop {
  let loop = loopHolder[loopKey];
  if (!loop) {
    const bindings = native();
    const counter = (name: string): StatHandle => statman.getOrCreate(name, { type: 'u64' });
    loop = new EventLoop(
      {
        now: () => bindings.monotonicNs() / 1e6,
        // The natives themselves, no arrow around them: each runs on every interrupt, and a JS frame
        // in the image's interpreter costs microseconds of an echo's round trip (they ignore `this`).
        runMicrotasks: bindings.runMicrotasks,
        takeInterrupts: bindings.takeInterrupts,
        interruptDone: bindings.irqDone,
      },
      {
        started: counter(KernelStat.timersStarted),
        fired: counter(KernelStat.timersFired),
        cancelled: counter(KernelStat.timersCancelled),
        turns: counter(KernelStat.loopTurns),
      },
    );
    loopHolder[loopKey] = loop;
    statman.addCollector(collectNativeStats);
  }
  return loop;
}
