import { DOMException } from './dom-exception.js';

/**
 * HTML's structuredClone for the values services pass around: primitives (BigInt too), plain objects and
 * arrays (cycles and shared references kept), Date, RegExp, Map, Set, ArrayBuffer and its views, Error
 * types, and boxed primitives. Functions, symbols and other host objects throw a DataCloneError, as in
 * browsers. `transfer` is not supported.
 */
export function structuredClone<T>(value: T, options?: { transfer?: unknown[] }): T {
  if (options?.transfer?.length) throw new DOMException('structuredClone: transfer is not supported', 'DataCloneError');
  return clone(value, new Map()) as T;
}

const ERRORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

function clone(value: unknown, seen: Map<object, unknown>): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    if (typeof value === 'symbol') throw new DOMException('structuredClone: a Symbol cannot be cloned', 'DataCloneError');
    return value;
  }
  if (typeof value === 'function') throw new DOMException('structuredClone: a function cannot be cloned', 'DataCloneError');
  const object = value as object;
  const known = seen.get(object);
  if (known !== undefined) return known;
  let out: unknown;
  if (Array.isArray(object)) {
    const array: unknown[] = new Array(object.length);
    seen.set(object, array);
    for (const key of Object.keys(object))
      (array as unknown as Record<string, unknown>)[key] = clone((object as unknown as Record<string, unknown>)[key], seen);
    return array;
  }
  if (object instanceof Date) out = new Date(object.getTime());
  else if (object instanceof RegExp) out = new RegExp(object.source, object.flags);
  else if (object instanceof ArrayBuffer) out = object.slice(0);
  else if (ArrayBuffer.isView(object)) {
    const buffer = clone(object.buffer, seen) as ArrayBuffer;
    const View = object.constructor as new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView;
    const length = object instanceof DataView ? object.byteLength : (object as unknown as { length: number }).length;
    out = new View(buffer, object.byteOffset, length);
  } else if (object instanceof Map) {
    const map = new Map();
    seen.set(object, map);
    for (const [k, v] of object) map.set(clone(k, seen), clone(v, seen));
    return map;
  } else if (object instanceof Set) {
    const set = new Set();
    seen.set(object, set);
    for (const v of object) set.add(clone(v, seen));
    return set;
  } else if (object instanceof Error) {
    const Kind = ERRORS[object.name] ?? Error;
    const error = new Kind(object.message);
    if (object.stack !== undefined) error.stack = object.stack;
    out = error;
  } else if (object instanceof Boolean || object instanceof Number || object instanceof String) {
    out = Object(object.valueOf());
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      throw new DOMException(`structuredClone: ${Object.prototype.toString.call(object)} cannot be cloned`, 'DataCloneError');
    }
    const copy: Record<string, unknown> = {};
    seen.set(object, copy);
    for (const key of Object.keys(object)) copy[key] = clone((object as Record<string, unknown>)[key], seen);
    return copy;
  }
  seen.set(object, out);
  return out;
}
