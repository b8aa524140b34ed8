import { parseUrlEncoded, serializeUrlEncoded, toUsv } from './percent-encoding.js';

export type URLSearchParamsInit =
  | string
  | Iterable<readonly [string, string] | readonly string[]>
  | Record<string, string>
  | URLSearchParams;

/** The WHATWG URL standard's URLSearchParams: ordered name/value pairs in application/x-www-form-urlencoded. */
export class URLSearchParams {
  /** @internal */
  _list: [string, string][] = [];
  /** @internal the URL whose query this is (URL.searchParams), told of every change */
  _onChange: ((query: string) => void) | undefined;

  constructor(init: URLSearchParamsInit = '') {
    if (typeof init === 'string') {
      this._list = parseUrlEncoded(init.charCodeAt(0) === 0x3f ? init.slice(1) : init);
    } else if (init instanceof URLSearchParams) {
      this._list = init._list.map(([n, v]) => [n, v]);
    } else if (typeof init === 'object' && init !== null) {
      if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
        for (const pair of init as Iterable<readonly string[]>) {
          const items = Array.from(pair);
          if (items.length !== 2) throw new TypeError('URLSearchParams: each pair must have exactly two items');
          this._list.push([toUsv(String(items[0])), toUsv(String(items[1]))]);
        }
      } else {
        for (const key of Object.keys(init)) this._list.push([toUsv(key), toUsv(String((init as Record<string, string>)[key]))]);
      }
    } else {
      this._list = parseUrlEncoded(String(init));
    }
  }

  /** @internal replaces the pairs from a URL's query (no change notification) */
  _reset(query: string): void {
    this._list = parseUrlEncoded(query);
  }

  private update(): void {
    this._onChange?.(this.toString());
  }

  get size(): number {
    return this._list.length;
  }

  append(name: string, value: string): void {
    this._list.push([toUsv(String(name)), toUsv(String(value))]);
    this.update();
  }

  delete(name: string, value?: string): void {
    const key = toUsv(String(name));
    const match = value === undefined ? undefined : toUsv(String(value));
    this._list = this._list.filter(([n, v]) => n !== key || (match !== undefined && v !== match));
    this.update();
  }

  get(name: string): string | null {
    const key = toUsv(String(name));
    for (const [n, v] of this._list) if (n === key) return v;
    return null;
  }

  getAll(name: string): string[] {
    const key = toUsv(String(name));
    return this._list.filter(([n]) => n === key).map(([, v]) => v);
  }

  has(name: string, value?: string): boolean {
    const key = toUsv(String(name));
    const match = value === undefined ? undefined : toUsv(String(value));
    return this._list.some(([n, v]) => n === key && (match === undefined || v === match));
  }

  set(name: string, value: string): void {
    const key = toUsv(String(name));
    const text = toUsv(String(value));
    const at = this._list.findIndex(([n]) => n === key);
    if (at < 0) this._list.push([key, text]);
    else {
      this._list[at] = [key, text];
      this._list = this._list.filter(([n], i) => i <= at || n !== key);
    }
    this.update();
  }

  /** Sorts by name in UTF-16 code unit order, keeping the order of equal names. */
  sort(): void {
    this._list = this._list
      .map((pair, i) => [pair, i] as const)
      .sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]))
      .map(([pair]) => pair);
    this.update();
  }

  forEach(callback: (value: string, name: string, params: URLSearchParams) => void, thisArg?: unknown): void {
    for (const [n, v] of this._list.slice()) callback.call(thisArg, v, n, this);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const [n, v] of this._list) yield [n, v];
  }

  *keys(): IterableIterator<string> {
    for (const [n] of this._list) yield n;
  }

  *values(): IterableIterator<string> {
    for (const [, v] of this._list) yield v;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toString(): string {
    return serializeUrlEncoded(this._list);
  }

  get [Symbol.toStringTag](): string {
    return 'URLSearchParams';
  }
}
