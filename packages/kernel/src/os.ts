import { type BootInfo, type NativeMemoryUsage, native } from '@uos/x86';
import { eventLoop } from './event-loop.js';
import { shutdown } from './service.js';
import { type StdoutWriter, addStdout } from './stdout.js';

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
  /** Boot protocol, command line and platform version. */
  bootInfo(): BootInfo {
    return native().bootInfo();
  },
  /** Physical pages and JS heap in use. */
  memoryUsage(): NativeMemoryUsage {
    return native().memoryUsage();
  },
  /** Adds a stdout writer beside the serial console; returns its remover. */
  addStdout(writer: StdoutWriter): () => void {
    return addStdout(writer);
  },
  /** Keeps the VM running until the returned function is called (for work the loop cannot see). */
  keepAlive(): () => void {
    return eventLoop().hold();
  },
};
