import { X86Error } from './errors.js';

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
  /** Milliseconds from the CPU's reset to kernel entry: the firmware's and the loader's share of the boot. */
  entryMs: number;
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

/** What native/kernel/js-*.c install as `globalThis.__uos`. Internal: use the typed wrappers. */
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
  /** The kernel command line meant for the service (bootInfo().cmdline without building the rest). */
  cmdline(): string;
  /** With `collect`, the engine's cycle collector runs first, so the heap figures count what is reachable. */
  memoryUsage(collect?: boolean): NativeMemoryUsage;
  fault(kind: FaultKind): never;
  /** Routes ISA IRQ `irq` through the I/O APIC (MADT overrides applied); returns its vector or -1. */
  irqRouteIsa(irq: number): number;
  /** Routes a global system interrupt (PCI INTx) to a fresh vector; -1 when that fails. */
  irqRouteGsi(gsi: number, level: boolean, activeLow: boolean): number;
  /** An aligned block of `count` free vectors (64..239) for MSI/MSI-X, or -1. */
  irqAllocate(count: number): number;
  irqFree(first: number, count: number): void;
  /** Called after a vector's subscribers ran: unmasks a level-triggered line. */
  irqDone(vector: number): void;
  /** Interrupts taken per vector since boot (256 entries). */
  irqCounts(): number[];
  cpuStats(): NativeCpuStats;
  /** Fills an integer typed array with random bytes (ChaCha20 seeded from RDSEED/RDRAND/jitter). */
  randomFill<T extends ArrayBufferView>(array: T): T;
  randomSource(): 'rdseed' | 'rdrand' | 'jitter';
  setPanicAction(action: 'exit' | 'halt' | 'reboot'): void;
  setPanicHook(hook: (info: NativePanicInfo) => void): void;
  memoryMap(): NativeMemoryMap;
  /** The PCI functions found at boot. */
  pciFunctions(): NativePciFunction[];
  /** How PCI configuration space is reached (the boot code chose it; @uos/hw uses the same). */
  pciHost(): NativePciHost;
  /**
   * The RFC 1071 sum of `bytes[start..end)` as big-endian 16-bit words plus `initial`, folded to 16 bits,
   * not complemented (what @uos/net's `checksumSum` computes in JS elsewhere; @uos/kernel hands this one
   * to @uos/net at boot through the `Symbol.for('uos.net.checksum')` slot).
   */
  checksumSum(bytes: Uint8Array, start: number, end: number, initial: number): number;
  /** Zeroed, physically contiguous, page-aligned memory; its pages return when the buffer is collected. */
  dmaAllocate(size: number): ArrayBuffer;
  /** The physical address of a DMA buffer's (or a view's) first byte. */
  dmaAddress(buffer: ArrayBuffer | ArrayBufferView): number;
  /** Maps device registers uncached (identity). */
  mmioMap(address: number, size: number): void;
  mmioRead8(address: number): number;
  mmioRead16(address: number): number;
  mmioRead32(address: number): number;
  mmioWrite8(address: number, value: number): void;
  mmioWrite16(address: number, value: number): void;
  mmioWrite32(address: number, value: number): void;
  lapicId(): number;
  /**
   * Starts the stack sampler at `hz` (default 997) and its counts for profilerTop afresh; under
   * `uos boot --profile` (which samples the whole run) marks the start of a window instead.
   */
  profilerStart(hz?: number): void;
  /** Stops the sampler (under `uos boot --profile`: marks the end of a window). */
  profilerStop(): void;
  /**
   * [samples, lost, hz, running (0/1), whole run (0/1), microseconds spent taking samples, then for each
   * of the `n` functions with the most samples of their own, most first: name, kind ('js' | 'native' |
   * 'idle'), url, line, samples].
   */
  profilerTop(n: number): (string | number)[];
  /** UTF-8 of a string, lone surrogates as U+FFFD. */
  utf8Encode(text: string): ArrayBuffer;
  /**
   * Payload section `kind` (4 build info, 5 assets) as an ArrayBuffer over the image's own read-only
   * pages (no copy: writing through it is a page fault), or undefined when the image has none.
   */
  payloadSection(kind: 4 | 5): ArrayBuffer | undefined;
  /** SHA-1 or SHA-256 of the bytes (native/kernel/js-digest.c), for crypto.subtle.digest. */
  digest(algorithm: 'SHA-1' | 'SHA-256', bytes: Uint8Array): ArrayBuffer;
  /** Runs the engine's cycle collector now (native/kernel/js-gc.c), so heap figures count only live objects. */
  gc(): void;
  /** Writes as much UTF-8 as fits without splitting a code point: [UTF-16 units read, bytes written]. */
  utf8EncodeInto(text: string, destination: Uint8Array): [number, number];
  /** WHATWG UTF-8 decoding: [text, bytes consumed]; with `stream`, an incomplete tail is not consumed. */
  utf8Decode(bytes: Uint8Array, fatal: boolean, stream: boolean): [string, number];
}

/**
 * The PCI host: the legacy configuration ports (pc, q35), ECAM (memory-mapped, 4 KiB per function, from
 * the ACPI MCFG table or microvm's fixed layout), or none. `source` says where the answer came from.
 */
export type NativePciHost =
  | { mechanism: 'ports' | 'none'; source: string }
  | { mechanism: 'ecam'; source: string; ecamBase: number; busStart: number; busEnd: number };

export interface NativePciFunction {
  bus: number;
  device: number;
  function: number;
  vendorId: number;
  deviceId: number;
  classCode: number;
  subclass: number;
  progIf: number;
  revision: number;
  headerType: number;
  interruptLine: number;
  interruptPin: number;
}

export interface NativeCpuStats {
  haltedCycles: number;
  totalCycles: number;
  wakeups: number;
  tscHz: number;
  timer: 'tsc-deadline' | 'lapic-oneshot';
  lapicId: number;
}

export interface NativePanicInfo {
  kind: 'exception' | 'cpu-exception' | 'kernel' | 'out-of-memory';
  reason: string;
  status: number;
}

export interface NativeMemoryRegion {
  name: string;
  kind: string;
  start: number;
  end: number;
  /** rwx letters, "---" for unmapped. */
  access: string;
}

export interface NativeMemoryMap {
  regions: NativeMemoryRegion[];
  ramTop: number;
  freePages: number;
  totalPages: number;
  /** Whether the CPU enforces no-execute (W^X on data). */
  nx: boolean;
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
  | 'double-fault'
  | 'kernel-panic';

/** True inside a uOS image, false under Node (unit tests). */
export function isRunningOnUos(): boolean {
  return typeof (globalThis as { __uos?: unknown }).__uos === 'object';
}

/** The native bindings; throws a clear error outside a uOS image. */
export function native(): NativeBindings {
  const bindings = (globalThis as { __uos?: NativeBindings }).__uos;
  if (!bindings) {
    throw new X86Error('not-on-uos', 'this needs the uOS native platform: it runs only inside a uOS image (uos build / uos boot)');
  }
  return bindings;
}
