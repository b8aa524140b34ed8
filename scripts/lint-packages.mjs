#!/usr/bin/env node
// Checks every publishable package the way users will consume it: publint (manifest, exports, files)
// and Are The Types Wrong (types resolve under node16 ESM and bundlers; the packages are ESM-only).
// Packages must be built first (`pnpm build`). Also the house rules publint does not know: the source
// condition first in every exports entry (TypeScript and bundlers take the first condition that matches,
// so a `types` before it makes type-checks in the monorepo read stale dist/ declarations), and the kernel
// and hw packages only as peer dependencies (one copy of each in a service, whatever depends on them),
// and a tarball without files a consumer never needs (build stamps, tests, test folders: packed-files.mjs).
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packedFiles, unneededFiles } from './packed-files.mjs';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const bin = (tool) => join(root, 'node_modules', '.bin', tool);
const packages = readdirSync(join(root, 'packages')).map((dir) => join(root, 'packages', dir));

const SOURCE_CONDITION = 'uos-source';
const PEER_ONLY = ['@uos/kernel', '@uos/hw'];

/** What the manifest in `dir` breaks of the house rules, as messages. */
function manifestProblems(manifest) {
  const problems = [];
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target !== 'object' || target === null) continue;
    const conditions = Object.keys(target);
    if (conditions[0] !== SOURCE_CONDITION) {
      problems.push(`exports["${subpath}"]: the first condition must be "${SOURCE_CONDITION}", not "${conditions[0]}"`);
    }
  }
  for (const name of PEER_ONLY) {
    if (manifest.dependencies?.[name]) problems.push(`${name} must be a peerDependency (one copy per service), not a dependency`);
  }
  return problems;
}

async function check(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const problems = manifestProblems(manifest);
  try {
    for (const { path, why } of unneededFiles(await packedFiles(dir), manifest)) problems.push(`the tarball would contain ${path}: ${why}`);
  } catch (error) {
    problems.push(`npm pack --dry-run:\n${error.stderr ?? error.message}`);
  }
  try {
    const { stdout } = await run(bin('publint'), [dir, '--strict']);
    if (!/All good!/.test(stdout)) problems.push(`publint:\n${stdout}`);
  } catch (error) {
    problems.push(`publint:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
  }
  try {
    await run(bin('attw'), ['--pack', dir, '--profile', 'esm-only', '--quiet']);
  } catch (error) {
    const { stdout } = await run(bin('attw'), ['--pack', dir, '--profile', 'esm-only', '--format', 'ascii']).catch((e) => e);
    problems.push(`attw:\n${stdout ?? error.message}`);
  }
  return problems;
}

// Three packages at a time: each check packs its package.
const results = new Array(packages.length);
let next = 0;
await Promise.all(
  Array.from({ length: 3 }, async () => {
    while (next < packages.length) {
      const i = next++;
      results[i] = await check(packages[i]);
    }
  }),
);
let failed = 0;
packages.forEach((dir, i) => {
  const name = dir.slice(root.length);
  if (results[i].length) {
    failed++;
    process.stdout.write(`✗ ${name}\n${results[i].join('\n')}\n`);
  } else {
    process.stdout.write(`✓ ${name}: manifest, packed files, publint, attw\n`);
  }
});
process.exit(failed ? 1 : 0);
