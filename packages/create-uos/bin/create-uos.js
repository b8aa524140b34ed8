#!/usr/bin/env node
// create-uos: scaffolds a uOS service project (`pnpm create uos my-service`, `npm create uos my-service`).
// Writes package.json with the uOS packages, service.ts, vm.json, a tsconfig for the service and one for
// Node-side tests, a vitest test that boots the service in QEMU, and a README. Node only, no dependencies.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const templateDir = join(here, '..', 'template');
const own = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'));

const USAGE = `usage: create-uos <directory> [--name package-name]
  Scaffolds a uOS service in <directory> (which must not exist or be empty).
`;

function fail(message) {
  process.stderr.write(`create-uos: ${message}\n`);
  process.exit(1);
}

/** The package manager that ran us (npm_config_user_agent: "pnpm/10.1.0 npm/? node/v20..."), for the hints. */
function packageManager() {
  const agent = process.env.npm_config_user_agent ?? '';
  if (agent.startsWith('pnpm')) return 'pnpm';
  if (agent.startsWith('yarn')) return 'yarn';
  if (agent.startsWith('bun')) return 'bun';
  return 'npm';
}

/** A valid npm package name from a directory name: lower case, no spaces or characters npm rejects. */
function packageName(text) {
  const name = text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name || 'uos-service';
}

function files(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
} catch (error) {
  fail(`${error.message}\n${USAGE}`);
}
if (parsed.values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (parsed.positionals.length > 1) fail(`one directory, please\n${USAGE}`);
const target = resolve(parsed.positionals[0] ?? 'my-uos-service');
if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0)) {
  fail(`${target} already exists and is not an empty directory; choose another name`);
}
const name = parsed.values.name ?? packageName(basename(target));
if (!/^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/.test(name)) fail(`"${name}" is not a valid npm package name`);

const manager = packageManager();
const run = manager === 'npm' ? 'npm' : manager;
const uos = `^${own.version}`;
const manifest = {
  name,
  version: '0.1.0',
  private: true,
  description: 'A uOS service',
  type: 'module',
  uos: { entry: 'service.ts' },
  scripts: {
    build: 'uos build .',
    start: 'uos boot .',
    test: 'vitest run',
    typecheck: 'tsc -p tsconfig.json && tsc -p tsconfig.test.json',
  },
  dependencies: {
    '@uos/driver-virtionet': uos,
    '@uos/hw': uos,
    '@uos/kernel': uos,
    '@uos/net': uos,
  },
  devDependencies: {
    '@types/node': own.uosTemplate.typesNode,
    '@uos/vmrunner': uos,
    typescript: own.uosTemplate.typescript,
    vitest: own.uosTemplate.vitest,
  },
  // esbuild (under @uos/vmrunner) may run its install check under pnpm 10.
  pnpm: { onlyBuiltDependencies: ['esbuild'] },
};

mkdirSync(target, { recursive: true });
writeFileSync(join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
for (const file of files(templateDir)) {
  const path = relative(templateDir, file).replace(/(^|[/\\])_gitignore$/, '$1.gitignore');
  const text = readFileSync(file, 'utf8').replaceAll('{{name}}', name).replaceAll('{{run}}', run);
  mkdirSync(dirname(join(target, path)), { recursive: true });
  writeFileSync(join(target, path), text);
}

const where = relative(process.cwd(), target) || '.';
process.stdout.write(
  `create-uos: ${name} is ready in ${where}\n\n` +
    `  cd ${where}\n  ${manager} install\n  ${run} test     # boots it in QEMU and checks it echoes\n  ${run} start    # boots it; Ctrl-C ends it\n\n` +
    'You need QEMU (qemu-system-x86_64) and Node 20 or later; nothing is compiled on your machine.\n',
);
