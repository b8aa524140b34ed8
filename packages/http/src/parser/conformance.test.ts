/**
 * Table-driven conformance: llhttp's request corpus (strict cases) and request-smuggling attempts, each
 * parsed whole, byte by byte and in a few seeded random splits, with the same outcome every time.
 */
import { describe, expect, it } from 'vitest';
import { type ConformanceCase, LLHTTP_CASES } from '../testing/llhttp-cases.js';
import { type ParseOutcome, bytes, parseSplit } from '../testing/parse-split.js';
import type { ParseErrorKind } from './syntax.js';

function expected(c: ConformanceCase): ParseOutcome {
  return {
    messages: c.messages.map((m) => ({
      method: m.method,
      target: m.target,
      version: m.version,
      headers: m.headers,
      body: m.body ?? '',
      complete: m.complete ?? true,
      keepAlive: m.keepAlive ?? m.version === '1.1',
    })),
    ...(c.error ? { error: c.error } : {}),
  };
}

/** The outcome without the Host convenience field (the tables list headers). */
function comparable(outcome: ParseOutcome): ParseOutcome {
  return { messages: outcome.messages.map(({ host: _host, ...m }) => m), ...(outcome.error ? { error: outcome.error } : {}) };
}

/** Deterministic cut points (a small LCG), so a failure names its split. */
function cuts(length: number, seed: number): number[] {
  let state = seed;
  const out: number[] = [];
  for (let at = 0; ; ) {
    state = (state * 1103515245 + 12345) >>> 0;
    at += 1 + (state % 7);
    if (at >= length) return out;
    out.push(at);
  }
}

function checkEverySplit(input: string, want: ParseOutcome): void {
  const data = bytes(input);
  expect(comparable(parseSplit(data))).toEqual(want);
  expect(
    comparable(
      parseSplit(
        data,
        Array.from({ length: data.length }, (_, i) => i),
      ),
    ),
  ).toEqual(want);
  for (const seed of [1, 2, 3]) expect(comparable(parseSplit(data, cuts(data.length, seed)))).toEqual(want);
}

describe("llhttp's request corpus", () => {
  it('has its cases', () => {
    expect(LLHTTP_CASES.length).toBeGreaterThan(100);
  });
  for (const c of LLHTTP_CASES) {
    it(c.name, () => checkEverySplit(c.input, expected(c)));
  }
});

/** A request that must be refused, and why. */
const SMUGGLING: [name: string, input: string, error: ParseErrorKind][] = [
  [
    'Content-Length with Transfer-Encoding',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'conflicting_framing',
  ],
  [
    'Transfer-Encoding with Content-Length',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
    'conflicting_framing',
  ],
  [
    'two equal Content-Lengths',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    'invalid_content_length',
  ],
  [
    'two different Content-Lengths',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'invalid_content_length',
  ],
  ['a Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello', 'invalid_content_length'],
  ['a signed Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello', 'invalid_content_length'],
  ['a negative Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 'invalid_content_length'],
  ['a hexadecimal Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello', 'invalid_content_length'],
  ['a Content-Length with inner space', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n', 'invalid_content_length'],
  ['an empty Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n', 'invalid_content_length'],
  ['a Content-Length over 2^53', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999\r\n\r\n', 'invalid_content_length'],
  [
    'chunked before another coding',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    'invalid_transfer_encoding',
  ],
  ['identity alone', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n', 'invalid_transfer_encoding'],
  ['a look-alike of chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n', 'invalid_transfer_encoding'],
  [
    'chunked twice',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'invalid_transfer_encoding',
  ],
  [
    'an unknown coding before chunked',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    'unsupported_transfer_coding',
  ],
  ['an empty Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n', 'invalid_transfer_encoding'],
  ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'conflicting_framing'],
  ['a space before the colon', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n', 'invalid_header'],
  ['a tab before the colon', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 5\r\n\r\nhello', 'invalid_header'],
  ['a vertical tab before the value', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n', 'invalid_header'],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n', 'invalid_header'],
  [
    'obs-fold continuing Transfer-Encoding',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n',
    'invalid_header',
  ],
  ['a field line starting with a tab', 'GET / HTTP/1.1\r\n\tHost: a\r\n\r\n', 'invalid_header'],
  ['a bare LF ending a field line', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 'bare_lf'],
  ['a bare LF ending the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 'bare_lf'],
  ['a bare LF ending the head', 'GET / HTTP/1.1\r\nHost: a\r\n\n', 'bare_lf'],
  ['a bare CR inside a field line', 'GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n', 'invalid_header'],
  ['a NUL in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', 'invalid_header'],
  ['a DEL in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n', 'invalid_header'],
  ['an empty field name', 'GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n', 'invalid_header'],
  ['a field name with "@"', 'GET / HTTP/1.1\r\nHost: a\r\nX@Y: b\r\n\r\n', 'invalid_header'],
  ['a field line without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n', 'invalid_header'],
  ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'invalid_host'],
  ['a Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'invalid_host'],
  ['a Host with a slash', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 'invalid_host'],
  ['a request line without a version', 'GET /\r\nHost: a\r\n\r\n', 'invalid_request_line'],
  ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid_request_line'],
  ['a tab in the request line', 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid_request_line'],
  ['a space after the version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 'invalid_request_line'],
  ['a lowercase protocol', 'GET / http/1.1\r\nHost: a\r\n\r\n', 'invalid_request_line'],
  ['a NUL in the target', 'GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid_target'],
  ['obs-text in the target', 'GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid_target'],
  ['a method with "@"', 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid_method'],
  ['a target that is no path', 'GET index.html HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid_target'],
  ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 'unsupported_version'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', 'unsupported_version'],
  ['HTTP/0.9 with a version', 'GET / HTTP/0.9\r\n\r\n', 'unsupported_version'],
  ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 'not_implemented'],
  ['an unknown expectation', 'GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n', 'unsupported_expectation'],
  [
    'a space after a chunk size',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n',
    'invalid_chunk',
  ],
  ['a chunk size in 0x form', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n', 'invalid_chunk'],
  ['a negative chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n', 'invalid_chunk'],
  ['an empty chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n', 'invalid_chunk'],
  [
    'a chunk extension without a name',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n',
    'invalid_chunk',
  ],
  [
    'a chunk extension with a bare CR',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\rb\r\nhello\r\n0\r\n\r\n',
    'invalid_chunk',
  ],
  [
    'a chunk size line ended by a bare LF',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
    'bare_lf',
  ],
  [
    'chunk data longer than its size',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!\r\n0\r\n\r\n',
    'invalid_chunk',
  ],
  [
    'chunk data ended by a bare LF',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n',
    'invalid_chunk',
  ],
  ['a chunk size past 2^52', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000\r\n', 'invalid_chunk'],
  ['a trailer with obs-fold', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n', 'invalid_header'],
  [
    'a trailer with a space before the colon',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : a\r\n\r\n',
    'invalid_header',
  ],
];

describe('request smuggling and garbage', () => {
  for (const [name, input, error] of SMUGGLING) {
    it(`refuses ${name} (${error})`, () => {
      const whole = parseSplit(bytes(input));
      expect(whole.error).toBe(error);
      // Nothing of a refused request reaches the handler, however the bytes were split.
      for (const seed of [1, 2, 3]) expect(parseSplit(bytes(input), cuts(input.length, seed)).error).toBe(error);
      expect(whole.messages.filter((m) => m.complete).length).toBeLessThanOrEqual(1);
    });
  }

  it('a second request hidden in a body is only a body (Content-Length frames it)', () => {
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n';
    const input = `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}GET /next HTTP/1.1\r\nHost: a\r\n\r\n`;
    const outcome = parseSplit(bytes(input));
    expect(outcome.messages.map((m) => [m.method, m.target, m.body])).toEqual([
      ['POST', '/', smuggled],
      ['GET', '/next', ''],
    ]);
  });

  it('a chunked body with extensions and trailers yields its data only', () => {
    const input =
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip-not, chunked\r\n\r\n'.replace('gzip-not, ', '') +
      '5;name=value;quoted="a \\"b\\"";bare\r\nhello\r\n6 ; spaced = yes\r\n world\r\n0\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\n';
    const outcome = parseSplit(bytes(input));
    expect(outcome.error).toBeUndefined();
    expect(outcome.messages[0]).toMatchObject({ body: 'hello world', complete: true });
  });
});
