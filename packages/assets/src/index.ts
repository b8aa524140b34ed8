/**
 * @uos/assets: files embedded in a uOS image, and a static file server for them.
 *
 * `uos build` embeds a service's `public/` folder (or the folder `"uos": { "assets": "…" }` names in its
 * package.json) as payload section 5: each file's bytes, Content-Type, a strong ETag, and gzip and
 * brotli variants made on the host when they are smaller. A service reads them with `assets.get(path)`
 * and `assets.list()`, and serves them with `serveStatic(options)`, a fetch-API handler (for Hono:
 * `@uos/assets/hono`): ETag and If-None-Match (304), Accept-Encoding negotiation with Vary, one byte
 * range (206/416), index files, an optional single-page-app fallback, and 400 for paths that try to
 * leave the folder.
 *
 * ```ts
 * import { assets, serveStatic } from '@uos/assets';
 * const files = serveStatic({ fallback: 'index.html' });
 * const fetch = (request: Request) => files(request) ?? new Response('not found', { status: 404 });
 * console.log(assets.list().map((a) => `${a.path} ${a.size}`));
 * ```
 *
 * Invariants: the files are read from the image's own read-only pages, never copied to serve them
 * (`asset.view()`), and copied only on request (`asset.bytes()`); an image that does not import this
 * package carries none of it (the section is data the kernel never reads); a request never throws:
 * paths are decoded once and checked segment by segment before any lookup.
 */
export { assets, embeddedAssets, AssetSet } from './asset-set.js';
export type { Asset, AssetRepresentation } from './asset-set.js';
export { serveStatic } from './serve-static.js';
export type { ServeStaticOptions, StaticHandler, StaticRequest } from './serve-static.js';
export { chooseEncoding, noneMatch, ifRangeAllows, parseRange } from './negotiation.js';
export type { RangeRequest } from './negotiation.js';
export type { AssetEncoding } from './format.js';
export { AssetsError } from './errors.js';
export type { AssetsErrorCode } from './errors.js';
