import { UosError } from '@uos/errors';

/** Every `HttpError` code. */
export type HttpErrorCode = 'invalid-option' | 'listen-failed' | 'server-closed';

/**
 * What @uos/http throws, only for a caller's own mistakes (a limit that is not a positive integer, a port
 * already in use); a request from the network never throws: it is answered (400, 413, ...) and counted.
 * Check with `HttpError.isInstance(e)` and narrow on `e.code`.
 */
export class HttpError extends UosError<HttpErrorCode> {
  static override readonly kind = 'HttpError';
}
