/**
 * The one timer behind `/api/stats/stream`: it runs only while at least one client is subscribed, takes
 * one snapshot per second for all of them, and starts the stack sampler for
 * the dashboard's hottest functions. With nobody watching nothing here runs.
 */
import { profiler } from '@uos/kernel';

/** Low, and prime so as not to beat with the 1 Hz tick: at 97 Hz the sampler's interrupts cost a watched VM ~0.7% of a host core more. */
const SAMPLER_HZ = 29;

export class StatsHub {
  private waiters: ((json: string) => void)[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private watchers = 0;

  constructor(
    private readonly snapshot: () => string,
    private readonly periodMs = 1000,
  ) {}

  /** How many clients watch. */
  get subscribers(): number {
    return this.watchers;
  }

  /** Counts a watcher in; the returned function counts it out. */
  subscribe(): () => void {
    if (this.watchers++ === 0) {
      this.timer = setInterval(() => this.tick(), this.periodMs);
      try {
        profiler.start({ hz: SAMPLER_HZ });
      } catch {
        // the sampler is busy elsewhere (uos boot --profile): the dashboard shows what it has
      }
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.watchers === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
        try {
          profiler.stop();
        } catch {
          // as above
        }
      }
    };
  }

  /** The next snapshot, as JSON. */
  next(): Promise<string> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private tick(): void {
    if (this.waiters.length === 0) return;
    const json = this.snapshot();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(json);
  }
}
