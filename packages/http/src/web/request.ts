import { AbortSignal } from './abort.js';
import { Body, type BodyInit, type IncomingBody, cloneBody, extractBody } from './body.js';
import { Headers, type HeadersInit } from './headers.js';
import { URL } from './url/url.js';

export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  signal?: AbortSignal | null;
  redirect?: 'follow' | 'error' | 'manual';
  cache?: string;
  credentials?: string;
  integrity?: string;
  keepalive?: boolean;
  mode?: string;
  referrer?: string;
  referrerPolicy?: string;
  duplex?: 'half';
  window?: null;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const FORBIDDEN = new Set(['CONNECT', 'TRACE', 'TRACK']);

function normalizeMethod(method: string): string {
  const text = String(method);
  if (!TOKEN.test(text)) throw new TypeError(`Request: ${JSON.stringify(text)} is not a valid method`);
  const upper = text.toUpperCase();
  if (FORBIDDEN.has(upper)) throw new TypeError(`Request: the method ${upper} is forbidden`);
  return NORMALIZED.has(upper) ? upper : text;
}

/**
 * The Fetch standard's Request. The server makes incoming requests through `_incoming`, which keeps the
 * parsed field lines and turns them into Headers only if someone reads `headers`, and makes the abort
 * signal only if someone reads `signal`.
 */
export class Request extends Body {
  /** @internal */
  declare _method: string;
  /** @internal */
  declare _url: string;
  /** @internal */
  declare _headers: Headers | null;
  /** @internal field lines as parsed (flat name, value, ...), until `headers` is read */
  declare _fields: string[] | null;
  /** @internal */
  declare _signal: AbortSignal | null;
  /** @internal */
  declare _redirect: 'follow' | 'error' | 'manual';
  /** @internal */
  declare _keepalive: boolean;

  constructor(input: string | URL | Request, init?: RequestInit) {
    super();
    let inherited: Request | undefined;
    if (input instanceof Request) {
      inherited = input;
      this._method = input._method;
      this._url = input._url;
      this._redirect = input._redirect;
      this._keepalive = input._keepalive;
    } else {
      let url: URL;
      try {
        url = new URL(String(input));
      } catch {
        throw new TypeError(`Request: ${JSON.stringify(String(input))} is not an absolute URL (there is no base URL in a service)`);
      }
      if (url.username || url.password) throw new TypeError('Request: a URL with credentials cannot be requested');
      this._url = url.href;
    }
    const options: RequestInit = init ?? {};
    if (options.method !== undefined) this._method = normalizeMethod(options.method);
    if (options.redirect !== undefined) this._redirect = options.redirect;
    if (options.keepalive !== undefined) this._keepalive = !!options.keepalive;
    if (options.headers !== undefined) this._headers = new Headers(options.headers);
    else if (inherited) this._headers = new Headers(inherited.headers);
    const signal = options.signal !== undefined ? options.signal : inherited?._signal;
    if (signal) this._signal = AbortSignal.any([signal]);

    let bodyInit: unknown = options.body;
    if (bodyInit === undefined && inherited && inherited._source !== null) {
      if (inherited.bodyUsed) throw new TypeError('Request: the body of the request given has already been read');
      bodyInit = inherited.body;
      inherited._used = true;
    }
    if (bodyInit === null || bodyInit === undefined) return;
    if (this._method === 'GET' || this._method === 'HEAD') throw new TypeError(`Request: a ${this._method} request cannot have a body`);
    const { source, contentType } = extractBody(bodyInit);
    this._source = source;
    if (contentType !== null) {
      const headers = (this._headers ??= new Headers());
      if (!headers.has('content-type')) headers._appendTrusted('content-type', contentType);
    }
  }

  /** @internal a request that arrived over the network: no checks, no copies */
  static _incoming(method: string, url: string, fields: string[], body: IncomingBody | null): Request {
    const request = Object.create(Request.prototype) as Request;
    if (body !== null) request._source = body;
    request._method = method;
    request._url = url;
    request._fields = fields;
    return request;
  }

  /** @internal aborts the signal (the client went away); nothing to do if nobody asked for it */
  _abort(reason?: unknown): void {
    if (this._signal) this._signal._abort(reason);
    else {
      this._signal = new AbortSignal();
      this._signal._abort(reason);
    }
  }

  /** @internal */
  _contentType(): string | null {
    return this.headers.get('content-type');
  }

  get method(): string {
    return this._method;
  }

  get url(): string {
    return this._url;
  }

  get headers(): Headers {
    let headers = this._headers;
    if (headers === null) {
      headers = this._headers = this._fields ? Headers._fromFields(this._fields, 'request') : new Headers();
      this._fields = null;
    }
    return headers;
  }

  get signal(): AbortSignal {
    return (this._signal ??= new AbortSignal());
  }

  get redirect(): string {
    return this._redirect;
  }

  get keepalive(): boolean {
    return this._keepalive;
  }

  get cache(): string {
    return 'default';
  }

  get credentials(): string {
    return 'same-origin';
  }

  get destination(): string {
    return '';
  }

  get integrity(): string {
    return '';
  }

  get mode(): string {
    return 'cors';
  }

  get referrer(): string {
    return 'about:client';
  }

  get referrerPolicy(): string {
    return '';
  }

  get duplex(): string {
    return 'half';
  }

  clone(): Request {
    if (this.bodyUsed) throw new TypeError('Request.clone: the body has already been read');
    const copy = Object.create(Request.prototype) as Request;
    copy._method = this._method;
    copy._url = this._url;
    copy._headers = new Headers(this.headers);
    if (this._signal) copy._signal = AbortSignal.any([this._signal]);
    copy._redirect = this._redirect;
    copy._keepalive = this._keepalive;
    cloneBody(this, copy);
    return copy;
  }

  get [Symbol.toStringTag](): string {
    return 'Request';
  }
}

// Defaults on the prototype: an instance holds only what differs, so making one (per request) adds a few
// properties instead of a dozen.
Request.prototype._method = 'GET';
Request.prototype._url = '';
Request.prototype._headers = null;
Request.prototype._fields = null;
Request.prototype._signal = null;
Request.prototype._redirect = 'follow';
Request.prototype._keepalive = false;
