import { UosError } from '@uos/errors';

/** Every `X86PlatformError` code. */
export type X86PlatformErrorCode =
  | 'platform-missing'
  | 'platform-invalid'
  | 'compiler-missing'
  | 'compiler-invalid'
  | 'compiler-failed'
  | 'debug-image-missing';

/**
 * What @uos/x86-platform throws: a platform image or the bytecode compiler that is missing or broken (the
 * message names the file and what to do), or a compiler that failed on its input. Check with
 * `X86PlatformError.isInstance(e)` and narrow on `e.code`.
 */
export class X86PlatformError extends UosError<X86PlatformErrorCode> {
  static override readonly kind: string = 'X86PlatformError';
}
