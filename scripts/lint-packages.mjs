#!/usr/bin/env node
// Checks every publishable package the way users will consume it: publint (manifest, exports, files)
// and Are The Types Wrong (types resolve under node16 ESM and bundlers; the packages are ESM-only).
// Packages must be built first (`pnpm build`).
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const bin = (tool) => join(root, 'node_modules', '.bin', tool);
const packages = readdirSync(join(root, 'packages')).map((dir) => join(root, 'packages', dir));

async function check(dir) {
  const problems = [];
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
    process.stdout.write(`✓ ${name}: publint, attw\n`);
  }
});
process.exit(failed ? 1 : 0);
