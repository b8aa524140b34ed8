import { USERINFO_SET, percentEncode, toUsv } from './percent-encoding.js';
import { URLSearchParams } from './url-search-params.js';
import { type UrlRecord, copyRecord, isSpecial, parseUrl, serializePath, serializeUrl } from './url-parser.js';

/** The WHATWG URL standard's URL class over its basic parser. */
export class URL {
  /** @internal */
  _record: UrlRecord;
  /** @internal */
  _search: URLSearchParams | undefined;

  constructor(url: string | URL, base?: string | URL) {
    let baseRecord: UrlRecord | null = null;
    if (base !== undefined) {
      baseRecord = base instanceof URL ? base._record : parseUrl(toUsv(String(base)));
      if (!baseRecord) throw new TypeError(`Invalid base URL: ${JSON.stringify(String(base))}`);
    }
    const record = parseUrl(toUsv(String(url)), baseRecord);
    if (!record) throw new TypeError(`Invalid URL: ${JSON.stringify(String(url))}`);
    this._record = record;
  }

  static canParse(url: string, base?: string): boolean {
    try {
      new URL(url, base);
      return true;
    } catch {
      return false;
    }
  }

  static parse(url: string, base?: string): URL | null {
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  }

  /**
   * A setter's state-override parse. As in the standard, what the parse changed before it failed stays
   * changed (`host = "h:x"` sets the host and leaves the port).
   */
  private apply(input: string, state: Parameters<typeof parseUrl>[3], prepare?: (record: UrlRecord) => void): void {
    const copy = copyRecord(this._record);
    prepare?.(copy);
    parseUrl(toUsv(input), null, copy, state);
    this._record = copy;
  }

  get href(): string {
    return serializeUrl(this._record);
  }

  set href(value: string) {
    const record = parseUrl(toUsv(String(value)));
    if (!record) throw new TypeError(`Invalid URL: ${JSON.stringify(String(value))}`);
    this._record = record;
    this._search?._reset(record.query ?? '');
  }

  get origin(): string {
    const { scheme, host, port } = this._record;
    if (scheme === 'blob') {
      const inner = URL.parse(serializePath(this._record));
      return inner && (inner.protocol === 'http:' || inner.protocol === 'https:') ? inner.origin : 'null';
    }
    if (!isSpecial(this._record) || scheme === 'file') return 'null';
    return `${scheme}://${host}${port === null ? '' : `:${port}`}`;
  }

  get protocol(): string {
    return `${this._record.scheme}:`;
  }

  set protocol(value: string) {
    this.apply(`${String(value)}:`, 'scheme start');
  }

  get username(): string {
    return this._record.username;
  }

  set username(value: string) {
    const r = this._record;
    if (r.host === null || r.host === '' || r.scheme === 'file') return;
    r.username = percentEncode(toUsv(String(value)), USERINFO_SET);
  }

  get password(): string {
    return this._record.password;
  }

  set password(value: string) {
    const r = this._record;
    if (r.host === null || r.host === '' || r.scheme === 'file') return;
    r.password = percentEncode(toUsv(String(value)), USERINFO_SET);
  }

  get host(): string {
    const { host, port } = this._record;
    if (host === null) return '';
    return port === null ? host : `${host}:${port}`;
  }

  set host(value: string) {
    if (typeof this._record.path === 'string') return;
    this.apply(String(value), 'host');
  }

  get hostname(): string {
    return this._record.host ?? '';
  }

  set hostname(value: string) {
    if (typeof this._record.path === 'string') return;
    this.apply(String(value), 'hostname');
  }

  get port(): string {
    return this._record.port === null ? '' : String(this._record.port);
  }

  set port(value: string) {
    const r = this._record;
    if (r.host === null || r.host === '' || r.scheme === 'file') return;
    const text = String(value);
    if (text === '') r.port = null;
    else this.apply(text, 'port');
  }

  get pathname(): string {
    return serializePath(this._record);
  }

  set pathname(value: string) {
    if (typeof this._record.path === 'string') return;
    this.apply(String(value), 'path start', (record) => {
      record.path = [];
    });
  }

  get search(): string {
    const query = this._record.query;
    return query === null || query === '' ? '' : `?${query}`;
  }

  set search(value: string) {
    const text = String(value);
    if (text === '') {
      this._record.query = null;
      this._search?._reset('');
      return;
    }
    this.apply(text.charCodeAt(0) === 0x3f ? text.slice(1) : text, 'query', (record) => {
      record.query = '';
    });
    this._search?._reset(this._record.query ?? '');
  }

  get searchParams(): URLSearchParams {
    if (!this._search) {
      const params = new URLSearchParams(this._record.query ?? '');
      params._onChange = (query) => {
        this._record.query = query === '' ? null : query;
      };
      this._search = params;
    }
    return this._search;
  }

  get hash(): string {
    const fragment = this._record.fragment;
    return fragment === null || fragment === '' ? '' : `#${fragment}`;
  }

  set hash(value: string) {
    const text = String(value);
    if (text === '') {
      this._record.fragment = null;
      return;
    }
    this.apply(text.charCodeAt(0) === 0x23 ? text.slice(1) : text, 'fragment', (record) => {
      record.fragment = '';
    });
  }

  toString(): string {
    return this.href;
  }

  toJSON(): string {
    return this.href;
  }

  get [Symbol.toStringTag](): string {
    return 'URL';
  }
}
