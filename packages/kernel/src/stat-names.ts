/** The kernel's statistics in @uos/statman: every name the kernel reports, in one table. */
export const KernelStat = {
  timersStarted: 'kernel.timers.started',
  timersFired: 'kernel.timers.fired',
  timersCancelled: 'kernel.timers.cancelled',
  loopTurns: 'kernel.loop.turns',
  cpuHaltedCycles: 'kernel.cpu.halted_cycles',
  cpuTotalCycles: 'kernel.cpu.total_cycles',
  cpuWakeups: 'kernel.cpu.wakeups',
  heapUsedBytes: 'kernel.heap.used_bytes',
  heapPeakBytes: 'kernel.heap.peak_bytes',
  heapBlocks: 'kernel.heap.blocks',
  memoryFreeBytes: 'kernel.memory.free_bytes',
  /** Interrupts taken on a vector (created when the vector first fires). */
  irqVector: (vector: number): string => `kernel.irq.vector_${vector}`,
} as const;
