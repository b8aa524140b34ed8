/**
 * Exit statuses of a uOS VM. The guest hands its status to QEMU's isa-debug-exit device; the runner maps
 * QEMU's exit code back. Mirrors `enum exit_status` in native/include/uos.h.
 */
export const ExitStatus = {
  ok: 0,
  /** An uncaught exception or unhandled rejection in the service. */
  jsPanic: 64,
  outOfMemory: 65,
  /** Host side only: the VM did not finish in time. */
  timeout: 66,
  /** Kernel assertion, unimplemented system call, abort() in native code. */
  kernelPanic: 67,
  /** The image carries no service. */
  noService: 69,
  /** 80 + vector for CPU exceptions 0..31 (page fault: 94, general protection: 93). */
  cpuExceptionBase: 80,
} as const;

export const cpuExceptionNames: readonly string[] = [
  'divide error',
  'debug',
  'NMI',
  'breakpoint',
  'overflow',
  'bound range',
  'invalid opcode',
  'device not available',
  'double fault',
  'coprocessor segment overrun',
  'invalid TSS',
  'segment not present',
  'stack fault',
  'general protection',
  'page fault',
  'reserved',
  'x87 floating point',
  'alignment check',
  'machine check',
  'SIMD floating point',
  'virtualization',
  'control protection',
  'reserved',
  'reserved',
  'reserved',
  'reserved',
  'reserved',
  'reserved',
  'hypervisor injection',
  'VMM communication',
  'security',
  'reserved',
];

/** A human description of a guest exit status. */
export function describeExitStatus(status: number): string {
  switch (status) {
    case ExitStatus.ok:
      return 'success';
    case ExitStatus.jsPanic:
      return 'uncaught exception or unhandled rejection in the service';
    case ExitStatus.outOfMemory:
      return 'out of memory';
    case ExitStatus.timeout:
      return 'timeout';
    case ExitStatus.kernelPanic:
      return 'kernel panic';
    case ExitStatus.noService:
      return 'the image carries no service';
  }
  const vector = status - ExitStatus.cpuExceptionBase;
  if (vector >= 0 && vector < 32) return `CPU exception ${vector} (${cpuExceptionNames[vector]})`;
  return `exit status ${status}`;
}
