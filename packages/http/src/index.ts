/**
 * @uos/http: a strict HTTP/1.1 server for uOS images on the web-standard fetch API.
 *
 * The parser (`RequestParser`) takes bytes as TCP delivers them and reports each request's head, body
 * and end, the same however the bytes were split.
 *
 * Invariants: nothing from the network throws: a request that cannot be parsed is refused with the status
 * its kind answers (400, 413, 414, 431, 501, 505) and the connection closed; every buffer has a limit.
 */
export { RequestParser } from './parser/request-parser.js';
export type { ParserLimits, ParserSink } from './parser/request-parser.js';
export type { RequestHead } from './parser/head.js';
export { PARSE_ERROR_KINDS, PARSE_ERROR_STATUS } from './parser/syntax.js';
export type { ParseErrorKind } from './parser/syntax.js';
export { HttpError } from './errors.js';
export type { HttpErrorCode } from './errors.js';
