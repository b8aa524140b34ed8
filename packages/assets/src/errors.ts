import { UosError } from '@uos/errors';

/** Every `AssetsError` code. */
export type AssetsErrorCode = 'assets-invalid' | 'no-fetch-api' | 'invalid-option';

/**
 * What @uos/assets throws, only for a broken image or a caller's mistake (a bad option, no Response class
 * in the image); a request never throws: a bad path is answered 400. Check with `AssetsError.isInstance(e)`.
 */
export class AssetsError extends UosError<AssetsErrorCode> {
  static override readonly kind = 'AssetsError';
}
