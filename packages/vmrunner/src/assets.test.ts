import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { AssetSet } from '@uos/assets';
import { UosError } from '@uos/errors';
import { afterEach, describe, expect, it } from 'vitest';
import { assetsFolder, collectAssets, contentType, entityTag } from './assets.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A service directory with `files` (path -> contents) and an optional package.json "uos" section. */
function service(files: Record<string, string | Uint8Array>, uos?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'uos-assets-'));
  made.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', ...(uos ? { uos } : {}) }));
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), contents);
  }
  return dir;
}

function failure(action: () => unknown): UosError {
  try {
    action();
  } catch (error) {
    if (UosError.isInstance(error)) return error;
    throw error;
  }
  return expect.fail('expected a UosError');
}

const page = `<!doctype html><title>t</title>${'<p>squirrels gather nuts</p>\n'.repeat(50)}`;

describe('collectAssets', () => {
  it('embeds public/ by default: paths, types, strong ETags, smaller variants that decompress to the file', () => {
    const png = new Uint8Array(64).map((_, i) => (i * 151) % 256);
    const dir = service({ 'public/index.html': page, 'public/css/site.css': 'b{}', 'public/img/a.png': png, 'service.ts': '' });
    const collected = collectAssets(dir)!;
    expect(collected.folder).toBe(join(dir, 'public'));
    expect(collected.files.map((f) => [f.path, f.type])).toEqual([
      ['css/site.css', 'text/css; charset=utf-8'],
      ['img/a.png', 'image/png'],
      ['index.html', 'text/html; charset=utf-8'],
    ]);
    const set = AssetSet.decode(collected.section);
    const index = set.get('index.html')!;
    expect(index.text()).toBe(page);
    expect(index.etag).toBe(entityTag(new TextEncoder().encode(page)));
    expect(index.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(index.encodings).toEqual(['br', 'gzip']);
    expect(new TextDecoder().decode(gunzipSync(index.view('gzip')))).toBe(page);
    expect(new TextDecoder().decode(brotliDecompressSync(index.view('br')))).toBe(page);
    expect(index.sizeOf('br')!).toBeLessThan(index.size);
    // Too small or too random to shrink: no variants.
    expect(set.get('css/site.css')!.encodings).toEqual([]);
    expect(set.get('img/a.png')!.encodings).toEqual([]);
    expect(collected.files.find((f) => f.path === 'index.html')).toMatchObject({
      size: page.length,
      gzip: index.sizeOf('gzip'),
      br: index.sizeOf('br'),
    });
  });

  it('takes the folder from package.json "uos.assets", or none with false', () => {
    const dir = service({ 'site/a.txt': 'a', 'public/b.txt': 'b' }, { assets: 'site' });
    expect(collectAssets(dir)!.files.map((f) => f.path)).toEqual(['a.txt']);
    expect(collectAssets(service({ 'public/b.txt': 'b' }, { assets: false }))).toBeUndefined();
    expect(collectAssets(service({ 'service.ts': '' }))).toBeUndefined();
    expect(assetsFolder(service({ public: '' }))).toBeUndefined(); // a file named public is not a folder
  });

  it('refuses a "uos.assets" that is not a folder', () => {
    expect(failure(() => collectAssets(service({}, { assets: 'nowhere' }))).message).toMatch(
      /"uos.assets" names nowhere, which is not a folder/,
    );
    expect(failure(() => collectAssets(service({}, { assets: 7 }))).code).toBe('assets-invalid');
  });

  it('skips dot files and follows links, except back up the tree', () => {
    const dir = service({ 'public/.secret': 'x', 'public/.git/config': 'x', 'public/a/b.txt': 'b' });
    symlinkSync(join(dir, 'public', 'a'), join(dir, 'public', 'linked'));
    symlinkSync(join(dir, 'public'), join(dir, 'public', 'a', 'loop'));
    expect(collectAssets(dir)!.files.map((f) => f.path)).toEqual(['a/b.txt', 'linked/b.txt']);
  });

  it('fails the build naming a file it cannot read', () => {
    const dir = service({ 'public/ok.txt': 'ok' });
    symlinkSync(join(dir, 'gone.txt'), join(dir, 'public', 'broken.txt'));
    const error = failure(() => collectAssets(dir));
    expect(error.code).toBe('assets-unreadable');
    expect(error.message).toContain(`cannot read asset ${join(dir, 'public', 'broken.txt')}`);
  });

  it('refuses file names a URL path cannot reach', () => {
    const error = failure(() => collectAssets(service({ 'public/back\\slash.txt': 'x' })));
    expect(error.message).toMatch(/back\\slash\.txt: its path contains a NUL or a backslash/);
  });

  it('knows the common content types', () => {
    expect(['a.js', 'a.MJS', 'x/y.json', 'f.woff2', 'i.svg', 'noext', 'dir.d/file', 'a.unknown'].map(contentType)).toEqual([
      'text/javascript; charset=utf-8',
      'text/javascript; charset=utf-8',
      'application/json; charset=utf-8',
      'font/woff2',
      'image/svg+xml; charset=utf-8',
      'application/octet-stream',
      'application/octet-stream',
      'application/octet-stream',
    ]);
  });
});
