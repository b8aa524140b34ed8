import { DOMException } from './dom-exception.js';
import { Event, EventTarget } from './events.js';

/** The DOM standard's AbortSignal. */
export class AbortSignal extends EventTarget {
  /** @internal */
  _aborted = false;
  /** @internal */
  _reason: unknown = undefined;
  onabort: ((event: { readonly type: string }) => unknown) | null = null;

  get aborted(): boolean {
    return this._aborted;
  }

  get reason(): unknown {
    return this._reason;
  }

  throwIfAborted(): void {
    if (this._aborted) throw this._reason;
  }

  /** @internal signals abort with `reason` (an AbortError by default) */
  _abort(reason?: unknown): void {
    if (this._aborted) return;
    this._aborted = true;
    this._reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.dispatchEvent(new Event('abort'));
  }

  static abort(reason?: unknown): AbortSignal {
    const signal = new AbortSignal();
    signal._abort(reason);
    return signal;
  }

  /** Aborts with a TimeoutError after `ms` (on the platform's setTimeout: the kernel's timers in an image). */
  static timeout(ms: number): AbortSignal {
    const signal = new AbortSignal();
    const host = globalThis as unknown as { setTimeout(callback: () => void, ms: number): unknown };
    host.setTimeout(() => signal._abort(new DOMException('The operation timed out', 'TimeoutError')), ms);
    return signal;
  }

  static any(signals: Iterable<AbortSignal>): AbortSignal {
    const result = new AbortSignal();
    const all = Array.from(signals);
    for (const signal of all) {
      if (signal.aborted) {
        result._abort(signal.reason);
        return result;
      }
    }
    for (const signal of all) signal.addEventListener('abort', () => result._abort(signal.reason), { once: true });
    return result;
  }

  get [Symbol.toStringTag](): string {
    return 'AbortSignal';
  }
}

export class AbortController {
  readonly signal = new AbortSignal();

  abort(reason?: unknown): void {
    this.signal._abort(reason);
  }

  get [Symbol.toStringTag](): string {
    return 'AbortController';
  }
}
