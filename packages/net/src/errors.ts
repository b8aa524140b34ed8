import { UosError } from '@uos/errors';

/** Every `NetError` code. */
export type NetErrorCode =
  | 'invalid-address'
  | 'invalid-configuration'
  | 'invalid-name'
  | 'invalid-text'
  | 'invalid-option'
  | 'insufficient-memory';

/**
 * What the stack throws, only for a caller's own bad arguments (an address that does not parse, a name
 * too long to send, limits the VM's memory cannot hold); data from the network never throws. Check with
 * `NetError.isInstance(e)` and narrow on `e.code`.
 */
export class NetError extends UosError<NetErrorCode> {
  static override readonly kind = 'NetError';
}
