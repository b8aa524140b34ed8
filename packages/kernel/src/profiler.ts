import { native } from '@uos/x86';
import { KernelError } from './errors.js';

/** A function the stack sampler saw the CPU in, with the samples that were its own. */
export interface ProfilerEntry {
  /** The function's name; "(idle)" for time halted waiting for an interrupt. */
  name: string;
  /** JS (with the helpers the interpreter called for it), native code outside any JS function, or idle. */
  kind: 'js' | 'native' | 'idle';
  /** The TypeScript source of a JS function ("" for native code), and the line it starts on (0: none). */
  url: string;
  line: number;
  /** Samples with this function innermost, and their share of all samples (idle included), 0..1. */
  samples: number;
  share: number;
}

export interface ProfilerStatus {
  /** Samples since the last `start()`, and samples lost to a full table or buffer. */
  samples: number;
  lost: number;
  hz: number;
  running: boolean;
  /** `uos boot --profile` samples the whole run: start() and stop() then mark windows for its profile. */
  wholeRun: boolean;
  /** Time the timer interrupt spent taking the samples (after its entry), in microseconds. */
  samplingUs: number;
}

export const DEFAULT_PROFILER_HZ = 997;
export const MAX_PROFILER_HZ = 20_000;
const STATUS_FIELDS = 6;
const ENTRY_FIELDS = 5;

/** Decodes the platform's flat profilerTop array. @internal */
export function parseTop(flat: readonly (string | number)[]): { status: ProfilerStatus; entries: ProfilerEntry[] } {
  const [samples = 0, lost = 0, hz = 0, running = 0, wholeRun = 0, samplingUs = 0] = flat.slice(0, STATUS_FIELDS) as number[];
  const entries: ProfilerEntry[] = [];
  for (let i = STATUS_FIELDS; i + ENTRY_FIELDS <= flat.length; i += ENTRY_FIELDS) {
    const own = flat[i + 4] as number;
    entries.push({
      name: flat[i] as string,
      kind: flat[i + 1] as ProfilerEntry['kind'],
      url: flat[i + 2] as string,
      line: flat[i + 3] as number,
      samples: own,
      share: samples > 0 ? own / samples : 0,
    });
  }
  return { status: { samples, lost, hz, running: running !== 0, wholeRun: wholeRun !== 0, samplingUs }, entries };
}

/**
 * The stack sampler: while it runs, a timer interrupt at `hz` records the JS functions on the stack,
 * the native code the CPU was in, or that it was idle; nothing is allocated and the engine is not
 * called in the interrupt, and with the sampler off the timer does not tick. `top(n)` gives the
 * functions with the most samples of their own, for a dashboard. Under `uos boot --profile` the whole
 * run is sampled for the host's CPU profile, and `start()`/`stop()` mark the window it covers.
 */
export const profiler = {
  /** Starts sampling at `hz` (default 997, about 1 kHz), counting for `top()` afresh. */
  start(options: { hz?: number } = {}): void {
    const hz = options.hz ?? DEFAULT_PROFILER_HZ;
    if (!Number.isInteger(hz) || hz < 1 || hz > MAX_PROFILER_HZ) {
      throw new KernelError('profiler-rate-invalid', `the sampling rate must be a whole number of Hz in 1..${MAX_PROFILER_HZ}, not ${hz}`);
    }
    native().profilerStart(hz);
  },
  /** Stops sampling; `top()` still reports what was sampled. */
  stop(): void {
    native().profilerStop();
  },
  /** The `n` functions with the most samples of their own (default 10), most first. */
  top(n = 10): ProfilerEntry[] {
    if (!Number.isInteger(n) || n < 0 || n > 1000) {
      throw new KernelError('profiler-count-invalid', `top(n) takes a whole number of entries in 0..1000, not ${n}`);
    }
    return parseTop(native().profilerTop(n)).entries;
  },
  /** Samples so far, lost samples, the rate, whether it runs, and what sampling cost. */
  status(): ProfilerStatus {
    return parseTop(native().profilerTop(0)).status;
  },
};
