const marker = Symbol.for('uos.error');

/**
 * The one error class every uOS package throws to users. Packages may be duplicated in a bundle, so
 * checks use `UosError.isInstance(e)` (a `Symbol.for` marker), not `instanceof`.
 */
export class UosError extends Error {
  readonly [marker] = true;
  /** A stable, machine-readable reason, such as `vm-config-invalid` or `not-on-uos`. */
  readonly code: string;
  readonly cause?: unknown;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'UosError';
    this.code = code;
    if (options && 'cause' in options) this.cause = options.cause;
  }

  static isInstance(value: unknown): value is UosError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
