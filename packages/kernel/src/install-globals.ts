import { isRunningOnUos, native } from '@uos/x86';
import { eventLoop } from './event-loop.js';
import { format, setStackMapper } from './inspect.js';
import { panic } from './panic.js';
import { crypto } from './random.js';
import { writeStdout } from './stdout.js';
import { TextDecoder, TextEncoder } from './native-text-codec.js';

type TimerHandler = (...args: unknown[]) => void;

/** A timer handle, as setTimeout/setInterval return it (a number, with ref/unref like Node's). */
function toId(handle: unknown): number | undefined {
  return typeof handle === 'number' ? handle : undefined;
}

export function installGlobals(target: typeof globalThis): void {
  if (!isRunningOnUos()) return;
  const bindings = native();
  setStackMapper((stack) => bindings.mapStack(stack));
  const write = (args: unknown[]): void => writeStdout(`${format(...args)}\n`);
  const counts = new Map<string, number>();
  const console = {
    log: (...args: unknown[]) => write(args),
    info: (...args: unknown[]) => write(args),
    debug: (...args: unknown[]) => write(args),
    warn: (...args: unknown[]) => write(args),
    error: (...args: unknown[]) => write(args),
    trace: (...args: unknown[]) => write([...args, `\n${bindings.mapStack(new Error().stack ?? '')}`]),
    assert: (condition: unknown, ...args: unknown[]) => {
      if (!condition) write(['Assertion failed', ...args]);
    },
    count: (label = 'default') => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      write([`${label}: ${n}`]);
    },
  };
  const loop = eventLoop();
  const schedule = (handler: TimerHandler, ms: unknown, args: unknown[], repeat: boolean): number => {
    if (typeof handler !== 'function') throw new TypeError('the timer callback must be a function');
    const delay = Number(ms) || 0;
    return loop.timers.add(delay, () => handler(...args), repeat ? Math.max(delay, 1) : 0);
  };
  const clear = (handle: unknown): void => {
    const id = toId(handle);
    if (id !== undefined) loop.timers.cancel(id);
  };
  const performance = {
    timeOrigin: bindings.wallClockMs() - bindings.monotonicNs() / 1e6,
    now: () => bindings.monotonicNs() / 1e6,
  };
  Object.assign(target, {
    console,
    setTimeout: (handler: TimerHandler, ms?: number, ...args: unknown[]) => schedule(handler, ms, args, false),
    setInterval: (handler: TimerHandler, ms?: number, ...args: unknown[]) => schedule(handler, ms, args, true),
    setImmediate: (handler: TimerHandler, ...args: unknown[]) => schedule(handler, 0, args, false),
    clearTimeout: clear,
    clearInterval: clear,
    clearImmediate: clear,
    queueMicrotask: (callback: () => void) => {
      if (typeof callback !== 'function') throw new TypeError('queueMicrotask needs a function');
      Promise.resolve().then(() => {
        try {
          callback();
        } catch (error) {
          panic('Uncaught exception in a microtask:', error);
        }
      });
    },
    performance,
    crypto,
    TextEncoder,
    TextDecoder,
  });
  // The native Internet checksum for @uos/net (its CHECKSUM_SLOT), found through a Symbol.for slot so that
  // neither package imports the other: some 90 times faster than the JS sum over a full frame.
  (target as unknown as Record<symbol, unknown>)[Symbol.for('uos.net.checksum')] = bindings.checksumSum;
}
