import { type Asset, type AssetRepresentation, type AssetSet, embeddedAssets } from './asset-set.js';
import { AssetsError } from './errors.js';
import { chooseEncoding, ifRangeAllows, noneMatch, parseRange } from './negotiation.js';

/** What serveStatic reads of a request: a WHATWG Request fits (uOS's, Node's, a browser's). */
export interface StaticRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
}

export interface ServeStaticOptions {
  /** The files to serve (default: the image's embedded assets). */
  assets?: AssetSet;
  /** The URL path the files are served under (default `/`): `/static` serves `/static/app.js` from `app.js`. */
  prefix?: string;
  /** A folder inside the asset set to serve from (default: all of it). */
  root?: string;
  /** Files that answer a request for a directory, tried in order (default `['index.html']`; `[]` for none). */
  index?: readonly string[];
  /**
   * An asset that answers GET and HEAD requests no file matched, when the path's last segment has no dot
   * (a route of a single-page app, not a missing file): `fallback: 'index.html'`. Default: none.
   */
  fallback?: string;
  /** Cache-Control for each response (default `no-cache`: the browser keeps the file but revalidates it by ETag). */
  cacheControl?: string | ((asset: Asset) => string | undefined);
}

/**
 * Answers a request from the asset set, or undefined when it is not one for a file here (another method,
 * a path outside the prefix, no such file and no fallback), so that the caller can go on routing.
 */
export type StaticHandler = (request: StaticRequest) => Response | undefined;

/** The outcome of reading a request path. */
type Resolved = { kind: 'bad' } | { kind: 'outside' } | { kind: 'path'; path: string; directory: boolean; lastSegment: string };

function normalizeFolder(folder: string): string {
  return folder.replace(/^\/+|\/+$/g, '');
}

/** The path part of a request URL, before any query or fragment, without parsing the URL again. */
function pathOf(url: string): string {
  const schemeEnd = url.indexOf('://');
  const pathStart = schemeEnd < 0 ? 0 : url.indexOf('/', schemeEnd + 3);
  if (pathStart < 0) return '/';
  const rest = url.slice(pathStart);
  const end = rest.search(/[?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/**
 * Maps a request path to an asset path. Refused (400): a malformed percent-escape, an encoded slash or
 * backslash, a NUL or other control character, a `.` or `..` segment, an empty segment. These are how
 * requests try to leave the folder; none names a real file.
 */
function resolvePath(url: string, prefix: string, root: string): Resolved {
  const raw = pathOf(url);
  if (!raw.startsWith('/')) return { kind: 'bad' };
  let rest: string;
  if (prefix === '') rest = raw.slice(1);
  else if (raw === `/${prefix}`) rest = '';
  else if (raw.startsWith(`/${prefix}/`)) rest = raw.slice(prefix.length + 2);
  else return { kind: 'outside' };
  const directory = rest === '' || rest.endsWith('/');
  const rawSegments = rest === '' ? [] : (directory ? rest.slice(0, -1) : rest).split('/');
  const segments: string[] = [];
  for (const rawSegment of rawSegments) {
    let segment: string;
    try {
      segment = decodeURIComponent(rawSegment);
    } catch {
      return { kind: 'bad' };
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\\u0000-\u001f\u007f]/.test(segment)) return { kind: 'bad' };
    segments.push(segment);
  }
  const relative = segments.join('/');
  const path = root && relative ? `${root}/${relative}` : root || relative;
  return { kind: 'path', path, directory, lastSegment: segments[segments.length - 1] ?? '' };
}

declare const Response: {
  new (body: Uint8Array | string | null, init: { status: number; headers: Record<string, string> }): Response;
};

function respond(status: number, headers: Record<string, string>, body: Uint8Array | string | null): Response {
  if (typeof Response === 'undefined') {
    throw new AssetsError(
      'no-fetch-api',
      'serveStatic answers with the fetch API\'s Response, which this image lacks: add "@uos/http" to the service\'s dependencies',
    );
  }
  return new Response(body, { status, headers });
}

function plain(status: number, text: string): Response {
  return respond(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, text);
}

/**
 * A fetch-API handler for static files: `serveStatic({ fallback: 'index.html' })(request)` answers with
 * the file's Response or undefined. GET and HEAD only. Sends a strong ETag and answers a matching
 * If-None-Match with 304; picks br, gzip or the plain bytes from Accept-Encoding (with `Vary:
 * Accept-Encoding` on files that have variants); serves one byte range of the plain bytes (206, with
 * If-Range, or 416 when it lies outside); answers a directory with its index file and `/dir` with a
 * redirect to `/dir/`; refuses traversal attempts (`..`, encoded slashes, NUL) with 400.
 */
export function serveStatic(options: ServeStaticOptions = {}): StaticHandler {
  const prefix = normalizeFolder(options.prefix ?? '/');
  const root = normalizeFolder(options.root ?? '');
  const indexFiles = options.index ?? ['index.html'];
  for (const name of indexFiles) {
    if (!name || name.includes('/'))
      throw new AssetsError('invalid-option', `index file names are file names, not ${JSON.stringify(name)}`);
  }
  const cacheControl = options.cacheControl ?? 'no-cache';
  const assetSet = (): AssetSet => options.assets ?? embeddedAssets();

  const serveAsset = (request: StaticRequest, asset: Asset): Response => {
    const headers: Record<string, string> = { 'content-type': asset.type, 'x-content-type-options': 'nosniff', 'accept-ranges': 'bytes' };
    const cache = typeof cacheControl === 'function' ? cacheControl(asset) : cacheControl;
    if (cache) headers['cache-control'] = cache;
    if (asset.encodings.length > 0) headers.vary = 'Accept-Encoding';
    const range = request.method === 'GET' ? request.headers.get('range') : null;
    const usesRange = range !== null && ifRangeAllows(request.headers.get('if-range'), asset.etag);
    // A range is served from the plain bytes, so that its offsets mean what the client thinks.
    const representation: AssetRepresentation = usesRange
      ? 'identity'
      : chooseEncoding(request.headers.get('accept-encoding'), asset.encodings);
    headers.etag = asset.etagOf(representation);
    if (noneMatch(request.headers.get('if-none-match'), headers.etag)) {
      const { 'content-type': _type, 'accept-ranges': _ranges, ...notModified } = headers;
      return respond(304, notModified, null);
    }
    if (usesRange) {
      const wanted = parseRange(range, asset.size);
      if (wanted.kind === 'unsatisfiable') {
        headers['content-range'] = `bytes */${asset.size}`;
        return respond(416, headers, null);
      }
      if (wanted.kind === 'range') {
        headers['content-range'] = `bytes ${wanted.start}-${wanted.end}/${asset.size}`;
        return respond(206, headers, asset.view().subarray(wanted.start, wanted.end + 1));
      }
    }
    if (representation !== 'identity') headers['content-encoding'] = representation;
    return respond(200, headers, asset.view(representation));
  };

  return (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    const resolved = resolvePath(request.url, prefix, root);
    if (resolved.kind === 'outside') return undefined;
    if (resolved.kind === 'bad') return plain(400, 'Bad Request: the path is not one a file can have\n');
    const set = assetSet();
    if (resolved.directory) {
      for (const name of indexFiles) {
        const asset = set.get(resolved.path ? `${resolved.path}/${name}` : name);
        if (asset) return serveAsset(request, asset);
      }
    } else {
      const asset = set.get(resolved.path);
      if (asset) return serveAsset(request, asset);
      if (indexFiles.some((name) => set.get(`${resolved.path}/${name}`))) {
        // Relative, so that it holds behind a proxy that mounts the service elsewhere.
        const queryStart = request.url.indexOf('?');
        const query = queryStart < 0 ? '' : (request.url.slice(queryStart).split('#')[0] ?? '');
        const location = `${resolved.lastSegment.replace(/[^\w.~-]/g, encodeURIComponent)}/${query}`;
        return respond(301, { location, 'content-type': 'text/plain; charset=utf-8' }, `Moved to ${location}\n`);
      }
    }
    if (options.fallback !== undefined && !resolved.lastSegment.includes('.')) {
      const asset = set.get(options.fallback);
      if (asset) return serveAsset(request, asset);
    }
    return undefined;
  };
}
