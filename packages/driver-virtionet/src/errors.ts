import { UosError } from '@uos/errors';

/** Every `VirtioNetError` code. */
export type VirtioNetErrorCode = 'virtio-features' | 'virtio-feature' | 'virtio-msix' | 'virtio-no-transport' | 'virtio-queue';

/** What the virtio-net driver throws when a device cannot be driven (features, queues, transport). Check with `VirtioNetError.isInstance(e)` and narrow on `e.code`. */
export class VirtioNetError extends UosError<VirtioNetErrorCode> {
  static override readonly kind = 'VirtioNetError';
}
