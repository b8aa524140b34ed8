import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCompiler } from './compiler.js';
import { X86PlatformError } from './errors.js';
import { loadPlatform, platformDirectory } from './platform.js';

const scratch = mkdtempSync(join(tmpdir(), 'uos-x86-platform-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the built platform in a fresh directory, changed by `edit`. */
function platformCopy(name: string, edit: (dir: string) => void = () => {}): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const manifest = JSON.parse(readFileSync(join(platformDirectory, 'manifest.json'), 'utf8'));
  for (const file of ['manifest.json', manifest.compiler, manifest.images.compact.pvh])
    copyFileSync(join(platformDirectory, file), join(dir, file));
  edit(dir);
  return dir;
}

async function thrown(action: () => unknown): Promise<X86PlatformError> {
  try {
    await action();
  } catch (error) {
    if (X86PlatformError.isInstance(error)) return error;
    throw error;
  }
  return expect.fail('expected an X86PlatformError');
}

describe('the WebAssembly bytecode compiler', () => {
  it('compiles a script to QuickJS bytecode', async () => {
    const result = await loadPlatform().compile('globalThis.x = 1n << 70n;', { filename: 'x.js' });
    if (!result.ok) expect.fail(result.error);
    // JS_WriteObject's first byte is the bytecode format version; a function object follows.
    expect(result.bytecode.length).toBeGreaterThan(16);
    expect(new TextDecoder().decode(result.bytecode)).toContain('x.js');
  });

  it('answers a syntax error with QuickJS message and location, not a throw', async () => {
    const result = await loadPlatform().compile('let a = ;', { filename: 'bad.js' });
    expect(result).toEqual({
      ok: false,
      error: expect.stringMatching(/^SyntaxError: unexpected token in expression: ';'\n\s+at bad\.js:1/),
    });
  });

  it('compiles modules when asked, and module syntax only then', async () => {
    const source = 'export const answer = 42;';
    expect((await loadPlatform().compile(source, { module: true })).ok).toBe(true);
    expect((await loadPlatform().compile(source)).ok).toBe(false);
  });

  it('stays usable after a failure: every compilation has a fresh instance', async () => {
    const compiler = await loadCompiler(loadPlatform().compiler);
    expect(compiler.compile('(').ok).toBe(false);
    const again = compiler.compile('1 + 1');
    expect(again.ok).toBe(true);
  });

  it('reports a source nested too deeply for it as a compiler error naming the file', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const compiler = await loadCompiler(loadPlatform().compiler);
    let outcome: unknown;
    try {
      outcome = compiler.compile(deep);
    } catch (error) {
      outcome = error;
    }
    // QuickJS's own stack check or the host's stack limit: either way an answer, never a crash.
    if (X86PlatformError.isInstance(outcome)) {
      expect(outcome.code).toBe('compiler-failed');
      expect(outcome.message).toContain('uos-jsc.wasm');
    } else {
      expect(outcome).toEqual({ ok: false, error: expect.stringMatching(/stack overflow/) });
    }
  });
});

describe('a missing or broken platform', () => {
  it('names the missing manifest and what to do', async () => {
    const error = await thrown(() => loadPlatform(join(scratch, 'nothing-here')));
    expect(error.code).toBe('platform-missing');
    expect(error.message).toContain(join(scratch, 'nothing-here', 'manifest.json'));
    expect(error.message).toMatch(/put a complete uOS platform build in/);
  });

  it('names a manifest that is not JSON', async () => {
    const dir = platformCopy('bad-json', (d) => writeFileSync(join(d, 'manifest.json'), '{'));
    const error = await thrown(() => loadPlatform(dir));
    expect(error.code).toBe('platform-invalid');
    expect(error.message).toContain(join(dir, 'manifest.json'));
  });

  it('names a missing image when it is asked for', async () => {
    const platform = loadPlatform(platformCopy('no-image'));
    expect(platform.image('pvh', 'compact')).toMatch(/uos-pvh\.elf$/);
    const error = await thrown(() => platform.image('multiboot', 'full'));
    expect(error.code).toBe('platform-missing');
    expect(error.message).toMatch(/the full multiboot image .*uos-multiboot-eval\.elf is missing/);
  });

  it('finds the image optimised for speed, and names it when it is missing', async () => {
    expect(loadPlatform().image('pvh', 'compact', 'speed')).toMatch(/uos-pvh-speed\.elf$/);
    expect(loadPlatform().image('multiboot', 'full', 'speed')).toMatch(/uos-multiboot-eval-speed\.elf$/);
    const platform = loadPlatform(platformCopy('no-speed'));
    const error = await thrown(() => platform.image('pvh', 'compact', 'speed'));
    expect(error.code).toBe('platform-missing');
    expect(error.message).toMatch(/the compact pvh image optimised for speed .*uos-pvh-speed\.elf is missing/);
    const unnamed = loadPlatform(
      platformCopy('no-speed-in-manifest', (d) => {
        const manifest = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
        delete manifest.images['compact-speed'];
        writeFileSync(join(d, 'manifest.json'), JSON.stringify(manifest));
      }),
    );
    const missing = await thrown(() => unnamed.image('pvh', 'compact', 'speed'));
    expect(missing.message).toMatch(/lacks the compact pvh image optimised for speed \(no "compact-speed" in its manifest\)/);
  });

  it('names a missing compiler and what to do', async () => {
    const dir = platformCopy('no-compiler', (d) => rmSync(join(d, 'uos-jsc.wasm')));
    const error = await thrown(() => loadPlatform(dir).compile('1'));
    expect(error.code).toBe('compiler-missing');
    expect(error.message).toContain(join(dir, 'uos-jsc.wasm'));
    expect(error.message).toContain(`put a complete uOS platform build in ${dir}`);
  });

  it('names a compiler that is not WebAssembly', async () => {
    const dir = platformCopy('broken-compiler', (d) => writeFileSync(join(d, 'uos-jsc.wasm'), 'not wasm'));
    const error = await thrown(() => loadPlatform(dir).compile('1'));
    expect(error.code).toBe('compiler-invalid');
    expect(error.message).toContain(join(dir, 'uos-jsc.wasm'));
  });

  it('says the multiboot debug ELF64 is not published, and what to use instead', async () => {
    const platform = loadPlatform(platformCopy('published'));
    const error = await thrown(() => platform.debugImage('multiboot', 'compact'));
    expect(error.code).toBe('debug-image-missing');
    expect(error.message).toMatch(/--machine microvm --gdb/);
    expect(platform.debugImage('pvh', 'compact')).toBe(platform.image('pvh', 'compact'));
  });

  it('in the repository, tells the developer to build the platform', async () => {
    const { platformRemedy } = await import('./platform.js');
    expect(platformRemedy()).toMatch(/pnpm --filter @uos\/x86-platform build/);
  });
});
