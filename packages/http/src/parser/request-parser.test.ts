import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEST_LIMITS, bytes, parseSplit } from '../testing/parse-split.js';
import type { RequestHead } from './head.js';
import { type ParserLimits, RequestParser } from './request-parser.js';
import type { ParseErrorKind } from './syntax.js';

const limits = (overrides: Partial<ParserLimits>): ParserLimits => ({ ...TEST_LIMITS, ...overrides });

describe('RequestParser', () => {
  it('parses a request with its framing, keep-alive and Expect', () => {
    const outcome = parseSplit(
      bytes('PUT /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc'),
    );
    expect(outcome.messages).toEqual([
      {
        method: 'PUT',
        target: '/a?b=c',
        version: '1.1',
        headers: [
          ['Host', 'example.com:8080'],
          ['Expect', '100-continue'],
          ['Content-Length', '3'],
        ],
        body: 'abc',
        complete: true,
        keepAlive: true,
        host: 'example.com:8080',
      },
    ]);
  });

  it('keeps HTTP/1.0 connections alive only when asked to', () => {
    expect(parseSplit(bytes('GET / HTTP/1.0\r\n\r\n')).messages[0]!.keepAlive).toBe(false);
    expect(parseSplit(bytes('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')).messages[0]!.keepAlive).toBe(true);
    expect(parseSplit(bytes('GET / HTTP/1.1\r\nHost: a\r\nConnection: te, close\r\n\r\n')).messages[0]!.keepAlive).toBe(false);
  });

  it('accepts an absolute-form target and ignores empty lines before a request', () => {
    const outcome = parseSplit(bytes('\r\n\r\nGET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n'));
    expect(outcome.messages[0]).toMatchObject({ method: 'GET', target: 'http://example.com/x' });
  });

  it('reads pipelined requests in order, each with its body', () => {
    const input =
      'POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi' +
      'POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
      'GET /3 HTTP/1.1\r\nHost: a\r\n\r\n';
    expect(parseSplit(bytes(input)).messages.map((m) => [m.target, m.body, m.complete])).toEqual([
      ['/1', 'hi', true],
      ['/2', 'abc', true],
      ['/3', '', true],
    ]);
  });

  it('holds what follows a request while paused and goes on at resume', () => {
    const events: string[] = [];
    const parser: RequestParser = new RequestParser(
      {
        onHead: (head: RequestHead) => events.push(`head ${head.target}`),
        onBody: (data) => events.push(`body ${data.length}`),
        onMessageComplete: () => {
          events.push('complete');
          parser.pause();
        },
        onError: (kind) => events.push(`error ${kind}`),
      },
      TEST_LIMITS,
    );
    parser.push(bytes('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\n'));
    expect(events).toEqual(['head /1', 'complete']);
    expect(parser.bufferedBytes).toBeGreaterThan(0);
    parser.resume();
    expect(events).toEqual(['head /1', 'complete', 'head /2', 'complete']);
    parser.push(bytes('Host: a\r\n\r\n'));
    expect(events).toHaveLength(4);
    parser.resume();
    expect(events).toEqual(['head /1', 'complete', 'head /2', 'complete', 'head /3', 'complete']);
    expect(parser.idle).toBe(true);
  });

  it('hands body bytes over as views of the pushed chunks, never copies', () => {
    const chunk = bytes('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody');
    let seen: Uint8Array | undefined;
    const parser = new RequestParser({ onHead() {}, onBody: (data) => (seen = data), onMessageComplete() {}, onError() {} }, TEST_LIMITS);
    parser.push(chunk);
    expect(seen!.buffer).toBe(chunk.buffer);
  });

  it('ignores everything after an error', () => {
    const events: string[] = [];
    const parser = new RequestParser(
      { onHead: () => events.push('head'), onBody() {}, onMessageComplete: () => events.push('complete'), onError: (k) => events.push(k) },
      TEST_LIMITS,
    );
    parser.push(bytes('GET / HTTP/1.1\r\nHost: a\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    parser.push(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    expect(events).toEqual(['bare_lf']);
    expect(parser.failed).toBe(true);
    expect(parser.bufferedBytes).toBe(0);
  });
});

describe('limits', () => {
  const request = (headers: string, target = '/') => `GET ${target} HTTP/1.1\r\nHost: a\r\n${headers}\r\n`;

  it('takes a head of exactly maxHeadBytes and refuses one byte more (431)', () => {
    const base = request('X: \r\n');
    const head = (size: number) => request(`X: ${'v'.repeat(size - base.length + 2)}\r\n`);
    const exact = head(1024);
    expect(exact.length - 2).toBe(1024);
    expect(parseSplit(bytes(exact), [], limits({ maxHeadBytes: 1024 })).error).toBeUndefined();
    expect(parseSplit(bytes(head(1025)), [], limits({ maxHeadBytes: 1024 })).error).toBe('head_too_large');
    // Refused as soon as the limit is passed, before the head ends.
    expect(parseSplit(bytes(head(1025).slice(0, 1030)), [], limits({ maxHeadBytes: 1024 })).error).toBe('head_too_large');
  });

  it('takes a request line of exactly maxRequestLineBytes and refuses a longer one (414)', () => {
    const line = (size: number) => `GET /${'a'.repeat(size - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
    expect(line(100)).toHaveLength(100);
    expect(parseSplit(bytes(`${line(100)}\r\nHost: a\r\n\r\n`), [], limits({ maxRequestLineBytes: 100 })).error).toBeUndefined();
    expect(parseSplit(bytes(`${line(101)}\r\nHost: a\r\n\r\n`), [], limits({ maxRequestLineBytes: 100 })).error).toBe('uri_too_long');
    // Without its end yet.
    expect(parseSplit(bytes(line(120).slice(0, 110)), [], limits({ maxRequestLineBytes: 100 })).error).toBe('uri_too_long');
  });

  it('takes maxHeaders field lines and refuses one more (431)', () => {
    const fields = (n: number) => Array.from({ length: n - 1 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    expect(parseSplit(bytes(request(fields(10))), [], limits({ maxHeaders: 10 })).messages[0]!.headers).toHaveLength(10);
    expect(parseSplit(bytes(request(fields(11))), [], limits({ maxHeaders: 10 })).error).toBe('too_many_headers');
  });

  it('refuses a declared body over maxBodyBytes at once, and a chunked one when it gets there (413)', () => {
    const small = limits({ maxBodyBytes: 10 });
    expect(parseSplit(bytes('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789'), [], small).error).toBeUndefined();
    expect(parseSplit(bytes('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n'), [], small).error).toBe('body_too_large');
    const chunked = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n';
    expect(parseSplit(bytes(`${chunked}0\r\n\r\n`), [], small).messages[0]!.body).toBe('0123456789');
    const over = parseSplit(bytes(`${chunked}1\r\nx\r\n0\r\n\r\n`), [], small);
    expect(over.error).toBe('body_too_large');
    expect(over.messages[0]!.body).toBe('0123456789');
  });

  it('counts trailer fields against the same limits', () => {
    const trailers = Array.from({ length: 11 }, (_, i) => `T-${i}: ${i}\r\n`).join('');
    const input = `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${trailers}\r\n`;
    expect(parseSplit(bytes(input), [], limits({ maxHeaders: 10 })).error).toBe('too_many_headers');
    expect(parseSplit(bytes(input), [], limits({ maxHeaders: 11 })).error).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------ properties

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
const fieldValue = fc.stringMatching(/^[\x21-\x7e\x80-\xff]([\x20-\x7e\x80-\xff]{0,20}[\x21-\x7e\x80-\xff])?$/);
const path = fc.stringMatching(/^\/[\x21-\x7e]{0,30}$/);
const body = fc.string({ maxLength: 300, unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) });

/** A valid request: any method and path, extra fields, a body framed by Content-Length or chunked (with extensions). */
const validRequest = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
    target: path,
    version: fc.constantFrom('1.0', '1.1'),
    fields: fc.array(fc.tuple(token, fieldValue), { maxLength: 8 }),
    body,
    chunked: fc.boolean(),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
    extension: fc.constantFrom('', ';a=b', ' ; x', ';q="quoted \\" value"'),
  })
  .map((r) => {
    const fields = r.fields.filter(([name]) => !/^(host|content-length|transfer-encoding|expect|connection)$/i.test(name));
    let head = `${r.method} ${r.target} HTTP/${r.version}\r\nHost: example.com\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}`;
    let payload = r.body;
    if (r.chunked && r.version === '1.1') {
      head += 'Transfer-Encoding: chunked\r\n';
      let encoded = '';
      let at = 0;
      for (let i = 0; at < payload.length; i++) {
        const size = Math.min(r.chunkSizes[i % r.chunkSizes.length]!, payload.length - at);
        encoded += `${size.toString(16)}${r.extension}\r\n${payload.slice(at, at + size)}\r\n`;
        at += size;
      }
      payload = `${encoded}0\r\n\r\n`;
    } else if (payload.length > 0) {
      head += `Content-Length: ${payload.length}\r\n`;
    }
    return `${head}\r\n${payload}`;
  });

const splits = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 20 }).map((c) => c.sort((a, b) => a - b));

describe('properties', () => {
  it('any valid requests, pipelined and split anywhere, parse as they do whole', () => {
    fc.assert(
      fc.property(
        fc.array(validRequest, { minLength: 1, maxLength: 4 }).chain((requests) => {
          const input = requests.join('');
          return fc.tuple(fc.constant(input), fc.constant(requests.length), splits(input.length));
        }),
        ([input, count, cuts]) => {
          const whole = parseSplit(bytes(input));
          expect(whole.error).toBeUndefined();
          expect(whole.messages.filter((m) => m.complete)).toHaveLength(count);
          expect(parseSplit(bytes(input), cuts)).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw, always end, and never buffer past the head limit', () => {
    const small = limits({ maxHeadBytes: 512, maxRequestLineBytes: 256, maxHeaders: 20, maxBodyBytes: 4096 });
    const prefixes = ['', 'GET / HTTP/1.1\r\n', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 2000 }), splits(2000), (prefix, noise, cuts) => {
        const input = new Uint8Array([...bytes(prefix), ...noise]);
        let errors = 0;
        let maxBuffered = 0;
        const parser = new RequestParser(
          { onHead() {}, onBody() {}, onMessageComplete() {}, onError: (_kind: ParseErrorKind) => errors++ },
          small,
        );
        let at = 0;
        for (const cut of [...cuts.filter((c) => c < input.length), input.length]) {
          parser.push(input.subarray(at, cut));
          at = cut;
          maxBuffered = Math.max(maxBuffered, parser.bufferedBytes);
        }
        expect(errors).toBeLessThanOrEqual(1);
        // An incomplete head (or a chunk line of 4 KiB at most) is all the parser ever holds after a push.
        expect(maxBuffered).toBeLessThanOrEqual(Math.max(small.maxHeadBytes + 2, 4096));
      }),
      { numRuns: 500 },
    );
  });
});
