import { ABSOLUTE_TARGET, FIELD_LINE, HOST_VALUE, type ParseErrorKind, REQUEST_LINE, TOKEN_PATTERN } from './syntax.js';

/** A request's head as the parser saw it: what the server needs to frame, route and answer it. */
export interface RequestHead {
  method: string;
  /** The request-target as sent (origin-form `/path?query`, or absolute-form `http://host/path`). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number;
  /** Field lines in order, flat: name (as sent), value (OWS trimmed), name, value, ... */
  headers: string[];
  /** The Host field's value; undefined when absent (allowed in HTTP/1.0 only). */
  host: string | undefined;
  /** The body's length from Content-Length; -1 when the body is chunked or there is none. */
  contentLength: number;
  chunked: boolean;
  /** Whether the connection may carry another request after this one (version and Connection). */
  keepAlive: boolean;
  /** `Expect: 100-continue`. */
  expectContinue: boolean;
}

/** Content-Length values longer than this overflow 2^53 (and no body is that large). */
const MAX_LENGTH_DIGITS = 15;

/** `value` split on commas, each part trimmed and lowercased, empty parts dropped (RFC 9110 §5.6.1). */
function tokenList(value: string): string[] {
  const parts = value.toLowerCase().split(',');
  const out: string[] = [];
  for (const part of parts) {
    const token = part.trim();
    if (token) out.push(token);
  }
  return out;
}

function trimEnd(value: string): string {
  let end = value.length;
  while (end > 0) {
    const c = value.charCodeAt(end - 1);
    if (c !== 32 && c !== 9) break;
    end--;
  }
  return end === value.length ? value : value.slice(0, end);
}

/**
 * Parses a request head: `text` is the request line and the field lines joined by CRLF, without the
 * CRLF that ends the last line or the empty line after it. Fills `head` and returns undefined, or returns
 * why the request must be refused. Strict where leniency has let requests be smuggled: Content-Length
 * with Transfer-Encoding, two Content-Lengths (even equal ones), a list or anything but digits in
 * Content-Length, a transfer coding after chunked, Transfer-Encoding in HTTP/1.0, obs-fold, whitespace
 * before a colon, a bare CR, two Host fields or an invalid one.
 */
export function parseRequestHead(text: string, maxHeaders: number, head: RequestHead): ParseErrorKind | undefined {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const line = REQUEST_LINE.exec(lineEnd === text.length ? text : text.slice(0, lineEnd));
  if (!line) return requestLineProblem(text.slice(0, lineEnd));
  const major = line[3]!;
  const minor = line[4]!;
  if (major !== '1' || (minor !== '0' && minor !== '1')) return 'unsupported_version';
  const method = line[1]!;
  const target = line[2]!;
  const minorVersion = minor === '1' ? 1 : 0;
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (method === 'CONNECT' || target === '*') return 'not_implemented';
    if (!ABSOLUTE_TARGET.test(target)) return 'invalid_target';
  } else if (method === 'CONNECT') {
    return 'not_implemented';
  }

  const headers: string[] = [];
  let host: string | undefined;
  let hosts = 0;
  let contentLength = -1;
  let transferEncoding: string | undefined;
  let connection: string | undefined;
  let expect: string | undefined;
  let at = lineEnd + 2;
  while (at < text.length) {
    FIELD_LINE.lastIndex = at;
    const field = FIELD_LINE.exec(text);
    if (!field) return 'invalid_header';
    at = FIELD_LINE.lastIndex;
    if (headers.length >= maxHeaders * 2) return 'too_many_headers';
    const name = field[1]!;
    let value = field[2]!;
    const last = value.charCodeAt(value.length - 1);
    if (last === 32 || last === 9) value = trimEnd(value);
    headers.push(name, value);
    // Only the fields that frame or route the request are looked at here; the length test comes first so
    // that most names are never lowercased.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          hosts++;
          host = value;
        }
        break;
      case 6:
        if (name.toLowerCase() === 'expect') expect = expect === undefined ? value : `${expect}, ${value}`;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (contentLength >= 0) return 'invalid_content_length';
          if (value.length === 0 || value.length > MAX_LENGTH_DIGITS || !/^[0-9]+$/.test(value)) return 'invalid_content_length';
          contentLength = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        }
        break;
    }
  }

  let chunked = false;
  if (transferEncoding !== undefined) {
    if (contentLength >= 0 || minorVersion === 0) return 'conflicting_framing';
    const codings = tokenList(transferEncoding);
    if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') return 'invalid_transfer_encoding';
    for (let i = 0; i < codings.length - 1; i++) {
      const coding = codings[i]!;
      if (coding === 'chunked') return 'invalid_transfer_encoding';
      if (!TOKEN_PATTERN.test(coding)) return 'invalid_transfer_encoding';
    }
    if (codings.length > 1) return 'unsupported_transfer_coding';
    chunked = true;
  }
  // A missing Host is the server's to refuse (it needs the host for the URL); two are never valid.
  if (hosts > 1 || (host !== undefined && !HOST_VALUE.test(host))) return 'invalid_host';
  let keepAlive = minorVersion === 1;
  if (connection !== undefined) {
    for (const option of tokenList(connection)) {
      if (option === 'close') {
        keepAlive = false;
        break;
      }
      if (option === 'keep-alive') keepAlive = true;
    }
  }
  let expectContinue = false;
  if (expect !== undefined) {
    const expectations = tokenList(expect);
    if (expectations.length !== 1 || expectations[0] !== '100-continue') return 'unsupported_expectation';
    // HTTP/1.0 clients cannot expect an interim response (RFC 9110 §10.1.1): ignore it.
    expectContinue = minorVersion === 1;
  }
  head.method = method;
  head.target = target;
  head.minorVersion = minorVersion;
  head.headers = headers;
  head.host = host;
  head.contentLength = chunked ? -1 : contentLength;
  head.chunked = chunked;
  head.keepAlive = keepAlive;
  head.expectContinue = expectContinue;
  return undefined;
}

/** Why a request line did not match: its method, its target, or the rest of it. */
function requestLineProblem(line: string): ParseErrorKind {
  const parts = line.split(' ');
  if (parts.length === 3 && /^HTTP\/[0-9]\.[0-9]$/.test(parts[2]!)) {
    if (!TOKEN_PATTERN.test(parts[0]!)) return 'invalid_method';
    return 'invalid_target';
  }
  return 'invalid_request_line';
}
