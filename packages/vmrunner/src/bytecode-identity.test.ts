// The WebAssembly compiler that `uos build` runs (@uos/x86-platform's uos-jsc.wasm) must produce exactly the
// bytecode of the native host build of the image's engine (@uos/x86's uos-jsc, the reference, built from the
// same QuickJS sources and defines), so the guest loads what the host produced. The corpus: every example
// and integration service of the repository, bundled as `uos build` bundles them, and a script of the
// constructs whose bytecode depends on number formatting and bignums.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadPlatform as loadNativeBuild } from '@uos/x86/platform';
import { loadPlatform } from '@uos/x86-platform';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_NAME, bundleService } from './bundle.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'uos-bytecode-identity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Directories under `dir` (depth first) that hold a service.ts. */
function services(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name === 'build') continue;
    const path = join(dir, entry.name);
    if (existsSync(join(path, 'service.ts'))) found.push(path);
    found.push(...services(path));
  }
  return found.sort();
}

/** The native reference compiler's output, or its error text (what it prints on stderr). */
async function compileNative(source: string, name: string): Promise<{ ok: true; bytecode: Uint8Array } | { ok: false; error: string }> {
  const compiler = loadNativeBuild().compiler;
  const input = join(work, `${name}.js`);
  const output = join(work, `${name}.bin`);
  writeFileSync(input, source);
  try {
    await run(compiler, [input, output, '--filename', BUNDLE_NAME], { maxBuffer: 16 << 20 });
  } catch (error) {
    return { ok: false, error: String((error as { stderr?: string }).stderr).trim() };
  }
  return { ok: true, bytecode: new Uint8Array(readFileSync(output)) };
}

async function expectIdentical(source: string, name: string): Promise<number> {
  const native = await compileNative(source, name);
  const wasm = await loadPlatform().compile(source, { filename: BUNDLE_NAME });
  if (!native.ok) expect.fail(`the native compiler rejected ${name}: ${native.error}`);
  if (!wasm.ok) expect.fail(`the WebAssembly compiler rejected ${name}: ${wasm.error}`);
  expect(wasm.bytecode.length).toBe(native.bytecode.length);
  expect(Buffer.compare(wasm.bytecode, native.bytecode), `${name}: the bytecode differs`).toBe(0);
  return native.bytecode.length;
}

const corpus = [...services(join(root, 'examples')), ...services(join(root, 'test', 'integration'))];
/** Services whose bundle must fail (their own tests check the message); everything else must compile. */
const BUNDLE_FAILS = [join('test', 'integration', 'vmrunner', 'dropped-import')];

describe('the WebAssembly compiler against the native reference', () => {
  it('has a corpus: every example and integration service', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
    expect(corpus.map((dir) => relative(root, dir))).toContain(join('examples', 'hello_world'));
  });

  it.each(corpus.map((dir) => [relative(root, dir), dir]))('%s: byte-identical bytecode', async (name, dir) => {
    if (BUNDLE_FAILS.includes(name)) {
      await expect(bundleService(dir)).rejects.toThrow(/bundling .* failed/);
      return;
    }
    const bundle = await bundleService(dir);
    const bytes = await expectIdentical(bundle.code, name.replace(/[/\\]/g, '-'));
    expect(bytes).toBeGreaterThan(1000);
  });

  it('constructs whose bytecode depends on number formatting and bignums', async () => {
    const source = [
      // Numeric property keys become atoms through number-to-string at compile time.
      'const keys = { 0.1: 1, 1e21: 2, 5e-324: 3, 1.7976931348623157e308: 4, 123.456: 5, 0.000001: 6, 1e-7: 7, [2 ** 53]: 8 };',
      'const floats = [0.1 + 0.2, 1 / 3, -0, 2.5e-310, 9007199254740993, 0x1fffffffffffff, 1e400];',
      // BigInt literals of every limb count, negative, hex and huge.
      'const bigs = [0n, 1n, -1n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 2n ** 64n, 123456789012345678901234567890123456789n, -0x7fn];',
      'const big = 1n << 200n;',
      'class A { #p = 1n; static s = 2.5; get q() { return this.#p; } static t = A.s; }',
      'async function* g() { yield* [1, 2]; for await (const x of g()) if (x) break; }',
      'label: for (const [a, { b = 1, ...c }] of [[1, {}]]) { if (a) continue label; }',
      'const re = [/a(?<n>b)+\\u{1F600}/gu, /[\\d\\s]{2,}?$/ims];',
      'const text = `t${keys[0.1]}\\u00e9\\u{10ffff}`, ünïcode = "日本語";',
      'globalThis.out = { keys, floats, bigs, big, A, g, re, text, ünïcode, opt: keys?.x ?? 0 };',
    ].join('\n');
    await expectIdentical(source, 'constructs');
  });

  it('reports the same syntax error as the native compiler', async () => {
    const source = 'const ok = 1;\nfunction broken( {\n';
    const native = await compileNative(source, 'broken');
    const wasm = await loadPlatform().compile(source, { filename: BUNDLE_NAME });
    expect(native.ok).toBe(false);
    expect(wasm.ok).toBe(false);
    if (!native.ok && !wasm.ok) expect(wasm.error).toBe(native.error);
  });
});
