#!/usr/bin/env node
// The prepack guard of every package (`"prepack": "node ../../scripts/prepack.mjs"`; pnpm pack and publish
// run it in the package's directory): refuses to pack a package whose manifest points at files that are
// not there (exports, main, types, bin: an unbuilt dist/), or whose dist/ is older than its src/ (a stale
// build). Every message names the file and what to do.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const dir = process.cwd();
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const build = `run \`pnpm --filter ${manifest.name} build\` (or \`pnpm build\` at the repository root) first`;
const problems = [];

function targets(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}
const named = new Set([...targets(manifest.exports), ...targets(manifest.bin), manifest.main, manifest.types].filter(Boolean));
for (const target of named) {
  if (target.includes('*')) continue;
  if (!existsSync(join(dir, target))) problems.push(`${join(dir, target)} (named in package.json) is missing`);
}

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(
    0,
    ...readdirSync(path)
      .filter((entry) => !entry.endsWith('.test.ts'))
      .map((entry) => newest(join(path, entry))),
  );
}
const source = newest(join(dir, 'src'));
const output = newest(join(dir, 'dist'));
if (output && source > output) problems.push(`${join(dir, 'dist')} is older than ${join(dir, 'src')} (a stale build)`);

if (problems.length) {
  process.stderr.write(
    `${manifest.name}: refusing to pack ${relative(process.cwd(), dir) || '.'}:\n  ${problems.join('\n  ')}\n  ${build}\n`,
  );
  process.exit(1);
}
