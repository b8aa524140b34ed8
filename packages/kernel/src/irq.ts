import { native } from '@uos/x86';
import { type InterruptHandler, eventLoop } from './event-loop.js';
import { KernelError } from './errors.js';

/** The first and last vectors a service or driver may subscribe to (0..31 are CPU exceptions). */
const FIRST_VECTOR = 32;
const LAST_VECTOR = 254;

function checkVector(vector: number): void {
  if (!Number.isInteger(vector) || vector < FIRST_VECTOR || vector > LAST_VECTOR) {
    throw new KernelError(
      'irq-vector-invalid',
      `interrupt vector ${vector} is not one a handler can take (${FIRST_VECTOR}..${LAST_VECTOR})`,
    );
  }
}

/**
 * Interrupts, the deferred way: the native handler only marks the vector pending and acknowledges the
 * APIC; `subscribe`d handlers run later from the event loop. An interrupt raised while its handlers run
 * is seen on the next turn, never lost. Vectors 32 + n are ISA IRQ n; 64..239 are handed out to drivers.
 */
export const irq = {
  /**
   * Runs `handler` from the event loop each turn `vector` was raised. With `keepAlive`, the subscription
   * keeps the service running (a device it waits for). Returns the unsubscribe function.
   */
  subscribe(vector: number, handler: InterruptHandler, options: { keepAlive?: boolean } = {}): () => void {
    checkVector(vector);
    return eventLoop().subscribe(vector, handler, options);
  },
  /** Routes ISA IRQ `line` (0..15) through the I/O APIC and returns its vector. */
  routeIsa(line: number): number {
    const vector = native().irqRouteIsa(line);
    if (vector < 0) throw new KernelError('irq-route-failed', `ISA IRQ ${line} cannot be routed (no I/O APIC pin for it)`);
    return vector;
  },
  /** Routes a global system interrupt (a PCI INTx line) to a new vector. */
  routeGsi(gsi: number, options: { level?: boolean; activeLow?: boolean } = {}): number {
    const vector = native().irqRouteGsi(gsi, options.level ?? true, options.activeLow ?? true);
    if (vector < 0) throw new KernelError('irq-route-failed', `global system interrupt ${gsi} cannot be routed`);
    return vector;
  },
  /** An aligned block of `count` vectors for MSI or MSI-X; returns the first. */
  allocate(count = 1): number {
    const first = native().irqAllocate(count);
    if (first < 0) throw new KernelError('irq-vectors-exhausted', `no block of ${count} free interrupt vectors is left`);
    return first;
  },
  /** Gives vectors back (and masks a routed pin). */
  free(first: number, count = 1): void {
    native().irqFree(first, count);
  },
  /** Interrupts taken since boot, by vector (only vectors that fired). */
  counts(): Map<number, number> {
    const counts = new Map<number, number>();
    native()
      .irqCounts()
      .forEach((n, vector) => {
        if (n) counts.set(vector, n);
      });
    return counts;
  },
};
