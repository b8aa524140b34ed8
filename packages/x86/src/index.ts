/**
 * @uos/x86: the native x86-64 platform of uOS, and typed bindings to it.
 *
 * The native part (native/, built into platform/) boots by multiboot or PVH, enters long mode, sets up
 * the GDT, a TSS whose IST stacks serve every exception and interrupt, the IDT and paging (page 0
 * unmapped, guard pages under stacks, W^X), runs musl with its system calls answered in ring 0, and runs
 * the service's QuickJS bytecode. This module is the TypeScript face of it.
 *
 * Invariants: nothing here touches the hardware at import time; every binding throws a `UosError`
 * (`not-on-uos`) when called outside an image; port numbers are checked (0..0xffff).
 */
import { native } from './native.js';

export { UosError } from '@uos/errors';
export { X86Error } from './errors.js';
export type { X86ErrorCode } from './errors.js';
export { ExitStatus, describeExitStatus, cpuExceptionNames } from './exit-status.js';
export { isRunningOnUos, native } from './native.js';
export type {
  BootInfo,
  FaultKind,
  NativeBindings,
  NativeCpuStats,
  NativeMemoryMap,
  NativeMemoryRegion,
  NativeMemoryUsage,
  NativePanicInfo,
  NativePciFunction,
  NativePciHost,
} from './native.js';
import type { FaultKind } from './native.js';

/** x86 I/O ports. Values are unsigned; writes truncate to the access width. */
export const ports = {
  in8: (port: number): number => native().in8(port),
  in16: (port: number): number => native().in16(port),
  in32: (port: number): number => native().in32(port),
  out8: (port: number, value: number): void => native().out8(port, value),
  out16: (port: number, value: number): void => native().out16(port, value),
  out32: (port: number, value: number): void => native().out32(port, value),
};

/** Writes straight to the serial console, bypassing console and stdout routing. */
export function earlyPrint(text: string): void {
  native().write(text);
}

/** Ends the VM at once with `status` (0..127 reach the host through isa-debug-exit). */
export function exit(status: number): never {
  return native().exit(status);
}

export interface CpuidResult {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/** Executes CPUID for `leaf`/`subleaf`. */
export function cpuid(leaf: number, subleaf = 0): CpuidResult {
  const [eax, ebx, ecx, edx] = native().cpuid(leaf, subleaf);
  return { eax, ebx, ecx, edx };
}

/** Reads the time-stamp counter. */
export function rdtsc(): bigint {
  return native().rdtsc();
}

/**
 * Deliberate crashes in native code, for tests that prove crash reports work: a CPU exception of the
 * given kind (divide error, page faults on null, on kernel text (W^X), on NX data, on a stack guard page,
 * invalid opcode, general protection, breakpoint), a double fault (a page fault whose handler stack is
 * broken) or a kernel panic. Each ends the VM with its report
 * and exit status; none returns.
 */
export const faults = {
  trigger(kind: FaultKind): never {
    return native().fault(kind);
  },
};
