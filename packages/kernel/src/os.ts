import { type BootInfo, type NativeCpuStats, type NativeMemoryMap, type NativeMemoryUsage, type NativePanicInfo, native } from '@uos/x86';
import { stdin } from './console-input.js';
import { eventLoop } from './event-loop.js';
import type { LogRing } from './log-ring.js';
import { shutdown } from './service.js';
import { type StdoutWriter, addStdout, stdoutLog } from './stdout.js';
import { KernelError } from './errors.js';

/** What a panic hook learns: the kind of failure, its reason and the exit status about to be used. */
export type PanicInfo = NativePanicInfo;
export type PanicHook = (info: PanicInfo) => void;
export type PanicAction = 'exit' | 'halt' | 'reboot';

const panicHooks = new Set<PanicHook>();
let panicDispatcherInstalled = false;

/** Heap figures for dashboards and out-of-memory reports. */
export interface HeapUsage {
  /** Bytes in live blocks of the engine's heap. */
  usedBytes: number;
  peakBytes: number;
  blocks: number;
  /** Physical pages the heap holds (slabs and large blocks). */
  pages: number;
  /** Physical memory: all usable, and still free. */
  totalBytes: number;
  freeBytes: number;
}

/** The operating system, as a service sees it. */
export const os = {
  /** Ends the VM now with `status` (0..127); the stop hook does not run. */
  exit(status = 0): never {
    return native().exit(status);
  },
  /** Runs the service's stop hook, then powers the VM off with status 0. */
  shutdown(): void {
    shutdown(0);
  },
  /** Milliseconds since boot, on the monotonic clock. */
  uptime(): number {
    return native().monotonicNs() / 1e6;
  },
  /** Boot protocol, command line, platform version and the boot timeline. */
  bootInfo(): BootInfo {
    return native().bootInfo();
  },
  /** Physical pages and JS heap in use. */
  memoryUsage(): NativeMemoryUsage {
    return native().memoryUsage();
  },
  /**
   * The engine's heap. With `collect`, the cycle collector runs first (objects that only refer to each
   * other are otherwise freed when the heap has grown by half since the last collection), so `usedBytes`
   * is what is still reachable: the figure to compare before and after a load.
   */
  heapUsage(options: { collect?: boolean } = {}): HeapUsage {
    const u = native().memoryUsage(options.collect === true);
    return {
      usedBytes: u.heapUsedBytes,
      peakBytes: u.heapPeakBytes,
      blocks: u.heapBlocks,
      pages: u.heapPages,
      totalBytes: u.totalBytes,
      freeBytes: u.freeBytes,
    };
  },
  /** The named memory map: firmware regions, kernel sections with their protection, stacks, payload. */
  memoryMap(): NativeMemoryMap {
    return native().memoryMap();
  },
  /** Cycles halted against cycles since boot, wakeups, the timer mode. */
  cpuStats(): NativeCpuStats {
    return native().cpuStats();
  },
  /** Adds a stdout writer beside the serial console; returns its remover. */
  addStdout(writer: StdoutWriter): () => void {
    return addStdout(writer);
  },
  /** The last lines of stdout (16 KiB by default, `log.resize(bytes)`), kept in memory from boot on. */
  log: stdoutLog as LogRing,
  /** Text typed into the serial console. */
  stdin,
  /** Keeps the VM running until the returned function is called (for work the loop cannot see). */
  keepAlive(): () => void {
    return eventLoop().hold();
  },
  /**
   * Runs `hook` when the service panics: an uncaught exception, an unhandled rejection, a CPU exception,
   * out of memory. Hooks run after the report is printed and before the panic action; they should be
   * short and must not expect the VM to go on. Returns the remover.
   */
  onPanic(hook: PanicHook): () => void {
    if (!panicDispatcherInstalled) {
      panicDispatcherInstalled = true;
      native().setPanicHook((info) => {
        for (const h of [...panicHooks]) {
          try {
            h(info);
          } catch {
            // A failing hook must not hide the others.
          }
        }
      });
    }
    panicHooks.add(hook);
    return () => panicHooks.delete(hook);
  },
  /** What a panic does after its report: exit with a distinct status (default), halt, or reboot. */
  setPanicAction(action: PanicAction): void {
    if (action !== 'exit' && action !== 'halt' && action !== 'reboot') {
      throw new KernelError('panic-action-invalid', `unknown panic action "${String(action)}" (exit, halt or reboot)`);
    }
    native().setPanicAction(action);
  },
};
