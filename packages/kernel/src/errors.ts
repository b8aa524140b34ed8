import { UosError } from '@uos/errors';

/** Every `KernelError` code. */
export type KernelErrorCode =
  | 'irq-route-failed'
  | 'irq-vector-invalid'
  | 'irq-vectors-exhausted'
  | 'panic-action-invalid'
  | 'profiler-count-invalid'
  | 'profiler-rate-invalid'
  | 'service-invalid'
  | 'service-missing';

/** What the kernel throws for a caller's mistake: an invalid interrupt vector, panic action, sampling rate or service definition. Check with `KernelError.isInstance(e)` and narrow on `e.code`. */
export class KernelError extends UosError<KernelErrorCode> {
  static override readonly kind = 'KernelError';
}
