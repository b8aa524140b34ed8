#!/usr/bin/env node
// The prepack guard of @uos/x86-platform (after the generic one in scripts/prepack.mjs): refuses to pack
// when a file the platform manifest names is missing or is not what it should be, or when the compiler
// cannot compile a test script. Every message names the file and what to do.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const platform = join(root, 'platform');
const BUILD = 'run `pnpm --filter @uos/x86-platform build` first (it builds the native platform of @uos/x86 and copies it here)';

function refuse(message) {
  process.stderr.write(`@uos/x86-platform: refusing to pack: ${message}\n`);
  process.exit(1);
}

const manifestPath = join(platform, 'manifest.json');
if (!existsSync(manifestPath)) refuse(`${manifestPath} is missing; ${BUILD}`);
let manifest;
try {
  manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
} catch (error) {
  refuse(`${manifestPath} is not valid JSON (${error.message}); ${BUILD}`);
}
const images = [...new Set(Object.values(manifest.images ?? {}).flatMap((byBoot) => Object.values(byBoot)))];
// Two engines, two boot protocols, each for size and for speed.
if (images.length !== 8 || typeof manifest.compiler !== 'string')
  refuse(`${manifestPath} does not name eight images and a compiler; ${BUILD}`);
const ELF = [0x7f, 0x45, 0x4c, 0x46];
for (const image of images) {
  const path = join(platform, image);
  if (!existsSync(path)) refuse(`${path} (named by ${manifestPath}) is missing; ${BUILD}`);
  const head = readFileSync(path).subarray(0, 4);
  if (!ELF.every((byte, i) => head[i] === byte)) refuse(`${path} is not an ELF file; ${BUILD}`);
  if (manifest.sizes?.[image] !== undefined && manifest.sizes[image] !== readFileSync(path).length) {
    refuse(`${path} is ${readFileSync(path).length} bytes, the manifest says ${manifest.sizes[image]}; ${BUILD}`);
  }
}
const compilerPath = join(platform, manifest.compiler);
if (!existsSync(compilerPath)) refuse(`${compilerPath} (the bytecode compiler) is missing; ${BUILD}`);

const entry = join(root, 'dist', 'index.js');
if (!existsSync(entry)) refuse(`${entry} is missing; ${BUILD}`);
const { loadPlatform } = await import(pathToFileURL(entry).href);
const probe = 'const big = 1n << 70n; globalThis.answer = `${big}`.length + [1, 2, 3].map((x) => x * 2).length;\n';
try {
  const result = await loadPlatform(platform).compile(probe, { filename: 'probe.js' });
  if (!result.ok) refuse(`${compilerPath} rejects a valid test script: ${result.error}; ${BUILD}`);
  if (result.bytecode.length < 32)
    refuse(`${compilerPath} produced ${result.bytecode.length} bytes of bytecode for a test script; ${BUILD}`);
} catch (error) {
  refuse(`${compilerPath} cannot compile a test script: ${error.message}`);
}
process.stdout.write(`@uos/x86-platform: ${images.length} images and ${manifest.compiler} checked\n`);
