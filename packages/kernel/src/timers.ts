import { eventLoop } from './event-loop.js';

/** Identifies a timer made by `timers.oneshot` or `timers.periodic`. */
export type TimerId = number;

/** Kernel timers: no periodic tick; the one-shot hardware timer is armed for the next deadline only. */
export const timers = {
  /** Calls `callback` once after `ms` milliseconds. */
  oneshot(ms: number, callback: () => void): TimerId {
    return eventLoop().timers.add(ms, callback);
  },
  /** Calls `callback` every `periodMs` milliseconds, the first time after `firstMs` (default: one period). */
  periodic(periodMs: number, callback: () => void, firstMs: number = periodMs): TimerId {
    return eventLoop().timers.add(firstMs, callback, periodMs);
  },
  /** Stops a timer; unknown ids are ignored. */
  stop(id: TimerId): void {
    eventLoop().timers.cancel(id);
  },
  /** Whether a timer may still fire. */
  isActive(id: TimerId): boolean {
    return eventLoop().timers.has(id);
  },
  /** Timers waiting to fire. */
  get active(): number {
    return eventLoop().timers.size;
  },
};
