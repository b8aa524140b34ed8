import { UosError } from '@uos/errors';

/** Every `Vmxnet3Error` code. */
export type Vmxnet3ErrorCode = 'vmxnet3-activation' | 'vmxnet3-bar' | 'vmxnet3-configuration' | 'vmxnet3-interrupts' | 'vmxnet3-version';

/**
 * What the vmxnet3 driver throws when a device cannot be driven: a revision it does not speak, missing
 * BARs, interrupts it cannot set up, options out of range, or a device that refuses activation. Check with
 * `Vmxnet3Error.isInstance(e)` and narrow on `e.code`.
 */
export class Vmxnet3Error extends UosError<Vmxnet3ErrorCode> {
  static override readonly kind = 'Vmxnet3Error';
}
