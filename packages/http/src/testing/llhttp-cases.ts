/**
 * The request cases of llhttp's test corpus (test/request/*.md in nodejs/llhttp, MIT), strict mode only
 * (its lenient modes and pause points are left out), written as this parser's expectations: each input
 * (one character per byte), the requests whose head completed (header values with their surrounding
 * whitespace trimmed), and the error kind where the parser refuses. `llhttp` records llhttp's own error
 * where it has one; `note` says where and why this parser differs by design.
 */
import type { ParseErrorKind } from '../parser/syntax.js';

export interface ExpectedMessage {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: [string, string][];
  body?: string;
  /** False when the body has not all arrived. */
  complete?: boolean;
  /** False when the connection closes after this request. */
  keepAlive?: boolean;
}

export interface ConformanceCase {
  name: string;
  input: string;
  messages: ExpectedMessage[];
  error?: ParseErrorKind;
  llhttp?: string;
  note?: string;
}

export const LLHTTP_CASES: ConformanceCase[] = [
  {
    name: 'connection: Setting flag',
    input: 'PUT /url HTTP/1.1\r\nConnection: keep-alive\r\n\r\n',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Connection', 'keep-alive']] }],
  },
  {
    name: 'connection: Restarting when keep-alive is explicitly',
    input: 'PUT /url HTTP/1.1\r\nConnection: keep-alive\r\n\r\nPUT /url HTTP/1.1\r\nConnection: keep-alive\r\n\r\n',
    messages: [
      { method: 'PUT', target: '/url', version: '1.1', headers: [['Connection', 'keep-alive']] },
      { method: 'PUT', target: '/url', version: '1.1', headers: [['Connection', 'keep-alive']] },
    ],
  },
  {
    name: 'connection: No restart when keep-alive is off (1.0)',
    input: 'PUT /url HTTP/1.0\r\n\r\nPUT /url HTTP/1.1\r\n\r\n',
    messages: [
      { method: 'PUT', target: '/url', version: '1.0', headers: [], keepAlive: false },
      { method: 'PUT', target: '/url', version: '1.1', headers: [] },
    ],
    llhttp: 'Data after `Connection: close`',
    note: 'llhttp refuses data after a message that ends the connection; this parser reads on and the server stops: it closes after answering the first',
  },
  {
    name: 'connection: CRLF between requests, implicit `keep-alive`',
    input:
      'POST / HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n\r\nq=42\r\n\r\nGET / HTTP/1.1',
    messages: [
      {
        method: 'POST',
        target: '/',
        version: '1.1',
        headers: [
          ['Host', 'www.example.com'],
          ['Content-Type', 'application/x-www-form-urlencoded'],
          ['Content-Length', '4'],
        ],
        body: 'q=42',
      },
    ],
  },
  {
    name: 'connection: Not treating `\\r` as `-`',
    input: 'PUT /url HTTP/1.1\r\nConnection: keep\ralive\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Missing expected LF after header value',
  },
  {
    name: 'connection: Setting flag on `close`',
    input: 'PUT /url HTTP/1.1\r\nConnection: close\r\n\r\n',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Connection', 'close']], keepAlive: false }],
  },
  {
    name: 'connection: Setting flag on `close` followed by tab',
    input: 'PUT /url HTTP/1.1\r\nConnection: close\t\r\n\r\n',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Connection', 'close']], keepAlive: false }],
    note: 'field values lose their surrounding whitespace (RFC 9110 §5.5)',
  },
  {
    name: 'connection: CRLF between requests, explicit `close`',
    input:
      'POST / HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\nConnection: close\r\n\r\nq=42\r\n\r\nGET / HTTP/1.1',
    messages: [
      {
        method: 'POST',
        target: '/',
        version: '1.1',
        headers: [
          ['Host', 'www.example.com'],
          ['Content-Type', 'application/x-www-form-urlencoded'],
          ['Content-Length', '4'],
          ['Connection', 'close'],
        ],
        body: 'q=42',
        keepAlive: false,
      },
    ],
    llhttp: 'Data after `Connection: close`',
    note: 'the server closes after the first response and never reads the second request',
  },
  {
    name: 'connection: CRLF between requests, explicit `close` followed by tab',
    input:
      'POST / HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\nConnection: close\t\r\n\r\nq=42\r\n\r\nGET / HTTP/1.1',
    messages: [
      {
        method: 'POST',
        target: '/',
        version: '1.1',
        headers: [
          ['Host', 'www.example.com'],
          ['Content-Type', 'application/x-www-form-urlencoded'],
          ['Content-Length', '4'],
          ['Connection', 'close'],
        ],
        body: 'q=42',
        keepAlive: false,
      },
    ],
    llhttp: 'Data after `Connection: close`',
    note: 'field values lose their surrounding whitespace (RFC 9110 §5.5); the server closes after the first response',
  },
  {
    name: 'connection: Sample',
    input: 'PUT /url HTTP/1.1\r\nConnection: close, token, upgrade, token, keep-alive\r\n\r\n',
    messages: [
      {
        method: 'PUT',
        target: '/url',
        version: '1.1',
        headers: [['Connection', 'close, token, upgrade, token, keep-alive']],
        keepAlive: false,
      },
    ],
  },
  {
    name: 'connection: Multiple tokens with folding and LWS',
    input: 'GET /demo HTTP/1.1\r\nConnection: keep-alive, upgrade\r\nUpgrade: WebSocket\r\n\r\nHot diggity dogg\r\n\r\n',
    messages: [
      {
        method: 'GET',
        target: '/demo',
        version: '1.1',
        headers: [
          ['Connection', 'keep-alive, upgrade'],
          ['Upgrade', 'WebSocket'],
        ],
      },
    ],
    error: 'invalid_request_line',
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no protocol upgrades: the request is answered as an ordinary one and what follows is read as HTTP (RFC 9110 §7.8 lets a server ignore Upgrade)',
  },
  {
    name: 'connection: Invalid whitespace token with `Connection` header field',
    input: 'PUT /url HTTP/1.1\r\nConnection : upgrade\r\nContent-Length: 4\r\nUpgrade: ws\r\n\r\nabcdefgh',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header field char',
  },
  {
    name: 'connection: Setting a flag and pausing',
    input: 'PUT /url HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\n',
    messages: [
      {
        method: 'PUT',
        target: '/url',
        version: '1.1',
        headers: [
          ['Connection', 'upgrade'],
          ['Upgrade', 'ws'],
        ],
      },
    ],
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no protocol upgrades: answered as an ordinary request',
  },
  {
    name: 'connection: Emitting part of body and pausing',
    input: 'PUT /url HTTP/1.1\r\nConnection: upgrade\r\nContent-Length: 4\r\nUpgrade: ws\r\n\r\nabcdefgh\r\n\r\n',
    messages: [
      {
        method: 'PUT',
        target: '/url',
        version: '1.1',
        headers: [
          ['Connection', 'upgrade'],
          ['Content-Length', '4'],
          ['Upgrade', 'ws'],
        ],
        body: 'abcd',
      },
    ],
    error: 'invalid_request_line',
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no protocol upgrades: the body is the declared 4 bytes and the rest starts the next request',
  },
  {
    name: 'connection: Upgrade GET request',
    input:
      'GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nSec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nOrigin: http://example.com\r\n\r\nHot diggity dogg\r\n\r\n',
    messages: [
      {
        method: 'GET',
        target: '/demo',
        version: '1.1',
        headers: [
          ['Host', 'example.com'],
          ['Connection', 'Upgrade'],
          ['Sec-WebSocket-Key2', '12998 5 Y3 1  .P00'],
          ['Sec-WebSocket-Protocol', 'sample'],
          ['Upgrade', 'WebSocket'],
          ['Sec-WebSocket-Key1', '4 @1  46546xW%0l 1 5'],
          ['Origin', 'http://example.com'],
        ],
      },
    ],
    error: 'invalid_request_line',
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no protocol upgrades: answered as an ordinary request; the bytes after the head start the next request',
  },
  {
    name: 'connection: Upgrade POST request',
    input:
      'POST /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: HTTP/2.0\r\nContent-Length: 15\r\n\r\nsweet post bodyHot diggity dogg\r\n\r\n',
    messages: [
      {
        method: 'POST',
        target: '/demo',
        version: '1.1',
        headers: [
          ['Host', 'example.com'],
          ['Connection', 'Upgrade'],
          ['Upgrade', 'HTTP/2.0'],
          ['Content-Length', '15'],
        ],
        body: 'sweet post body',
      },
    ],
    error: 'invalid_request_line',
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no protocol upgrades: the declared body, then the rest starts the next request',
  },
  {
    name: 'content-length: `Content-Length` with zeroes',
    input: 'PUT /url HTTP/1.1\r\nContent-Length: 003\r\n\r\nabc',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Content-Length', '003']], body: 'abc' }],
  },
  {
    name: 'content-length: `Content-Length` with follow-up headers',
    input: 'PUT /url HTTP/1.1\r\nContent-Length: 003\r\nOhai: world\r\n\r\nabc',
    messages: [
      {
        method: 'PUT',
        target: '/url',
        version: '1.1',
        headers: [
          ['Content-Length', '003'],
          ['Ohai', 'world'],
        ],
        body: 'abc',
      },
    ],
  },
  {
    name: 'content-length: Error on `Content-Length` overflow',
    input: 'PUT /url HTTP/1.1\r\nContent-Length: 1000000000000000000000\r\n\r\n',
    messages: [],
    error: 'invalid_content_length',
    llhttp: 'Content-Length overflow',
    note: 'the input ends inside the head, where llhttp already fails on the field; here completed with the empty line, since this parser judges a head once it is whole',
  },
  {
    name: 'content-length: Error on duplicate `Content-Length`',
    input: 'PUT /url HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    messages: [],
    error: 'invalid_content_length',
    llhttp: 'Duplicate Content-Length',
    note: 'the input ends inside the head, where llhttp already fails on the field; here completed with the empty line, since this parser judges a head once it is whole',
  },
  {
    name: 'content-length: Error on simultaneous `Content-Length` and `Transfer-Encoding: identity`',
    input: 'PUT /url HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: identity\r\n\r\n',
    messages: [],
    error: 'conflicting_framing',
    llhttp: "Transfer-Encoding can't be present with Content-Length",
  },
  {
    name: 'content-length: Invalid whitespace token with `Content-Length` header field',
    input: 'PUT /url HTTP/1.1\r\nConnection: upgrade\r\nContent-Length : 4\r\nUpgrade: ws\r\n\r\nabcdefgh',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header field char',
  },
  {
    name: 'content-length: Funky `Content-Length` with body',
    input: 'GET /get_funky_content_length_body_hello HTTP/1.0\r\nconTENT-Length: 5\r\n\r\nHELLO',
    messages: [
      {
        method: 'GET',
        target: '/get_funky_content_length_body_hello',
        version: '1.0',
        headers: [['conTENT-Length', '5']],
        body: 'HELLO',
        keepAlive: false,
      },
    ],
  },
  {
    name: 'content-length: Spaces in `Content-Length` (surrounding)',
    input: 'POST / HTTP/1.1\r\nContent-Length:  42 \r\n\r\n',
    messages: [{ method: 'POST', target: '/', version: '1.1', headers: [['Content-Length', '42']], complete: false }],
    note: 'field values lose their surrounding whitespace (RFC 9110 §5.5); the head is complete, the body not yet',
  },
  {
    name: 'content-length: Tabs in `Content-Length` (surrounding)',
    input: 'POST / HTTP/1.1\r\nContent-Length:\t42\t  \r\n\r\n',
    messages: [{ method: 'POST', target: '/', version: '1.1', headers: [['Content-Length', '42']], complete: false }],
    note: 'field values lose their surrounding whitespace (RFC 9110 §5.5); the head is complete, the body not yet',
  },
  {
    name: 'content-length: Spaces in `Content-Length` #2',
    input: 'POST / HTTP/1.1\r\nContent-Length: 4 2\r\n\r\n',
    messages: [],
    error: 'invalid_content_length',
    llhttp: 'Invalid character in Content-Length',
  },
  {
    name: 'content-length: Spaces in `Content-Length` #3',
    input: 'POST / HTTP/1.1\r\nContent-Length: 13 37\r\n\r\n',
    messages: [],
    error: 'invalid_content_length',
    llhttp: 'Invalid character in Content-Length',
  },
  {
    name: 'content-length: Empty `Content-Length`',
    input: 'POST / HTTP/1.1\r\nContent-Length:\r\n\r\n',
    messages: [],
    error: 'invalid_content_length',
    llhttp: 'Empty Content-Length',
  },
  {
    name: 'content-length: `Content-Length` with CR instead of dash',
    input: 'PUT /url HTTP/1.1\r\nContent\rLength: 003\r\n\r\nabc',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header token',
  },
  {
    name: 'content-length: Missing CRLF-CRLF before body',
    input: 'PUT /url HTTP/1.1\r\nContent-Length: 3\r\n\rabc\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Expected LF after headers',
    note: 'the input ends inside the head, where llhttp already fails on the field; here completed with the empty line, since this parser judges a head once it is whole',
  },
  {
    name: 'invalid: ICE protocol and GET method',
    input: 'GET /music/sweet/music ICE/1.0\r\nHost: example.com\r\n\r\n',
    messages: [],
    error: 'invalid_request_line',
    llhttp: 'Expected SOURCE method for ICE/x.x request',
  },
  {
    name: 'invalid: ICE protocol, but not really',
    input: 'GET /music/sweet/music IHTTP/1.0\r\nHost: example.com\r\n\r\n',
    messages: [],
    error: 'invalid_request_line',
    llhttp: 'Expected HTTP/, RTSP/ or ICE/',
  },
  {
    name: 'invalid: RTSP protocol and PUT method',
    input: 'PUT /music/sweet/music RTSP/1.0\r\nHost: example.com\r\n\r\n',
    messages: [],
    error: 'invalid_request_line',
    llhttp: 'Invalid method for RTSP/x.x request',
  },
  {
    name: 'invalid: HTTP protocol and ANNOUNCE method',
    input: 'ANNOUNCE /music/sweet/music HTTP/1.0\r\nHost: example.com\r\n\r\n',
    messages: [{ method: 'ANNOUNCE', target: '/music/sweet/music', version: '1.0', headers: [['Host', 'example.com']], keepAlive: false }],
    llhttp: 'Invalid method for HTTP/x.x request',
    note: 'any token is a method (RFC 9110 §9.1, extension methods); llhttp knows a fixed list per protocol',
  },
  {
    name: 'invalid: Headers separated by CR',
    input: 'GET / HTTP/1.1\r\nFoo: 1\rBar: 2\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Missing expected LF after header value',
  },
  {
    name: 'invalid: Headers separated by LF',
    input: 'POST / HTTP/1.1\r\nHost: localhost:5000\r\nx:x\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n',
    messages: [],
    error: 'bare_lf',
    llhttp: 'Missing expected CR after header value',
  },
  {
    name: 'invalid: Headers separated by dummy characters',
    input: 'GET / HTTP/1.1\r\nConnection: close\r\nHost: a\r\n\rZGET /evil: HTTP/1.1\r\nHost: a\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Expected LF after headers',
    note: 'the input ends inside the head, where llhttp already fails on the field; here completed with the empty line, since this parser judges a head once it is whole',
  },
  {
    name: 'invalid: Empty headers separated by CR',
    input: 'POST / HTTP/1.1\r\nConnection: Close\r\nHost: localhost:5000\r\nx:\rTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Expected LF after CR',
  },
  {
    name: 'invalid: Empty headers separated by LF',
    input: 'POST / HTTP/1.1\r\nHost: localhost:5000\r\nx:\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n',
    messages: [],
    error: 'bare_lf',
    llhttp: 'Invalid header value char',
  },
  {
    name: 'invalid: Invalid header token #1',
    input: 'GET / HTTP/1.1\r\nFo@: Failure\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header token',
  },
  {
    name: 'invalid: Invalid header token #2',
    input: 'GET / HTTP/1.1\r\nFoo\u0001\test: Bar\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header token',
  },
  {
    name: 'invalid: Invalid header token #3',
    input: 'GET / HTTP/1.1\r\n: Bar\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header token',
  },
  {
    name: 'invalid: Invalid method',
    input: 'MKCOLA / HTTP/1.1\r\n\r\n',
    messages: [{ method: 'MKCOLA', target: '/', version: '1.1', headers: [] }],
    llhttp: 'Expected space after method',
    note: 'any token is a method (RFC 9110 §9.1); the handler decides what it serves',
  },
  {
    name: 'invalid: Illegal header field name line folding',
    input: 'GET / HTTP/1.1\r\nname\r\n : value\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header token',
  },
  {
    name: 'invalid: Corrupted Connection header',
    input: 'GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection\r\u001b5\xc3\x95eep-Alive\r\nAccept-Encoding: gzip\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header token',
  },
  {
    name: 'invalid: Corrupted header name',
    input: 'GET / HTTP/1.1\r\nHost: www.example.com\r\nX-Some-Header\r\u001b5\xc3\x95eep-Alive\r\nAccept-Encoding: gzip\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Invalid header token',
  },
  {
    name: 'invalid: Invalid HTTP version',
    input: 'GET / HTTP/5.6\r\n\r\n',
    messages: [],
    error: 'unsupported_version',
    llhttp: 'Invalid HTTP version',
    note: 'the input ends inside the head, where llhttp already fails on the field; here completed with the empty line, since this parser judges a head once it is whole',
  },
  {
    name: 'invalid: Invalid space after start line',
    input: 'GET / HTTP/1.1\r\n Host: foo\r\n\r\n',
    messages: [],
    error: 'invalid_header',
    llhttp: 'Unexpected space after start line',
    note: 'the input ends inside the head, where llhttp already fails on the field; here completed with the empty line, since this parser judges a head once it is whole',
  },
  {
    name: 'invalid: Only LFs present',
    input:
      'POST / HTTP/1.1\nTransfer-Encoding: chunked\nTrailer: Baz\r\nFoo: abc\nBar: def\n\n1\nA\n1;abc\nB\n1;def=ghi\nC\n1;jkl="mno"\nD\n0\n\nBaz: ghi\n\n\\',
    messages: [],
    error: 'bare_lf',
    llhttp: 'Expected CRLF after version',
  },
  {
    name: 'method: REPORT request',
    input: 'REPORT /test HTTP/1.1\r\n\r\n',
    messages: [{ method: 'REPORT', target: '/test', version: '1.1', headers: [] }],
  },
  {
    name: 'method: CONNECT request',
    input:
      'CONNECT 0-home0.netscape.com:443 HTTP/1.0\r\nUser-agent: Mozilla/1.1N\r\nProxy-authorization: basic aGVsbG86d29ybGQ=\r\n\r\nsome data\r\nand yet even more data',
    messages: [],
    error: 'not_implemented',
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no tunnels: CONNECT answers 501',
  },
  {
    name: 'method: CONNECT request with CAPS',
    input: 'CONNECT HOME0.NETSCAPE.COM:443 HTTP/1.0\r\nUser-agent: Mozilla/1.1N\r\nProxy-authorization: basic aGVsbG86d29ybGQ=\r\n\r\n',
    messages: [],
    error: 'not_implemented',
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no tunnels: CONNECT answers 501',
  },
  {
    name: 'method: CONNECT with body',
    input:
      'CONNECT foo.bar.com:443 HTTP/1.0\r\nUser-agent: Mozilla/1.1N\r\nProxy-authorization: basic aGVsbG86d29ybGQ=\r\nContent-Length: 10\r\n\r\nblarfcicle"',
    messages: [],
    error: 'not_implemented',
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no tunnels: CONNECT answers 501',
  },
  {
    name: 'method: M-SEARCH request',
    input: 'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nST: "ssdp:all"\r\n\r\n',
    messages: [],
    error: 'not_implemented',
    note: 'the asterisk-form target (server-wide OPTIONS) answers 501',
  },
  {
    name: 'method: PATCH request',
    input:
      'PATCH /file.txt HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/example\r\nIf-Match: "e0023aa4e"\r\nContent-Length: 10\r\n\r\ncccccccccc',
    messages: [
      {
        method: 'PATCH',
        target: '/file.txt',
        version: '1.1',
        headers: [
          ['Host', 'www.example.com'],
          ['Content-Type', 'application/example'],
          ['If-Match', '"e0023aa4e"'],
          ['Content-Length', '10'],
        ],
        body: 'cccccccccc',
      },
    ],
  },
  {
    name: 'method: PURGE request',
    input: 'PURGE /file.txt HTTP/1.1\r\nHost: www.example.com\r\n\r\n',
    messages: [{ method: 'PURGE', target: '/file.txt', version: '1.1', headers: [['Host', 'www.example.com']] }],
  },
  {
    name: 'method: SEARCH request',
    input: 'SEARCH / HTTP/1.1\r\nHost: www.example.com\r\n\r\n',
    messages: [{ method: 'SEARCH', target: '/', version: '1.1', headers: [['Host', 'www.example.com']] }],
  },
  {
    name: 'method: LINK request',
    input:
      'LINK /images/my_dog.jpg HTTP/1.1\r\nHost: example.com\r\nLink: <http://example.com/profiles/joe>; rel="tag"\r\nLink: <http://example.com/profiles/sally>; rel="tag"\r\n\r\n',
    messages: [
      {
        method: 'LINK',
        target: '/images/my_dog.jpg',
        version: '1.1',
        headers: [
          ['Host', 'example.com'],
          ['Link', '<http://example.com/profiles/joe>; rel="tag"'],
          ['Link', '<http://example.com/profiles/sally>; rel="tag"'],
        ],
      },
    ],
  },
  {
    name: 'method: LINK request',
    input: 'UNLINK /images/my_dog.jpg HTTP/1.1\r\nHost: example.com\r\nLink: <http://example.com/profiles/sally>; rel="tag"\r\n\r\n',
    messages: [
      {
        method: 'UNLINK',
        target: '/images/my_dog.jpg',
        version: '1.1',
        headers: [
          ['Host', 'example.com'],
          ['Link', '<http://example.com/profiles/sally>; rel="tag"'],
        ],
      },
    ],
  },
  {
    name: 'method: SOURCE request',
    input: 'SOURCE /music/sweet/music HTTP/1.1\r\nHost: example.com\r\n\r\n',
    messages: [{ method: 'SOURCE', target: '/music/sweet/music', version: '1.1', headers: [['Host', 'example.com']] }],
  },
  {
    name: 'method: SOURCE request with ICE',
    input: 'SOURCE /music/sweet/music ICE/1.0\r\nHost: example.com\r\n\r\n',
    messages: [],
    error: 'invalid_request_line',
    note: 'HTTP only: ICE/1.0 is not an HTTP version',
  },
  {
    name: 'method: OPTIONS request with RTSP',
    input: 'OPTIONS /music/sweet/music RTSP/1.0\r\nHost: example.com\r\n\r\n',
    messages: [],
    error: 'invalid_request_line',
    note: 'HTTP only: RTSP/1.0 is not an HTTP version',
  },
  {
    name: 'method: ANNOUNCE request with RTSP',
    input: 'ANNOUNCE /music/sweet/music RTSP/1.0\r\nHost: example.com\r\n\r\n',
    messages: [],
    error: 'invalid_request_line',
    note: 'HTTP only: RTSP/1.0 is not an HTTP version',
  },
  {
    name: 'method: PRI request HTTP2',
    input: 'PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n',
    messages: [],
    error: 'not_implemented',
    llhttp: 'Pause on PRI/Upgrade',
  },
  {
    name: 'method: QUERY request',
    input:
      'QUERY /contacts HTTP/1.1\r\nHost: example.org\r\nContent-Type: example/query\r\nAccept: text/csv\r\nContent-Length: 41\r\n\r\nselect surname, givenname, email limit 10',
    messages: [
      {
        method: 'QUERY',
        target: '/contacts',
        version: '1.1',
        headers: [
          ['Host', 'example.org'],
          ['Content-Type', 'example/query'],
          ['Accept', 'text/csv'],
          ['Content-Length', '41'],
        ],
        body: 'select surname, givenname, email limit 10',
      },
    ],
  },
  {
    name: 'pipelining: Should parse multiple events',
    input:
      'POST /aaa HTTP/1.1\r\nContent-Length: 3\r\n\r\nAAA\r\nPUT /bbb HTTP/1.1\r\nContent-Length: 4\r\n\r\nBBBB\r\nPATCH /ccc HTTP/1.1\r\nContent-Length: 5\r\n\r\nCCCC',
    messages: [
      { method: 'POST', target: '/aaa', version: '1.1', headers: [['Content-Length', '3']], body: 'AAA' },
      { method: 'PUT', target: '/bbb', version: '1.1', headers: [['Content-Length', '4']], body: 'BBBB' },
      { method: 'PATCH', target: '/ccc', version: '1.1', headers: [['Content-Length', '5']], body: 'CCCC', complete: false },
    ],
  },
  {
    name: 'sample: Simple request',
    input: 'OPTIONS /url HTTP/1.1\r\nHeader1: Value1\r\nHeader2:\t Value2\r\n\r\n',
    messages: [
      {
        method: 'OPTIONS',
        target: '/url',
        version: '1.1',
        headers: [
          ['Header1', 'Value1'],
          ['Header2', 'Value2'],
        ],
      },
    ],
  },
  {
    name: 'sample: Request with method starting with `H`',
    input: 'HEAD /url HTTP/1.1\r\n\r\n',
    messages: [{ method: 'HEAD', target: '/url', version: '1.1', headers: [] }],
  },
  {
    name: 'sample: curl GET',
    input:
      'GET /test HTTP/1.1\r\nUser-Agent: curl/7.18.0 (i486-pc-linux-gnu) libcurl/7.18.0 OpenSSL/0.9.8g zlib/1.2.3.3 libidn/1.1\r\nHost: 0.0.0.0=5000\r\nAccept: */*\r\n\r\n',
    messages: [
      {
        method: 'GET',
        target: '/test',
        version: '1.1',
        headers: [
          ['User-Agent', 'curl/7.18.0 (i486-pc-linux-gnu) libcurl/7.18.0 OpenSSL/0.9.8g zlib/1.2.3.3 libidn/1.1'],
          ['Host', '0.0.0.0=5000'],
          ['Accept', '*/*'],
        ],
      },
    ],
  },
  {
    name: 'sample: Firefox GET',
    input:
      'GET /favicon.ico HTTP/1.1\r\nHost: 0.0.0.0=5000\r\nUser-Agent: Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9) Gecko/2008061015 Firefox/3.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-us,en;q=0.5\r\nAccept-Encoding: gzip,deflate\r\nAccept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\nKeep-Alive: 300\r\nConnection: keep-alive\r\n\r\n',
    messages: [
      {
        method: 'GET',
        target: '/favicon.ico',
        version: '1.1',
        headers: [
          ['Host', '0.0.0.0=5000'],
          ['User-Agent', 'Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9) Gecko/2008061015 Firefox/3.0'],
          ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
          ['Accept-Language', 'en-us,en;q=0.5'],
          ['Accept-Encoding', 'gzip,deflate'],
          ['Accept-Charset', 'ISO-8859-1,utf-8;q=0.7,*;q=0.7'],
          ['Keep-Alive', '300'],
          ['Connection', 'keep-alive'],
        ],
      },
    ],
  },
  {
    name: 'sample: DUMBPACK',
    input: 'GET /dumbpack HTTP/1.1\r\naaaaaaaaaaaaa:++++++++++\r\n\r\n',
    messages: [{ method: 'GET', target: '/dumbpack', version: '1.1', headers: [['aaaaaaaaaaaaa', '++++++++++']] }],
  },
  {
    name: 'sample: No headers and no body',
    input: 'GET /get_no_headers_no_body/world HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: '/get_no_headers_no_body/world', version: '1.1', headers: [] }],
  },
  {
    name: 'sample: One header and no body',
    input: 'GET /get_one_header_no_body HTTP/1.1\r\nAccept: */*\r\n\r\n',
    messages: [{ method: 'GET', target: '/get_one_header_no_body', version: '1.1', headers: [['Accept', '*/*']] }],
  },
  {
    name: 'sample: Apache bench GET',
    input: 'GET /test HTTP/1.0\r\nHost: 0.0.0.0:5000\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n',
    messages: [
      {
        method: 'GET',
        target: '/test',
        version: '1.0',
        headers: [
          ['Host', '0.0.0.0:5000'],
          ['User-Agent', 'ApacheBench/2.3'],
          ['Accept', '*/*'],
        ],
        keepAlive: false,
      },
    ],
  },
  {
    name: 'sample: Prefix newline',
    input: '\r\nGET /test HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: '/test', version: '1.1', headers: [] }],
  },
  {
    name: 'sample: No HTTP version',
    input: 'GET /\r\n\r\n',
    messages: [],
    error: 'invalid_request_line',
    note: 'HTTP/0.9 request lines (no version) are refused',
  },
  {
    name: 'sample: Request starting with CRLF',
    input: '\r\nGET /url HTTP/1.1\r\nHeader1: Value1\r\n\r\n',
    messages: [{ method: 'GET', target: '/url', version: '1.1', headers: [['Header1', 'Value1']] }],
  },
  {
    name: 'sample: Extended Characters',
    input: 'GET / HTTP/1.1\r\nTest: D\xc3\xbcsseldorf\r\n\r\n',
    messages: [{ method: 'GET', target: '/', version: '1.1', headers: [['Test', 'D\xc3\xbcsseldorf']] }],
  },
  {
    name: 'sample: 255 ASCII in header value',
    input: 'OPTIONS /url HTTP/1.1\r\nHeader1: Value1\r\nHeader2: \xc3\xbfValue2\r\n\r\n',
    messages: [
      {
        method: 'OPTIONS',
        target: '/url',
        version: '1.1',
        headers: [
          ['Header1', 'Value1'],
          ['Header2', '\xc3\xbfValue2'],
        ],
      },
    ],
  },
  {
    name: 'transfer-encoding: Parsing and setting flag',
    input: 'PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Transfer-Encoding', 'chunked']], complete: false }],
  },
  {
    name: 'transfer-encoding: Parse chunks with lowercase size',
    input: 'PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Transfer-Encoding', 'chunked']], body: '0123456789' }],
  },
  {
    name: 'transfer-encoding: Parse chunks with uppercase size',
    input: 'PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Transfer-Encoding', 'chunked']], body: '0123456789' }],
  },
  {
    name: 'transfer-encoding: POST with `Transfer-Encoding: chunked`',
    input:
      'POST /post_chunked_all_your_base HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1e\r\nall your base are belong to us\r\n0\r\n\r\n',
    messages: [
      {
        method: 'POST',
        target: '/post_chunked_all_your_base',
        version: '1.1',
        headers: [['Transfer-Encoding', 'chunked']],
        body: 'all your base are belong to us',
      },
    ],
  },
  {
    name: 'transfer-encoding: Two chunks and triple zero prefixed end chunk',
    input: 'POST /two_chunks_mult_zero_end HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n000\r\n\r\n',
    messages: [
      {
        method: 'POST',
        target: '/two_chunks_mult_zero_end',
        version: '1.1',
        headers: [['Transfer-Encoding', 'chunked']],
        body: 'hello world',
      },
    ],
  },
  {
    name: 'transfer-encoding: Trailing headers',
    input:
      'POST /chunked_w_trailing_headers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n',
    messages: [
      {
        method: 'POST',
        target: '/chunked_w_trailing_headers',
        version: '1.1',
        headers: [['Transfer-Encoding', 'chunked']],
        body: 'hello world',
      },
    ],
    note: 'trailer fields are checked like header fields, then dropped (a fetch Request has no trailers)',
  },
  {
    name: 'transfer-encoding: Chunk extensions',
    input:
      'POST /chunked_w_unicorns_after_length HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n',
    messages: [
      {
        method: 'POST',
        target: '/chunked_w_unicorns_after_length',
        version: '1.1',
        headers: [['Transfer-Encoding', 'chunked']],
        body: 'hello world',
        complete: false,
      },
    ],
  },
  {
    name: 'transfer-encoding: No semicolon before chunk extensions',
    input:
      'POST /chunked_w_unicorns_after_length HTTP/1.1\r\nHost: localhost\r\nTransfer-encoding: chunked\r\n\r\n2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n',
    messages: [
      {
        method: 'POST',
        target: '/chunked_w_unicorns_after_length',
        version: '1.1',
        headers: [
          ['Host', 'localhost'],
          ['Transfer-encoding', 'chunked'],
        ],
        complete: false,
      },
    ],
    error: 'invalid_chunk',
    llhttp: 'Invalid character in chunk size',
  },
  {
    name: 'transfer-encoding: No extension after semicolon',
    input: 'POST /chunked_w_unicorns_after_length HTTP/1.1\r\nHost: localhost\r\nTransfer-encoding: chunked\r\n\r\n2;\r\naa\r\n0\r\n\r\n',
    messages: [
      {
        method: 'POST',
        target: '/chunked_w_unicorns_after_length',
        version: '1.1',
        headers: [
          ['Host', 'localhost'],
          ['Transfer-encoding', 'chunked'],
        ],
        complete: false,
      },
    ],
    error: 'invalid_chunk',
    llhttp: 'Invalid character in chunk extensions',
  },
  {
    name: 'transfer-encoding: Chunk extensions quoting',
    input:
      'POST /chunked_w_unicorns_after_length HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ilovew3="I \\"love\\"; \\\\extensions\\\\";somuchlove="aretheseparametersfor";blah;foo=bar\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n',
    messages: [
      {
        method: 'POST',
        target: '/chunked_w_unicorns_after_length',
        version: '1.1',
        headers: [['Transfer-Encoding', 'chunked']],
        body: 'hello world',
        complete: false,
      },
    ],
  },
  {
    name: 'transfer-encoding: Unbalanced chunk extensions quoting',
    input:
      'POST /chunked_w_unicorns_after_length HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ilovew3="abc";somuchlove="def; ghi\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n',
    messages: [
      {
        method: 'POST',
        target: '/chunked_w_unicorns_after_length',
        version: '1.1',
        headers: [['Transfer-Encoding', 'chunked']],
        complete: false,
      },
    ],
    error: 'invalid_chunk',
    llhttp: 'Invalid character in chunk extensions quoted value',
  },
  {
    name: 'transfer-encoding: Ignoring `pigeons`',
    input: 'PUT /url HTTP/1.1\r\nTransfer-Encoding: pigeons\r\n\r\n',
    messages: [],
    error: 'invalid_transfer_encoding',
    llhttp: 'Request has invalid `Transfer-Encoding`',
  },
  {
    name: 'transfer-encoding: POST with `Transfer-Encoding` and `Content-Length`',
    input:
      'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nWorld',
    messages: [],
    error: 'conflicting_framing',
    llhttp: "Content-Length can't be present with Transfer-Encoding",
  },
  {
    name: 'transfer-encoding: POST with empty `Transfer-Encoding` and `Content-Length` (lenient)',
    input:
      'POST / HTTP/1.1\r\nHost: foo\r\nContent-Length: 10\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\n\r\n2\r\nAA\r\n0',
    messages: [],
    error: 'conflicting_framing',
    llhttp: "Transfer-Encoding can't be present with Content-Length",
  },
  {
    name: 'transfer-encoding: POST with `chunked` before other transfer coding names',
    input: 'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: chunked, deflate\r\n\r\nWorld',
    messages: [],
    error: 'invalid_transfer_encoding',
    llhttp: 'Invalid `Transfer-Encoding` header value',
  },
  {
    name: 'transfer-encoding: POST with `chunked` and duplicate transfer-encoding',
    input:
      'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: deflate\r\n\r\nWorld',
    messages: [],
    error: 'invalid_transfer_encoding',
    llhttp: 'Invalid `Transfer-Encoding` header value',
  },
  {
    name: 'transfer-encoding: POST with `chunked` as last transfer-encoding',
    input:
      'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: deflate, chunked\r\n\r\n5\r\nWorld\r\n0\r\n\r\n',
    messages: [],
    error: 'unsupported_transfer_coding',
    note: 'no transfer codings but chunked are decoded: 501',
  },
  {
    name: 'transfer-encoding: POST with `chunked` as last transfer-encoding (multiple headers)',
    input:
      'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nWorld\r\n0\r\n\r\n',
    messages: [],
    error: 'unsupported_transfer_coding',
    note: 'no transfer codings but chunked are decoded: 501',
  },
  {
    name: 'transfer-encoding: POST with `chunkedchunked` as transfer-encoding',
    input:
      'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: chunkedchunked\r\n\r\n5\r\nWorld\r\n0\r\n\r\n',
    messages: [],
    error: 'invalid_transfer_encoding',
    llhttp: 'Request has invalid `Transfer-Encoding`',
  },
  {
    name: 'transfer-encoding: Missing last-chunk',
    input: 'PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nfoo\r\n\r\n',
    messages: [
      { method: 'PUT', target: '/url', version: '1.1', headers: [['Transfer-Encoding', 'chunked']], body: 'foo', complete: false },
    ],
    error: 'invalid_chunk',
    llhttp: 'Invalid character in chunk size',
  },
  {
    name: 'transfer-encoding: Validate chunk parameters',
    input: 'PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3 \n  \r\nfoo\r\n\r\n',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Transfer-Encoding', 'chunked']], complete: false }],
    error: 'bare_lf',
    llhttp: 'Invalid character in chunk size',
  },
  {
    name: 'transfer-encoding: Space after chunk header',
    input: 'PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na \r\n0123456789\r\n0\r\n\r\n',
    messages: [{ method: 'PUT', target: '/url', version: '1.1', headers: [['Transfer-Encoding', 'chunked']], complete: false }],
    error: 'invalid_chunk',
    llhttp: 'Invalid character in chunk size',
  },
  {
    name: 'uri: Quotes in URI',
    input: 'GET /with_"lovely"_quotes?foo=\\"bar\\" HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: '/with_"lovely"_quotes?foo=\\"bar\\"', version: '1.1', headers: [] }],
  },
  {
    name: 'uri: Query URL with question mark',
    input: 'GET /test.cgi?foo=bar?baz HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: '/test.cgi?foo=bar?baz', version: '1.1', headers: [] }],
  },
  {
    name: 'uri: Host terminated by a query string',
    input: 'GET http://hypnotoad.org?hail=all HTTP/1.1\r\n\r\n\r\n',
    messages: [{ method: 'GET', target: 'http://hypnotoad.org?hail=all', version: '1.1', headers: [] }],
  },
  {
    name: 'uri: `host:port` terminated by a query string',
    input: 'GET http://hypnotoad.org:1234?hail=all HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: 'http://hypnotoad.org:1234?hail=all', version: '1.1', headers: [] }],
  },
  {
    name: 'uri: Query URL with vertical bar character',
    input: 'GET /test.cgi?query=| HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: '/test.cgi?query=|', version: '1.1', headers: [] }],
  },
  {
    name: 'uri: `host:port` terminated by a space',
    input: 'GET http://hypnotoad.org:1234 HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: 'http://hypnotoad.org:1234', version: '1.1', headers: [] }],
  },
  {
    name: 'uri: Disallow UTF-8 in URI path in strict mode',
    input: 'GET /\xce\xb4\xc2\xb6/\xce\xb4t/pope?q=1#narf HTTP/1.1\r\nHost: github.com\r\n\r\n',
    messages: [],
    error: 'invalid_target',
    llhttp: 'Invalid char in url path',
  },
  {
    name: 'uri: Fragment in URI',
    input: 'GET /forums/1/topics/2375?page=1#posts-17408 HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: '/forums/1/topics/2375?page=1#posts-17408', version: '1.1', headers: [] }],
  },
  {
    name: 'uri: Underscore in hostname',
    input: 'CONNECT home_0.netscape.com:443 HTTP/1.0\r\nUser-agent: Mozilla/1.1N\r\nProxy-authorization: basic aGVsbG86d29ybGQ=\r\n\r\n',
    messages: [],
    error: 'not_implemented',
    llhttp: 'Pause on CONNECT/Upgrade',
    note: 'no tunnels: CONNECT answers 501',
  },
  {
    name: 'uri: `host:port` and basic auth',
    input: 'GET http://a%12:b!&*$@hypnotoad.org:1234/toto HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: 'http://a%12:b!&*$@hypnotoad.org:1234/toto', version: '1.1', headers: [] }],
  },
  {
    name: 'uri: Space in URI',
    input: 'GET /foo bar/ HTTP/1.1\r\n\r\n',
    messages: [],
    error: 'invalid_request_line',
    llhttp: 'Expected HTTP/, RTSP/ or ICE/',
  },
  {
    name: 'finish: It should be safe to finish after GET request',
    input: 'GET / HTTP/1.1\r\n\r\n',
    messages: [{ method: 'GET', target: '/', version: '1.1', headers: [] }],
  },
  {
    name: 'finish: It should be unsafe to finish after incomplete PUT request',
    input: 'PUT / HTTP/1.1\r\nContent-Length: 100\r\n',
    messages: [],
    note: 'the head is not complete: nothing is reported yet',
  },
  {
    name: 'finish: It should be unsafe to finish inside of the header',
    input: 'PUT / HTTP/1.1\r\nContent-Leng',
    messages: [],
    note: 'the head is not complete: nothing is reported yet',
  },
];
