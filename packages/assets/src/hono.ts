/**
 * `@uos/assets/hono`: the static file server as Hono middleware. A request it has a file for gets the
 * file (or 304, 206, 416, 400); any other request goes on to the next handler.
 *
 * ```ts
 * import { serveStatic } from '@uos/assets/hono';
 * app.use('/static/*', serveStatic({ prefix: '/static' }));
 * app.get('*', serveStatic({ fallback: 'index.html' })); // a single-page app's routes
 * ```
 */
import type { MiddlewareHandler } from 'hono';
import { type ServeStaticOptions, serveStatic as staticHandler } from './serve-static.js';

export type { ServeStaticOptions } from './serve-static.js';

/** Hono middleware over `serveStatic` from `@uos/assets` (the same options). */
export function serveStatic(options: ServeStaticOptions = {}): MiddlewareHandler {
  const handle = staticHandler(options);
  return async (c, next) => {
    const response = handle(c.req.raw);
    if (response) return response;
    await next();
  };
}
