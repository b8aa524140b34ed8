#!/usr/bin/env node
// Copies the native build of @uos/x86 (packages/x86/platform/, made by its scripts/build-native.mjs) into
// this package's platform/: the platform images, the WebAssembly compiler, and the multiboot images' ELF64
// debug twins (for `uos boot --gdb` in the repository; `files` in package.json keeps them out of the
// tarball). Writes this package's manifest, whose compiler is the .wasm. Builds the native platform first
// when it is missing.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, '..', 'x86', 'platform');
const target = join(root, 'platform');

if (!existsSync(join(source, 'manifest.json'))) {
  execFileSync(process.execPath, [join(root, '..', 'x86', 'scripts', 'build-native.mjs')], { stdio: 'inherit' });
}
const native = JSON.parse(readFileSync(join(source, 'manifest.json'), 'utf8'));
if (!native.wasmCompiler) {
  process.stderr.write(
    `[@uos/x86-platform] ${source}/manifest.json names no wasmCompiler: rebuild it with \`pnpm --filter @uos/x86 build\`\n`,
  );
  process.exit(1);
}
const images = [...new Set(Object.values(native.images).flatMap((byBoot) => Object.values(byBoot)))];
const debug = [...new Set(Object.values(native.debug).flatMap((byBoot) => Object.values(byBoot)))];
const files = [...new Set([...images, ...debug, native.wasmCompiler])];

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const file of files) copyFileSync(join(source, file), join(target, file));
const manifest = {
  inputHash: native.inputHash,
  quickjs: native.quickjs,
  images: native.images,
  debug: native.debug,
  compiler: native.wasmCompiler,
  sizes: native.sizes,
};
writeFileSync(join(target, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(`[@uos/x86-platform] platform/: ${files.length} files from ${source}\n`);
