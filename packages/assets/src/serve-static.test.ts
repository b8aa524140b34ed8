import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { AssetSet } from './asset-set.js';
import { AssetsError } from './errors.js';
import { encodeAssets } from './format.js';
import { serveStatic as honoStatic } from './hono.js';
import { type ServeStaticOptions, type StaticRequest, serveStatic } from './serve-static.js';

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const html = 'text/html; charset=utf-8';
const digits = Array.from({ length: 100 }, (_, i) => String(i % 10)).join('');

const set = AssetSet.decode(
  encodeAssets([
    { path: 'index.html', type: html, etag: '"root"', identity: bytes('<p>home</p>'), gzip: bytes('gz-home'), br: bytes('br-home') },
    { path: 'app.js', type: 'text/javascript; charset=utf-8', etag: '"app"', identity: bytes('console.log(1)'), gzip: bytes('gz-app') },
    { path: 'docs/index.html', type: html, etag: '"docs"', identity: bytes('<p>docs</p>') },
    { path: 'docs/guide.txt', type: 'text/plain; charset=utf-8', etag: '"guide"', identity: bytes('guide') },
    { path: 'digits.txt', type: 'text/plain; charset=utf-8', etag: '"digits"', identity: bytes(digits), br: bytes('br-digits') },
    { path: 'file with space.txt', type: 'text/plain; charset=utf-8', etag: '"space"', identity: bytes('spaced') },
    { path: 'empty.txt', type: 'text/plain; charset=utf-8', etag: '"empty"', identity: new Uint8Array(0) },
  ]),
);

function request(path: string, headers: Record<string, string> = {}, method = 'GET'): Request {
  return new Request(`http://acorn.test${path}`, { method, headers });
}

/** A request whose URL no parser has normalised: what arrives when a client sends raw bytes. */
function raw(path: string): StaticRequest {
  return { method: 'GET', url: `http://acorn.test${path}`, headers: new Headers() };
}

function serve(options: ServeStaticOptions = {}): (r: StaticRequest) => Response | undefined {
  return serveStatic({ assets: set, ...options });
}

async function text(response: Response | undefined): Promise<string> {
  return (await response!.text()) ?? '';
}

describe('serveStatic', () => {
  const files = serve();

  it('serves a file with its type, ETag, length and cache policy', async () => {
    const response = files(request('/app.js'))!;
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      etag: '"app"',
      'cache-control': 'no-cache',
      vary: 'Accept-Encoding',
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    });
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(await text(response)).toBe('console.log(1)');
  });

  it('answers the root and directories with their index file', async () => {
    expect(await text(files(request('/')))).toBe('<p>home</p>');
    expect(await text(files(request('/docs/')))).toBe('<p>docs</p>');
    expect(await text(files(request('/docs/guide.txt')))).toBe('guide');
  });

  it('redirects a directory without its slash, keeping the query', () => {
    const response = files(request('/docs?x=1'))!;
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('docs/?x=1');
  });

  it('decodes percent-escapes once', async () => {
    expect(await text(files(request('/file%20with%20space.txt')))).toBe('spaced');
    expect(await text(files(request('/%61pp.js')))).toBe('console.log(1)');
  });

  it('passes on what is not a file here: other methods, missing files, paths outside the prefix', () => {
    expect(files(request('/app.js', {}, 'POST'))).toBeUndefined();
    expect(files(request('/app.js', {}, 'DELETE'))).toBeUndefined();
    expect(files(request('/missing.js'))).toBeUndefined();
    expect(files(request('/missing/'))).toBeUndefined();
    expect(serve({ prefix: '/static' })(request('/app.js'))).toBeUndefined();
    expect(serve({ prefix: '/static' })(request('/staticapp.js'))).toBeUndefined();
    expect(serve({ index: [] })(request('/'))).toBeUndefined();
  });

  it('serves HEAD like GET (the server drops the body)', () => {
    const response = files(request('/app.js', {}, 'HEAD'))!;
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"app"');
  });

  it('mounts under a prefix and a root folder', async () => {
    expect(await text(serve({ prefix: '/static/' })(request('/static/app.js')))).toBe('console.log(1)');
    expect(await text(serve({ prefix: 'static' })(request('/static')))).toBe('<p>home</p>');
    expect(await text(serve({ root: 'docs' })(request('/guide.txt')))).toBe('guide');
    expect(await text(serve({ root: '/docs/', prefix: '/d' })(request('/d/')))).toBe('<p>docs</p>');
  });

  it('answers a matching If-None-Match with 304 and the validators', async () => {
    for (const tag of ['"app"', 'W/"app"', '"other", "app"', '*']) {
      const response = files(request('/app.js', { 'if-none-match': tag }))!;
      expect(response.status, tag).toBe(304);
      expect(response.headers.get('etag')).toBe('"app"');
      expect(response.headers.get('vary')).toBe('Accept-Encoding');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await text(response)).toBe('');
    }
    expect(files(request('/app.js', { 'if-none-match': '"old"' }))!.status).toBe(200);
  });

  it('negotiates the content coding, with a tag per coding', async () => {
    const brotli = files(request('/', { 'accept-encoding': 'gzip, deflate, br' }))!;
    expect([brotli.headers.get('content-encoding'), brotli.headers.get('etag'), await text(brotli)]).toEqual([
      'br',
      '"root.br"',
      'br-home',
    ]);
    const gzip = files(request('/', { 'accept-encoding': 'gzip' }))!;
    expect([gzip.headers.get('content-encoding'), gzip.headers.get('etag'), await text(gzip)]).toEqual(['gzip', '"root.gz"', 'gz-home']);
    const onlyGzip = files(request('/app.js', { 'accept-encoding': 'br' }))!;
    expect([onlyGzip.headers.get('content-encoding'), await text(onlyGzip)]).toEqual([null, 'console.log(1)']);
    expect(files(request('/', { 'accept-encoding': 'br', 'if-none-match': '"root.br"' }))!.status).toBe(304);
    expect(files(request('/', { 'accept-encoding': 'gzip', 'if-none-match': '"root.br"' }))!.status).toBe(200);
    // A file without variants does not vary.
    expect(files(request('/docs/guide.txt', { 'accept-encoding': 'br' }))!.headers.get('vary')).toBeNull();
  });

  it('serves one range of the plain bytes (206), or 416 outside them', async () => {
    const part = files(request('/digits.txt', { range: 'bytes=10-14', 'accept-encoding': 'br' }))!;
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-14/100');
    expect(part.headers.get('content-encoding')).toBeNull();
    expect(part.headers.get('etag')).toBe('"digits"');
    expect(await text(part)).toBe('01234');
    expect(await text(files(request('/digits.txt', { range: 'bytes=-3' })))).toBe('789');
    const outside = files(request('/digits.txt', { range: 'bytes=100-' }))!;
    expect([outside.status, outside.headers.get('content-range')]).toEqual([416, 'bytes */100']);
    expect(files(request('/empty.txt', { range: 'bytes=0-' }))!.status).toBe(416);
    expect(files(request('/digits.txt', { range: 'bytes=0-1,4-5' }))!.status).toBe(200);
    expect(files(request('/digits.txt', { range: 'lines=1-2' }))!.status).toBe(200);
    expect(files(request('/digits.txt', { range: 'bytes=0-1' }, 'HEAD'))!.status).toBe(200);
  });

  it('honours If-Range: the same strong tag gets the range, anything else the whole file', () => {
    expect(files(request('/digits.txt', { range: 'bytes=0-1', 'if-range': '"digits"' }))!.status).toBe(206);
    expect(files(request('/digits.txt', { range: 'bytes=0-1', 'if-range': '"old"' }))!.status).toBe(200);
    expect(files(request('/digits.txt', { range: 'bytes=0-1', 'if-range': 'W/"digits"' }))!.status).toBe(200);
    expect(files(request('/digits.txt', { range: 'bytes=0-1', 'if-range': 'Tue, 01 Jan 2030 00:00:00 GMT' }))!.status).toBe(200);
    expect(files(request('/digits.txt', { range: 'bytes=0-1', 'if-none-match': '"digits"' }))!.status).toBe(304);
  });

  it.each([
    '/../etc/passwd',
    '/docs/../../secret',
    '/./app.js',
    '/%2e%2e/etc/passwd',
    '/..%2fetc%2fpasswd',
    '/docs%2fguide.txt',
    '/docs%2Fguide.txt',
    '/..%5c..%5cwindows',
    '/app.js%00.png',
    '/%00',
    '/docs//guide.txt',
    '/%E0%A4%A',
    '/%',
    '/line%0afeed',
  ])('refuses the traversal attempt %s with 400', async (path) => {
    const response = files(raw(path))!;
    expect(response.status).toBe(400);
    expect(await text(response)).toMatch(/Bad Request/);
  });

  it('after URL normalisation, dot segments cannot leave the folder either (404 by passing on)', () => {
    // WHATWG URL parsing resolves these before serveStatic sees them: they end up inside the folder.
    expect(files(request('/../../missing'))).toBeUndefined();
    expect(files(request('/docs/%2e%2e/app.js'))!.status).toBe(200);
  });

  it('falls back for a single-page app route, not for a missing file', async () => {
    const spa = serve({ fallback: 'index.html' });
    const route = spa(request('/squirrels/42', { 'accept-encoding': 'gzip' }))!;
    expect([route.status, route.headers.get('content-encoding'), await text(route)]).toEqual([200, 'gzip', 'gz-home']);
    expect(spa(request('/missing.png'))).toBeUndefined();
    expect(spa(request('/app.js', {}, 'POST'))).toBeUndefined();
    expect(serve({ fallback: 'nothing.html' })(request('/route'))).toBeUndefined();
  });

  it('takes a Cache-Control per asset', () => {
    const immutable = serve({ cacheControl: (asset) => (asset.path.endsWith('.js') ? 'public, max-age=31536000, immutable' : undefined) });
    expect(immutable(request('/app.js'))!.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(immutable(request('/'))!.headers.get('cache-control')).toBeNull();
  });

  it('refuses index names with slashes', () => {
    expect(() => serveStatic({ index: ['a/index.html'] })).toThrow(AssetsError);
  });

  it('outside an image, the embedded set is empty', () => {
    expect(serveStatic()(request('/index.html'))).toBeUndefined();
  });
});

describe('serveStatic for Hono', () => {
  const app = new Hono();
  app.get('/api/hello', (c) => c.json({ hello: 'world' }));
  app.use('/static/*', honoStatic({ assets: set, prefix: '/static' }));
  app.use('*', honoStatic({ assets: set, fallback: 'index.html' }));
  app.notFound((c) => c.text('nothing here', 404));

  it('serves files, passes other requests on, falls back for routes', async () => {
    expect(await (await app.request('/static/app.js')).text()).toBe('console.log(1)');
    expect(await (await app.request('/api/hello')).json()).toEqual({ hello: 'world' });
    expect((await app.request('/static/app.js', { headers: { 'if-none-match': '"app"' } })).status).toBe(304);
    expect(await (await app.request('/a/spa/route')).text()).toBe('<p>home</p>');
    const missing = await app.request('/missing.css');
    expect([missing.status, await missing.text()]).toEqual([404, 'nothing here']);
    expect((await app.request('/static/..%2fsecret')).status).toBe(400);
  });
});
