// What `uos build` says when it cannot make an image: QuickJS's own report with the TypeScript location,
// and for a missing or broken platform or compiler, the file and what to do.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UosError } from '@uos/errors';
import { platformDirectory } from '@uos/x86-platform';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImage } from './build.js';

const fixture = fileURLToPath(new URL('../test-fixtures/quickjs-rejects/', import.meta.url));
const hello = fileURLToPath(new URL('../../../examples/hello_world/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'uos-build-errors-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function failure(action: () => Promise<unknown>): Promise<UosError> {
  try {
    await action();
  } catch (error) {
    if (UosError.isInstance(error)) return error;
    throw error;
  }
  return expect.fail('expected the build to fail');
}

/** A copy of the built platform (images, compiler, manifest) in which `edit` breaks something. */
function brokenPlatform(name: string, edit: (dir: string) => void): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const manifest = JSON.parse(readFileSync(join(platformDirectory, 'manifest.json'), 'utf8'));
  const images = Object.values(manifest.images as Record<string, Record<string, string>>).flatMap((byBoot) => Object.values(byBoot));
  for (const file of ['manifest.json', manifest.compiler, ...images]) copyFileSync(join(platformDirectory, file), join(dir, file));
  edit(dir);
  return dir;
}

describe('buildImage failures', () => {
  it("reports QuickJS's message with the bundle line and the TypeScript line", async () => {
    const error = await failure(() => buildImage({ serviceDir: fixture, output: join(scratch, 'never.elf') }));
    expect(error.code).toBe('bytecode-failed');
    expect(error.message).toMatch(
      /^QuickJS could not compile the bundle:\nSyntaxError: duplicate group name\n\s+at service\.js:\d+ \(service\.ts:4\)/,
    );
  });

  it('names a missing platform and how to get one', async () => {
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    const error = await failure(() => buildImage({ serviceDir: hello, platformDirectory: empty, output: join(scratch, 'never.elf') }));
    expect(error.code).toBe('platform-missing');
    expect(error.message).toContain(join(empty, 'manifest.json'));
    expect(error.message).toMatch(/put a complete uOS platform build in/);
  });

  it('names a missing image', async () => {
    const dir = brokenPlatform('no-image', (d) => rmSync(join(d, 'uos-multiboot.elf')));
    const error = await failure(() => buildImage({ serviceDir: hello, platformDirectory: dir, output: join(scratch, 'never.elf') }));
    expect(error.code).toBe('platform-missing');
    expect(error.message).toContain(join(dir, 'uos-multiboot.elf'));
  });

  it('names a broken compiler, not an empty reason', async () => {
    const dir = brokenPlatform('broken-compiler', (d) =>
      writeFileSync(join(d, 'uos-jsc.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9])),
    );
    const error = await failure(() => buildImage({ serviceDir: hello, platformDirectory: dir, output: join(scratch, 'never.elf') }));
    expect(error.code).toBe('bytecode-failed');
    expect(error.message).toMatch(
      /^QuickJS could not compile the bundle: the uOS bytecode compiler .*uos-jsc\.wasm is not a valid WebAssembly module/,
    );
    expect(error.message).toContain(`put a complete uOS platform build in ${dir}`);
  });

  it('names a missing compiler', async () => {
    const dir = brokenPlatform('no-compiler', (d) => rmSync(join(d, 'uos-jsc.wasm')));
    const error = await failure(() => buildImage({ serviceDir: hello, platformDirectory: dir, output: join(scratch, 'never.elf') }));
    expect(error.message).toContain(`the uOS bytecode compiler ${join(dir, 'uos-jsc.wasm')} is missing`);
  });
});
