#!/usr/bin/env node
// Builds the workspace packages whose build output is older than their sources (or missing), in
// dependency order. `pnpm build` rebuilds everything; this keeps the quick-start commands fast when
// nothing changed. The native platform has its own input hash (packages/x86/scripts/build-native.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

const packages = readdirSync(packagesDir).map((dir) => {
  const manifest = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
  const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies });
  return { dir, name: manifest.name, dependencies, builds: Boolean(manifest.scripts?.build) };
});
const byName = new Map(packages.map((p) => [p.name, p]));
const ordered = [];
const visit = (p, seen = new Set()) => {
  if (ordered.includes(p) || seen.has(p)) return;
  seen.add(p);
  for (const d of p.dependencies) if (byName.has(d)) visit(byName.get(d), seen);
  ordered.push(p);
};
packages.forEach((p) => visit(p));

const rebuilt = new Set();
for (const p of ordered) {
  if (!p.builds) continue; // nothing to build (create-uos)
  const dir = join(packagesDir, p.dir);
  const stamp = join(dir, 'dist', '.build-stamp');
  const inputs = Math.max(
    newest(join(dir, 'src')),
    newest(join(dir, 'native')),
    newest(join(dir, 'scripts')),
    newest(join(dir, 'package.json')),
    newest(join(dir, 'tsup.config.ts')),
    newest(join(root, 'tsup.preset.ts')),
    // @uos/x86-platform copies the native build of @uos/x86 (which `pnpm --filter @uos/x86 build:native` may renew alone).
    p.dir === 'x86-platform' ? newest(join(packagesDir, 'x86', 'platform')) : 0,
  );
  const nativeMissing = (p.dir === 'x86' || p.dir === 'x86-platform') && !existsSync(join(dir, 'platform', 'manifest.json'));
  const stale = !existsSync(stamp) || statSync(stamp).mtimeMs < inputs || nativeMissing || p.dependencies.some((d) => rebuilt.has(d));
  if (!stale) continue;
  process.stdout.write(`building ${p.name}\n`);
  execFileSync('pnpm', ['--filter', p.name, 'run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(stamp, new Date().toISOString());
  rebuilt.add(p.name);
}
