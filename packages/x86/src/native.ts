import { UosError } from './errors.js';

/** Boot facts the native platform reports. */
export interface BootInfo {
  /** How the loader entered the kernel. */
  protocol: 'multiboot' | 'pvh';
  /** The kernel command line meant for the service (`uos boot -- args`). */
  cmdline: string;
  /** The uOS platform version. */
  version: string;
  /** Whether the engine in this image can compile code from strings (eval, new Function). */
  eval: boolean;
  /** JSON written by `uos build`: service name, packages. */
  build: string;
  /** Boot stages as [name, milliseconds since kernel entry]. */
  timeline: [string, number][];
}

export interface NativeMemoryUsage {
  totalBytes: number;
  freeBytes: number;
  peakUsedBytes: number;
  kernelBytes: number;
  payloadBytes: number;
  jsHeapBytes: number;
  jsObjects: number;
  /** The engine's heap (kernel/heap.c): bytes in live blocks, the peak, blocks, pages held. */
  heapUsedBytes: number;
  heapPeakBytes: number;
  heapBlocks: number;
  heapPages: number;
}

/** What native/kernel/js-host.c installs as `globalThis.__uos`. Internal: use the typed wrappers. */
export interface NativeBindings {
  write(...text: string[]): void;
  exit(status: number): never;
  in8(port: number): number;
  in16(port: number): number;
  in32(port: number): number;
  out8(port: number, value: number): void;
  out16(port: number, value: number): void;
  out32(port: number, value: number): void;
  cpuid(leaf: number, subleaf: number): [number, number, number, number];
  rdtsc(): bigint;
  monotonicNs(): number;
  wallClockMs(): number;
  tscHz(): number;
  setEventLoop(turn: () => number): void;
  runMicrotasks(): void;
  takeInterrupts(): number[];
  mapStack(stack: string): string;
  panic(reason: string, error?: unknown): never;
  bootInfo(): BootInfo;
  memoryUsage(): NativeMemoryUsage;
  fault(kind: FaultKind): never;
}

/** Deliberate crashes, for tests of crash reporting (see `faults`). */
export type FaultKind =
  | 'divide-error'
  | 'null-pointer'
  | 'invalid-opcode'
  | 'general-protection'
  | 'breakpoint'
  | 'write-text'
  | 'execute-data'
  | 'stack-overflow'
  | 'kernel-panic';

/** True inside a uOS image, false under Node (unit tests). */
export function isRunningOnUos(): boolean {
  return typeof (globalThis as { __uos?: unknown }).__uos === 'object';
}

/** The native bindings; throws a clear error outside a uOS image. */
export function native(): NativeBindings {
  const bindings = (globalThis as { __uos?: NativeBindings }).__uos;
  if (!bindings) {
    throw new UosError('not-on-uos', 'this needs the uOS native platform: it runs only inside a uOS image (uos build / uos boot)');
  }
  return bindings;
}
