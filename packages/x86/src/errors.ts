import { UosError } from '@uos/errors';

/** Every `X86Error` code. */
export type X86ErrorCode = 'not-on-uos' | 'platform-missing' | 'platform-invalid';

/** What @uos/x86 throws: a binding called outside an image, a platform image that is missing or broken. Check with `X86Error.isInstance(e)` and narrow on `e.code`. */
export class X86Error extends UosError<X86ErrorCode> {
  static override readonly kind = 'X86Error';
}
