/**
 * ES2022+ built-ins that npm libraries call and QuickJS 2021-03-27 lacks: `at` (Array, String, typed
 * arrays), `findLast`/`findLastIndex` (Array, typed arrays), `Object.hasOwn`, and ES2023's copying array
 * methods (`toReversed`, `toSorted`, `toSpliced`, `with`). Installed once, only where missing, as
 * non-enumerable properties like the engine's own; `structuredClone` is a global of its own
 * (structured-clone.ts).
 */

type Indexable = { length: number; [index: number]: unknown };

function toIntegerOrInfinity(value: unknown): number {
  const n = Number(value);
  if (Number.isNaN(n) || n === 0) return 0;
  if (!Number.isFinite(n)) return n;
  return Math.trunc(n);
}

function at(this: Indexable, index: unknown): unknown {
  const length = this.length >>> 0;
  const relative = toIntegerOrInfinity(index);
  const k = relative >= 0 ? relative : length + relative;
  return k < 0 || k >= length ? undefined : this[k];
}

function stringAt(this: string, index: unknown): string | undefined {
  const text = String(this);
  const relative = toIntegerOrInfinity(index);
  const k = relative >= 0 ? relative : text.length + relative;
  return k < 0 || k >= text.length ? undefined : text[k];
}

type Predicate = (value: unknown, index: number, array: unknown) => unknown;

function findLastIndex(this: Indexable, predicate: Predicate, thisArg?: unknown): number {
  if (typeof predicate !== 'function') throw new TypeError('findLastIndex: the predicate must be a function');
  for (let i = (this.length >>> 0) - 1; i >= 0; i--) if (predicate.call(thisArg, this[i], i, this)) return i;
  return -1;
}

function findLast(this: Indexable, predicate: Predicate, thisArg?: unknown): unknown {
  const i = findLastIndex.call(this, predicate, thisArg);
  return i < 0 ? undefined : this[i];
}

function toReversed(this: unknown[]): unknown[] {
  return Array.prototype.slice.call(this).reverse();
}

function toSorted(this: unknown[], compare?: (a: unknown, b: unknown) => number): unknown[] {
  if (compare !== undefined && typeof compare !== 'function') throw new TypeError('toSorted: the comparator must be a function');
  return Array.prototype.slice.call(this).sort(compare);
}

function toSpliced(this: unknown[], ...args: unknown[]): unknown[] {
  const copy = Array.prototype.slice.call(this);
  if (args.length === 0) return copy;
  if (args.length === 1) copy.splice(args[0] as number);
  else copy.splice(args[0] as number, args[1] as number, ...args.slice(2));
  return copy;
}

function withAt(this: unknown[], index: number, value: unknown): unknown[] {
  const length = this.length >>> 0;
  const relative = toIntegerOrInfinity(index);
  const k = relative >= 0 ? relative : length + relative;
  if (k < 0 || k >= length) throw new RangeError('with: index out of range');
  const copy = Array.prototype.slice.call(this);
  copy[k] = value;
  return copy;
}

function hasOwn(object: unknown, key: PropertyKey): boolean {
  if (object === null || object === undefined) throw new TypeError('Object.hasOwn called on null or undefined');
  return Object.prototype.hasOwnProperty.call(Object(object), key);
}

/** Object.hasOwn, also for esbuild's inject (it replaces `Object.hasOwn` where a bundle uses it). */
export { hasOwn };

function define(target: object, name: string, value: unknown): void {
  if (!(name in target)) Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
}

const installedKey = Symbol.for('uos.http.builtins');

/** Installs the missing built-ins (once per image; a no-op in Node, which has them). */
export function installBuiltins(): void {
  const holder = globalThis as unknown as Record<symbol, boolean>;
  if (holder[installedKey]) return;
  holder[installedKey] = true;
  const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
  for (const proto of [Array.prototype, typedArray]) {
    define(proto, 'at', at);
    define(proto, 'findLast', findLast);
    define(proto, 'findLastIndex', findLastIndex);
  }
  define(String.prototype, 'at', stringAt);
  define(Array.prototype, 'toReversed', toReversed);
  define(Array.prototype, 'toSorted', toSorted);
  define(Array.prototype, 'toSpliced', toSpliced);
  define(Array.prototype, 'with', withAt);
  define(Object, 'hasOwn', hasOwn);
}
