import { UosError } from '@uos/errors';

/** Every `HwError` code. */
export type HwErrorCode =
  | 'dma-pool-double-release'
  | 'dma-pool-index'
  | 'dma-pool-invalid'
  | 'driver-invalid'
  | 'msix-entry-invalid'
  | 'msix-table-invalid'
  | 'pci-bar-missing'
  | 'pci-config-invalid'
  | 'pci-no-interrupt';

/** What @uos/hw throws: a device without what its driver needs, a DMA pool misused, a driver that does not register properly. Check with `HwError.isInstance(e)` and narrow on `e.code`. */
export class HwError extends UosError<HwErrorCode> {
  static override readonly kind = 'HwError';
}
