import { describe, expect, it } from 'vitest';
import { AssetSet } from './asset-set.js';
import { AssetsError } from './errors.js';
import { type AssetInput, decodeAssets, encodeAssets, pathProblem } from './format.js';

// ASCII only: the package's tests run without the DOM's or Node's declarations.
const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const ascii = (data: Uint8Array): string => String.fromCharCode(...data);

const files: AssetInput[] = [
  {
    path: 'index.html',
    type: 'text/html; charset=utf-8',
    etag: '"abc"',
    identity: bytes('<h1>hi</h1>'),
    gzip: bytes('GZ'),
    br: bytes('B'),
  },
  { path: 'css/site.css', type: 'text/css; charset=utf-8', etag: '"def"', identity: bytes('body{}') },
  { path: 'empty.txt', type: 'text/plain; charset=utf-8', etag: '"e"', identity: new Uint8Array(0) },
];

function header(section: Uint8Array): { magic: string; version: number; indexLength: number } {
  const view = new DataView(section.buffer, section.byteOffset);
  return { magic: String.fromCharCode(...section.subarray(0, 8)), version: view.getUint32(8, true), indexLength: view.getUint32(12, true) };
}

describe('the assets section', () => {
  it('lays out a header, a JSON index padded to 8 bytes and the data, paths sorted', () => {
    const section = encodeAssets(files);
    const { magic, version, indexLength } = header(section);
    expect([magic, version]).toEqual(['UOSASSET', 1]);
    const index = JSON.parse(ascii(section.subarray(16, 16 + indexLength)));
    expect(index.files.map((f: { path: string }) => f.path)).toEqual(['css/site.css', 'empty.txt', 'index.html']);
    const dataStart = 16 + Math.ceil(indexLength / 8) * 8;
    expect(section.subarray(16 + indexLength, dataStart).every((b) => b === 0)).toBe(true);
    expect(section.length).toBe(dataStart + 11 + 2 + 1 + 6);
    expect(index.files[2]).toEqual({
      path: 'index.html',
      type: 'text/html; charset=utf-8',
      etag: '"abc"',
      size: 11,
      identity: [6, 11],
      gzip: [17, 2],
      br: [19, 1],
    });
  });

  it('reads back what it wrote, byte for byte', () => {
    const set = AssetSet.decode(encodeAssets(files));
    expect(set.list().map((a) => a.path)).toEqual(['css/site.css', 'empty.txt', 'index.html']);
    const index = set.get('/index.html')!;
    expect(index.text()).toBe('<h1>hi</h1>');
    expect(index.encodings).toEqual(['br', 'gzip']);
    expect(ascii(index.view('gzip'))).toBe('GZ');
    expect(index.etagOf('gzip')).toBe('"abc.gz"');
    expect(index.etagOf('br')).toBe('"abc.br"');
    expect(index.sizeOf('br')).toBe(1);
    expect(set.get('css/site.css')!.sizeOf('gzip')).toBeUndefined();
    expect(set.get('css/site.css')!.view('gzip')).toEqual(bytes('body{}'));
    expect(set.get('empty.txt')!.size).toBe(0);
    expect(set.get('missing')).toBeUndefined();
    expect(set.totalBytes).toBe(17);
  });

  it('gives views without a copy and copies on request', () => {
    const section = encodeAssets(files);
    const asset = AssetSet.decode(section).get('css/site.css')!;
    expect(asset.view().buffer).toBe(section.buffer);
    const copy = asset.bytes();
    copy[0] = 0;
    expect(asset.text()).toBe('body{}');
  });

  it('refuses paths that could not come from a folder', () => {
    for (const path of ['', '/abs', 'a//b', 'a/./b', '../x', 'a/..', 'nul\0', 'back\\slash', 'dir/']) {
      expect(pathProblem(path), path).toBeDefined();
      expect(() => encodeAssets([{ path, type: 't', etag: '"x"', identity: new Uint8Array(1) }])).toThrow(AssetsError);
    }
    expect(pathProblem('a/b.c/d-e_f~')).toBeUndefined();
    expect(() => encodeAssets([files[1]!, files[1]!])).toThrow(/appears twice/);
  });

  it('checks every bound before use (poisoned and truncated sections)', () => {
    const good = encodeAssets(files);
    const broken =
      (mutate: (s: Uint8Array) => Uint8Array): (() => unknown) =>
      () =>
        decodeAssets(mutate(good.slice()));
    expect(broken((s) => s.subarray(0, 10))).toThrow(/shorter than its header/);
    expect(broken((s) => s.fill(0x41, 0, 8))).toThrow(/magic/);
    const word =
      (at: number, value: number) =>
      (s: Uint8Array): Uint8Array => {
        new DataView(s.buffer).setUint32(at, value, true);
        return s;
      };
    expect(broken(word(8, 2))).toThrow(/version 2/);
    expect(broken(word(12, 1 << 30))).toThrow(/past the end/);
    expect(broken((s) => s.subarray(0, s.length - 1))).toThrow(/outside the section/);
    expect(broken((s) => s.fill(0xff, 16, 20))).toThrow(/not UTF-8 JSON/);
    const withIndex = (index: unknown): (() => AssetSet) => {
      const json = bytes(JSON.stringify(index));
      const section = new Uint8Array(16 + Math.ceil(json.length / 8) * 8 + 4);
      section.set(good.subarray(0, 12));
      new DataView(section.buffer).setUint32(12, json.length, true);
      section.set(json, 16);
      return () => AssetSet.decode(section);
    };
    expect(withIndex({})).toThrow(/no "files" list/);
    expect(withIndex({ files: [7] })).toThrow(/not an object/);
    expect(withIndex({ files: [{ path: '../x', type: 't', etag: 'e', size: 1, identity: [0, 1] }] })).toThrow(/no valid path/);
    expect(withIndex({ files: [{ path: 'x', etag: 'e', size: 1, identity: [0, 1] }] })).toThrow(/no type or etag/);
    expect(withIndex({ files: [{ path: 'x', type: 't', etag: 'e', size: 2, identity: [0, 1] }] })).toThrow(/size 2 is not its length 1/);
    expect(withIndex({ files: [{ path: 'x', type: 't', etag: 'e', size: 1, identity: [-1, 1] }] })).toThrow(/negative/);
    expect(withIndex({ files: [{ path: 'x', type: 't', etag: 'e', size: 1, identity: [0, 1], gzip: [3, 2] }] })).toThrow(
      /gzip bytes lies outside/,
    );
    expect(withIndex({ files: [{ path: 'x', type: 't', etag: 'e', size: 4, identity: [0, 4] }] })().get('x')!.size).toBe(4);
  });

  it('an empty set has nothing', () => {
    expect(AssetSet.empty().list()).toEqual([]);
    expect(AssetSet.decode(encodeAssets([])).size).toBe(0);
  });
});
