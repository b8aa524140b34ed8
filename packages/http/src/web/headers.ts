import { installBuiltins } from './builtins.js';

// Every image that uses the web API also gets the ES2022+ built-ins npm libraries call (Array.prototype.at, ...).
installBuiltins();

export type HeadersInit = Headers | Iterable<readonly [string, string] | readonly string[]> | Record<string, string>;

/** Who may change a Headers object (the Fetch standard's guard). */
export type HeadersGuard = 'none' | 'immutable' | 'request' | 'response';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** After normalization a value may not hold NUL, CR or LF, nor a character above U+00FF (a ByteString). */
const INVALID_VALUE = /[\0\r\n\u0100-\uffff]/;
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

function normalizeValue(value: unknown): string {
  const text = String(value);
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  const trimmed = first <= 32 || last <= 32 ? text.replace(HTTP_WHITESPACE, '') : text;
  if (INVALID_VALUE.test(trimmed)) throw new TypeError(`Headers: invalid value ${JSON.stringify(trimmed)}`);
  return trimmed;
}

function normalizeName(name: unknown): string {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Headers: invalid name ${JSON.stringify(text)}`);
  return text.toLowerCase();
}

/**
 * The Fetch standard's Headers: a list of (name, value) pairs, names compared without case. Stored as two
 * arrays in insertion order (names lowercased) since a message has a few dozen fields at most: a linear
 * scan beats a map here, and an incoming request's fields are only turned into one when asked for.
 */
export class Headers {
  /** @internal lowercased names */
  _names: string[] = [];
  /** @internal */
  _values: string[] = [];
  /** @internal */
  _guard: HeadersGuard = 'none';

  constructor(init?: HeadersInit) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      this._names = init._names.slice();
      this._values = init._values.slice();
      return;
    }
    if (typeof init !== 'object') throw new TypeError('Headers: init must be an object, a sequence of pairs or a Headers');
    const iterator = (init as Iterable<unknown>)[Symbol.iterator];
    if (typeof iterator === 'function') {
      for (const pair of init as Iterable<readonly string[]>) {
        if (typeof pair !== 'object' || pair === null || typeof (pair as Iterable<string>)[Symbol.iterator] !== 'function') {
          throw new TypeError('Headers: each entry must be a [name, value] pair');
        }
        const items = Array.from(pair as Iterable<string>);
        if (items.length !== 2) throw new TypeError(`Headers: each entry must be a [name, value] pair, not ${items.length} items`);
        this.append(items[0]!, items[1]!);
      }
      return;
    }
    for (const key of Object.keys(init)) this.append(key, (init as Record<string, string>)[key]!);
  }

  /**
   * @internal Headers from field lines as parsed (flat name, value, ...; names as sent, values valid and
   * trimmed already), guarded against change.
   */
  static _fromFields(fields: readonly string[], guard: HeadersGuard): Headers {
    const headers = new Headers();
    const names = headers._names;
    const values = headers._values;
    for (let i = 0; i < fields.length; i += 2) {
      names.push(fields[i]!.toLowerCase());
      values.push(fields[i + 1]!);
    }
    headers._guard = guard;
    return headers;
  }

  /** @internal appends without checks (the caller's name is a lowercase token and its value valid) */
  _appendTrusted(name: string, value: string): void {
    this._names.push(name);
    this._values.push(value);
  }

  private checkMutable(): void {
    if (this._guard === 'immutable') throw new TypeError('Headers: these headers are immutable');
  }

  append(name: string, value: string): void {
    const key = normalizeName(name);
    const text = normalizeValue(value);
    this.checkMutable();
    this._names.push(key);
    this._values.push(text);
  }

  delete(name: string): void {
    const key = normalizeName(name);
    this.checkMutable();
    const names = this._names;
    for (let i = names.length - 1; i >= 0; i--) {
      if (names[i] === key) {
        names.splice(i, 1);
        this._values.splice(i, 1);
      }
    }
  }

  get(name: string): string | null {
    const key = normalizeName(name);
    const names = this._names;
    let result: string | null = null;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === key) result = result === null ? this._values[i]! : `${result}, ${this._values[i]}`;
    }
    return result;
  }

  getSetCookie(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this._names.length; i++) if (this._names[i] === 'set-cookie') out.push(this._values[i]!);
    return out;
  }

  has(name: string): boolean {
    return this._names.indexOf(normalizeName(name)) >= 0;
  }

  set(name: string, value: string): void {
    const key = normalizeName(name);
    const text = normalizeValue(value);
    this.checkMutable();
    const names = this._names;
    const at = names.indexOf(key);
    if (at < 0) {
      names.push(key);
      this._values.push(text);
      return;
    }
    this._values[at] = text;
    for (let i = names.length - 1; i > at; i--) {
      if (names[i] === key) {
        names.splice(i, 1);
        this._values.splice(i, 1);
      }
    }
  }

  /** The Fetch standard's "sort and combine": sorted by name, values of one name joined (Set-Cookie kept apart). */
  private sorted(): [string, string][] {
    const unique = Array.from(new Set(this._names)).sort();
    const out: [string, string][] = [];
    for (const name of unique) {
      if (name === 'set-cookie') {
        for (const cookie of this.getSetCookie()) out.push([name, cookie]);
      } else {
        out.push([name, this.get(name)!]);
      }
    }
    return out;
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.sorted()) callback.call(thisArg, value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    yield* this.sorted();
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.sorted()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.sorted()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}
