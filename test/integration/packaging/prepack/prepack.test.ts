// The prepack guards refuse to pack what a consumer could not use, and say which file and what to do:
// scripts/prepack.mjs (every package: files the manifest names, a dist/ older than src/) and
// packages/x86-platform/scripts/check-platform.mjs (the images and a compiler that compiles).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from '../../harness.js';

const scratch = mkdtempSync(join(tmpdir(), 'uos-prepack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const packages = join(repositoryRoot, 'packages');

function guard(script: string, cwd: string) {
  return spawnSync(process.execPath, [script], { cwd, encoding: 'utf8' });
}

/** A copy of a package's directory (only `parts` of it) to break. */
function copy(name: string, parts: string[]): string {
  const dir = join(scratch, `${name}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  for (const part of parts) cpSync(join(packages, name, part), join(dir, part), { recursive: true });
  // Its dependencies, as installed in the repository.
  symlinkSync(join(packages, name, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

describe('scripts/prepack.mjs', () => {
  const script = join(repositoryRoot, 'scripts', 'prepack.mjs');

  it('passes a built package', () => {
    expect(guard(script, copy('errors', ['package.json', 'src', 'dist'])).status).toBe(0);
  });

  it('refuses a package without dist/, naming the file and the build command', () => {
    const result = guard(script, copy('x86', ['package.json', 'src']));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/@uos\/x86: refusing to pack/);
    expect(result.stderr).toMatch(/dist\/index\.js \(named in package\.json\) is missing/);
    expect(result.stderr).toContain('run `pnpm --filter @uos/x86 build`');
  });

  it('refuses a dist/ older than src/', () => {
    const dir = copy('statman', ['package.json', 'src', 'dist']);
    const later = new Date(Date.now() + 60_000);
    writeFileSync(join(dir, 'src', 'index.ts'), '// edited after the build\n');
    utimesSync(join(dir, 'src', 'index.ts'), later, later);
    const result = guard(script, dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/dist is older than .*src \(a stale build\)/);
  });
});

describe('@uos/x86-platform check-platform.mjs', () => {
  const parts = ['package.json', 'scripts', 'dist', 'platform'];

  it('passes the built platform, compiling a test script', () => {
    const result = guard(join(copy('x86-platform', parts), 'scripts', 'check-platform.mjs'), scratch);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/8 images and uos-jsc\.wasm checked/);
  });

  it('refuses a platform without an image', () => {
    const dir = copy('x86-platform', parts);
    rmSync(join(dir, 'platform', 'uos-pvh-eval.elf'));
    const result = guard(join(dir, 'scripts', 'check-platform.mjs'), scratch);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /refusing to pack: .*uos-pvh-eval\.elf \(named by .*manifest\.json\) is missing; run `pnpm --filter @uos\/x86-platform build` first/,
    );
  });

  it('refuses a compiler that cannot compile', () => {
    const dir = copy('x86-platform', parts);
    writeFileSync(join(dir, 'platform', 'uos-jsc.wasm'), 'not WebAssembly');
    const result = guard(join(dir, 'scripts', 'check-platform.mjs'), scratch);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/uos-jsc\.wasm cannot compile a test script: .* is not a valid WebAssembly module/);
  });
});
