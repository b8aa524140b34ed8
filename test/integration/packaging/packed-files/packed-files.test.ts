// scripts/lint-packages.mjs refuses a tarball that would carry files no consumer needs (a build stamp, test
// files, test folders the exports map does not name), using the list `npm pack --dry-run` prints.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { packedFiles, unneededFiles } from '../../../../scripts/packed-files.mjs';
import { repositoryRoot } from '../../harness.js';

type Found = { path: string; why: string }[];
const unneeded = unneededFiles as (paths: string[], manifest?: object) => Found;
const packed = packedFiles as (dir: string) => Promise<string[]>;

const scratch = mkdtempSync(join(tmpdir(), 'uos-packed-files-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('scripts/packed-files.mjs', () => {
  it('names build stamps, test files, test folders, build caches and stray files, each with why', () => {
    const found = unneeded([
      'package.json',
      'dist/index.js',
      'dist/.build-stamp',
      'src/index.ts',
      'src/index.test.ts',
      'src/wire/ipv4.spec.js',
      'src/testing/fake-socket.ts',
      'src/test/loopback.ts',
      'tsconfig.tsbuildinfo',
      'uos-net-0.1.0.tgz',
      'npm-debug.log',
    ]);
    expect(found.map((f) => f.path)).toEqual([
      'dist/.build-stamp',
      'src/index.test.ts',
      'src/wire/ipv4.spec.js',
      'src/testing/fake-socket.ts',
      'src/test/loopback.ts',
      'tsconfig.tsbuildinfo',
      'uos-net-0.1.0.tgz',
      'npm-debug.log',
    ]);
    expect(found[0]!.why).toContain('"!dist/.build-stamp"');
    expect(found[3]!.why).toContain('"!src/testing"');
  });

  it("allows a test folder the exports map names (public test devices) and create-uos's template", () => {
    const net = { name: '@uos/net', exports: { './test': { 'uos-source': './src/test/index.ts', import: './dist/test/index.js' } } };
    expect(unneeded(['src/test/index.ts', 'src/test/loopback.ts', 'dist/test/index.js'], net)).toEqual([]);
    expect(unneeded(['src/test/loopback.test.ts'], net).map((f) => f.path)).toEqual(['src/test/loopback.test.ts']);
    expect(unneeded(['template/test/service.test.ts'], { name: 'create-uos' })).toEqual([]);
    expect(unneeded(['template/test/service.test.ts'], { name: 'other' })).toHaveLength(1);
  });

  it('reads what npm would pack: a "files" list without exclusions lets the stamp and test helpers in', async () => {
    const dir = join(scratch, 'leaky');
    mkdirSync(join(dir, 'dist'), { recursive: true });
    mkdirSync(join(dir, 'src', 'testing'), { recursive: true });
    const manifest = { name: 'leaky', version: '1.0.0', type: 'module', exports: { '.': './dist/index.js' }, files: ['dist', 'src'] };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'dist', 'index.js'), 'export {};\n');
    writeFileSync(join(dir, 'dist', '.build-stamp'), '');
    writeFileSync(join(dir, 'src', 'index.ts'), 'export {};\n');
    writeFileSync(join(dir, 'src', 'index.test.ts'), '');
    writeFileSync(join(dir, 'src', 'testing', 'helper.ts'), '');
    const found = unneeded(await packed(dir), manifest).map((f) => f.path);
    expect(found.sort()).toEqual(['dist/.build-stamp', 'src/index.test.ts', 'src/testing/helper.ts']);
  });

  it('passes a real package of the repository', async () => {
    const dir = join(repositoryRoot, 'packages', 'http');
    const manifest = (await import(join(dir, 'package.json'), { with: { type: 'json' } })).default;
    const files = await packed(dir);
    expect(files).toContain('src/web/inject.ts');
    expect(unneeded(files, manifest)).toEqual([]);
  });

  it("ships one copy of each module: @uos/net's root and /test entries share chunks (the built dist)", () => {
    const dist = join(repositoryRoot, 'packages', 'net', 'dist');
    const scripts = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js'));
    const defining = scripts.filter((file) => /\bvar Inet = class\b/.test(readFileSync(join(dist, file), 'utf8')));
    expect(defining).toHaveLength(1);
    expect(readFileSync(join(dist, 'test', 'index.js'), 'utf8')).toMatch(/from "\.\.\/chunk-[A-Z0-9]+\.js"/);
  });
});
