import { UosError } from '@uos/errors';

/** Every `VmRunnerError` code. */
export type VmRunnerErrorCode =
  | 'assets-invalid'
  | 'assets-unreadable'
  | 'bundle-failed'
  | 'bytecode-failed'
  | 'elf-invalid'
  | 'image-invalid'
  | 'image-missing'
  | 'mem-too-small'
  | 'payload-invalid'
  | 'platform-invalid'
  | 'profile-invalid'
  | 'profile-missing'
  | 'qemu-missing'
  | 'qmp-closed'
  | 'qmp-connect-failed'
  | 'qmp-disabled'
  | 'qmp-error'
  | 'qmp-protocol'
  | 'service-not-found'
  | 'symbols-invalid'
  | 'usage'
  | 'vm-config-invalid'
  | 'vm-ended'
  | 'vm-unexpected-exit'
  | 'vm-wait-failed'
  | 'vm-wait-timeout';

/** What the uos CLI and @uos/vmrunner throw: bad input (vm.json, an image, a service), a missing tool, a VM that failed. Check with `VmRunnerError.isInstance(e)` and narrow on `e.code`. */
export class VmRunnerError extends UosError<VmRunnerErrorCode> {
  static override readonly kind: string = 'VmRunnerError';
}
