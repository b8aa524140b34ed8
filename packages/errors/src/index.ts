/**
 * @uos/errors: the one base class of every error a uOS package throws to its users.
 *
 * Each package declares its own subclass with its codes as a union (`NetError` with `NetErrorCode`,
 * `VmRunnerError` with `VmRunnerErrorCode`, ...), so a caller can narrow on `error.code` with the
 * compiler's help, and a `static kind` with its name. A bundle may hold two copies of a package, so checks use the `Symbol.for` marker
 * through `UosError.isInstance(value)` (or `NetError.isInstance(value)` for one package's errors), never
 * `instanceof` alone.
 *
 * Invariants: this package has no dependencies and no side effects; an error's `code` is stable and
 * machine-readable, its `message` is for people and names what to do.
 */
const marker = Symbol.for('uos.error');
const kindMarker = Symbol.for('uos.error.kind');

// `cause` is declared here rather than as a field: ES2022's Error has it, ES2020's (the guest's) does not.
export interface UosError {
  readonly cause?: unknown;
}

export class UosError<Code extends string = string> extends Error {
  /**
   * The class's name, which `error.name` takes and `isInstance` compares: spelled out, since a bundler
   * may rename a class whose name collides with another.
   */
  static readonly kind: string = 'UosError';
  readonly [marker] = true;
  /** A stable, machine-readable reason, such as `vm-config-invalid` or `not-on-uos`. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = (new.target as typeof UosError).kind;
    this.code = code;
    if (options && 'cause' in options) Object.defineProperty(this, 'cause', { value: options.cause, configurable: true, writable: true });
  }

  /**
   * The kinds of this error's class and its ancestors, read by `isInstance` (not `name`, which users may
   * change): a `QmpError` that extends `VmRunnerError` is both.
   */
  get [kindMarker](): readonly string[] {
    const kinds: string[] = [];
    for (let c = this.constructor as typeof UosError | null; c && c !== UosError; c = Object.getPrototypeOf(c)) {
      if (Object.prototype.hasOwnProperty.call(c, 'kind')) kinds.push(c.kind);
    }
    return kinds;
  }

  /**
   * Whether `value` is a uOS error; called on a subclass (`NetError.isInstance(e)`), whether it is one of
   * that class's errors, even from another copy of the package.
   */
  static isInstance<T extends UosError>(this: { kind: string } & (abstract new (...args: never[]) => T), value: unknown): value is T {
    if (typeof value !== 'object' || value === null || (value as Record<symbol, unknown>)[marker] !== true) return false;
    if (this.kind === UosError.kind) return true;
    const kinds = (value as Record<symbol, unknown>)[kindMarker];
    return Array.isArray(kinds) && kinds.includes(this.kind);
  }
}
