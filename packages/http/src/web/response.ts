import { Body, type BodyInit, cloneBody, extractBody } from './body.js';
import { Headers, type HeadersInit } from './headers.js';
import { URL } from './url/url.js';

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

export type ResponseType = 'basic' | 'cors' | 'default' | 'error' | 'opaque' | 'opaqueredirect';

/** Statuses whose responses never have a body. */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The Fetch standard's Response. Its headers are made when first read: a handler that returns
 * `new Response('text')` costs no Headers object, and the server writes the Content-Type the body implies
 * straight into the response head.
 */
export class Response extends Body {
  /** @internal */
  declare _status: number;
  /** @internal */
  declare _statusText: string;
  /** @internal */
  declare _headers: Headers | null;
  /** @internal the Content-Type the body implies, while the headers are not made yet */
  declare _impliedType: string | null;
  /** @internal */
  declare _type: ResponseType;
  /** @internal */
  declare _url: string;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    super();
    if (init !== undefined && init !== null) {
      if (typeof init !== 'object') throw new TypeError('Response: init must be an object');
      if (init.status !== undefined) {
        const status = Number(init.status);
        if (!Number.isInteger(status) || status < 200 || status > 599) {
          throw new RangeError(`Response: status ${init.status} is not in the range 200 to 599`);
        }
        this._status = status;
      }
      if (init.statusText !== undefined) {
        const text = String(init.statusText);
        if (!REASON_PHRASE.test(text)) throw new TypeError(`Response: invalid statusText ${JSON.stringify(text)}`);
        this._statusText = text;
      }
      if (init.headers !== undefined) {
        this._headers = new Headers(init.headers);
        this._headers._guard = 'response';
      }
    }
    if (body === null || body === undefined) return;
    if (NULL_BODY_STATUSES.has(this._status)) throw new TypeError(`Response: a ${this._status} response cannot have a body`);
    const { source, contentType } = extractBody(body);
    this._source = source;
    if (contentType === null) return;
    if (this._headers === null) this._impliedType = contentType;
    else if (!this._headers.has('content-type')) this._headers._appendTrusted('content-type', contentType);
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Response.json: the value cannot be serialized to JSON');
    const response = new Response(null, init);
    if (NULL_BODY_STATUSES.has(response._status)) throw new TypeError(`Response.json: a ${response._status} response cannot have a body`);
    response._source = text;
    if (response._headers === null) response._impliedType = 'application/json';
    else if (!response._headers.has('content-type')) response._headers._appendTrusted('content-type', 'application/json');
    return response;
  }

  static redirect(url: string | URL, status = 302): Response {
    const location = new URL(String(url)).href;
    if (!REDIRECT_STATUSES.has(status)) throw new RangeError(`Response.redirect: ${status} is not a redirect status`);
    const response = new Response(null, { status, headers: { location } });
    response._headers!._guard = 'immutable';
    return response;
  }

  static error(): Response {
    const response = new Response(null);
    response._status = 0;
    response._type = 'error';
    response.headers._guard = 'immutable';
    return response;
  }

  /** @internal */
  _contentType(): string | null {
    return this._headers ? this._headers.get('content-type') : this._impliedType;
  }

  get headers(): Headers {
    let headers = this._headers;
    if (headers === null) {
      headers = this._headers = new Headers();
      headers._guard = 'response';
      if (this._impliedType !== null) headers._appendTrusted('content-type', this._impliedType);
      this._impliedType = null;
    }
    return headers;
  }

  get status(): number {
    return this._status;
  }

  get statusText(): string {
    return this._statusText;
  }

  get ok(): boolean {
    return this._status >= 200 && this._status <= 299;
  }

  get type(): ResponseType {
    return this._type;
  }

  get url(): string {
    return this._url;
  }

  get redirected(): boolean {
    return false;
  }

  clone(): Response {
    const copy = new Response(null, { status: this._status === 0 ? 200 : this._status, statusText: this._statusText });
    copy._status = this._status;
    copy._type = this._type;
    copy._url = this._url;
    if (this._headers) {
      copy._headers = new Headers(this._headers);
      copy._headers._guard = this._headers._guard;
    } else {
      copy._impliedType = this._impliedType;
    }
    cloneBody(this, copy);
    return copy;
  }

  get [Symbol.toStringTag](): string {
    return 'Response';
  }
}

// Defaults on the prototype: an instance holds only what differs, so making one (per request) adds a few
// properties instead of a dozen.
Response.prototype._status = 200;
Response.prototype._statusText = '';
Response.prototype._headers = null;
Response.prototype._impliedType = null;
Response.prototype._type = 'default';
Response.prototype._url = '';
