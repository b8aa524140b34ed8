/**
 * @uos/http: a strict HTTP/1.1 server for uOS images on the web-standard fetch API, so that routers and
 * middleware written for it (Hono, ...) run in an image as they are.
 *
 * `serve({ inet, port, fetch })` listens on a @uos/net stack and hands each request to
 * `fetch(request, env, ctx)` as a WHATWG Request; the Response it returns is written with Content-Length
 * when its size is known, else chunked (HTTP/1.1) or close-delimited (1.0), pulled no faster than TCP
 * drains. The parser (`RequestParser`) takes bytes as TCP delivers them and reports each request the same
 * however the bytes were split. The web classes (Request, Response, Headers, URL, streams, ...) come from
 * `@uos/http/web`, which `uos build` injects wherever a bundle names one of them as a global.
 *
 * Invariants: nothing from the network throws: a request that cannot be parsed is refused with the status
 * its kind answers (400, 413, 414, 431, 501, 505) and the connection closed, and counted in statman
 * (`<ifname>.http.<port>.*`); every buffer, queue and wait has a limit (head, body, headers, connections,
 * timeouts); a handler that throws gets its client a 500, never a crash of the service; requests on a
 * connection are answered one at a time, in order.
 */
export { serve, HttpServerCore } from './server/http-server.js';
export { configureFromBootArguments, httpService } from './service/http-service.js';
export type { FetchApp, HttpServiceOptions } from './service/http-service.js';
export type { HttpServer, InetLike, ServeOptions, ServerClock } from './server/http-server.js';
export type { ExecutionContext, FetchHandler, HttpEnv, ResponseLike } from './server/http-connection.js';
export type { HttpSocket, SocketWriteResult } from './server/socket.js';
export { DEFAULT_LIMITS } from './server/limits.js';
export type { HttpLimits } from './server/limits.js';
export { HttpStat } from './server/stats.js';
export type { HttpStatName } from './server/stats.js';
export { RequestParser } from './parser/request-parser.js';
export type { HeadCache, ParserLimits, ParserSink } from './parser/request-parser.js';
export type { RequestHead } from './parser/head.js';
export { PARSE_ERROR_KINDS, PARSE_ERROR_STATUS } from './parser/syntax.js';
export type { ParseErrorKind } from './parser/syntax.js';
export { installBuiltins } from './web/builtins.js';
export { HttpError } from './errors.js';
export type { HttpErrorCode } from './errors.js';
