import { UosError } from '@uos/x86';

/** Every `NetError` code. */
export type NetErrorCode = 'invalid-address' | 'invalid-configuration' | 'invalid-name' | 'invalid-text' | 'invalid-option';

/**
 * What the stack throws, only for a caller's own bad arguments (an address that does not parse, a name
 * too long to send); data from the network never throws. Check with `UosError.isInstance(e)` and `e.code`.
 */
export class NetError extends UosError {
  declare readonly code: NetErrorCode;

  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'NetError';
  }
}
