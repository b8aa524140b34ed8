/**
 * A consumer's machine, as far as a test can make one: every package of the repository packed with
 * `pnpm pack` (so the prepack guards run and the tarballs hold exactly what npm would publish),
 * installed into fresh projects in a temporary directory outside the monorepo, with the C toolchain
 * shadowed on PATH by tripwires that log any call. Third-party packages come from the npm registry
 * through pnpm's store (offline when the store has them, as after the repository's own install).
 */
import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../../harness.js';

/** Tools a consumer's build must never call: a call is logged and fails. */
export const TRIPWIRES = ['gcc', 'cc', 'c++', 'g++', 'clang', 'clang-14', 'nasm', 'as', 'ld', 'wasm-ld', 'make', 'node-gyp'];

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ConsumerMachine {
  /** The temporary directory everything lives in. */
  root: string;
  /** Package name -> absolute path of its tarball. */
  tarballs: Map<string, string>;
  /** Calls of the tripwires so far, one line each ("gcc -c x.c"). */
  tripwireCalls(): string[];
  /** The environment for commands: tripwires first on PATH, no variables of the vitest running this test. */
  env: NodeJS.ProcessEnv;
  run(
    command: string,
    args: string[],
    options?: { cwd?: string; timeoutMs?: number; input?: string; onStdout?: (stdout: string) => void },
  ): Promise<CommandResult>;
}

/** Why the consumer test cannot run here at all, or undefined. */
export function missingPrerequisite(): string | undefined {
  if (spawnSync('pnpm', ['--version'], { encoding: 'utf8' }).status !== 0) return 'pnpm is not on PATH (scripts/bootstrap.sh installs it)';
  if (spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).status !== 0) return 'qemu-system-x86_64 is not on PATH';
  return undefined;
}

/** A registry or store problem (no network and no cached package), as opposed to a failure of ours. */
export function isOfflineFailure(output: string): boolean {
  return /ERR_PNPM_NO_OFFLINE|ERR_PNPM_META_FETCH_FAIL|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ERR_PNPM_FETCH_/.test(output);
}

function cleanEnvironment(tripwireDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(VITEST|npm_|PNPM_|INIT_CWD$|NODE_OPTIONS$|NODE_ENV$|TEST$)/.test(key)) continue;
    env[key] = value;
  }
  env.PATH = `${tripwireDir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  env.CI = 'true';
  return env;
}

export function runCommand(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number; input?: string; onStdout?: (text: string) => void },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decoded as streams, so a UTF-8 sequence split between two reads stays whole.
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      stdout += text;
      options.onStdout?.(stdout);
    });
    child.stderr!.on('data', (text: string) => {
      stderr += text;
    });
    child.stdin!.end(options.input ?? '');
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Packs every package of the repository (three at a time) into `<root>/tarballs`. */
async function packAll(root: string, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const destination = join(root, 'tarballs');
  mkdirSync(destination, { recursive: true });
  const packagesDir = join(repositoryRoot, 'packages');
  const packages = readdirSync(packagesDir)
    .filter((dir) => existsSync(join(packagesDir, dir, 'package.json')))
    .map((dir) => ({ dir: join(packagesDir, dir), manifest: JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) }))
    .filter((p) => !p.manifest.private);
  const tarballs = new Map<string, string>();
  let next = 0;
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      while (next < packages.length) {
        const { dir, manifest } = packages[next++]!;
        const result = await runCommand('pnpm', ['pack', '--pack-destination', destination], { cwd: dir, env, timeoutMs: 120_000 });
        const file = join(destination, `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`);
        if (result.code !== 0 || !existsSync(file))
          failures.push(`pnpm pack in ${dir} failed (${result.code}):\n${result.stderr}${result.stdout}`);
        else tarballs.set(manifest.name, file);
      }
    }),
  );
  if (failures.length) throw new Error(failures.join('\n'));
  return tarballs;
}

/** Packs everything and lays the tripwires. */
export async function consumerMachine(): Promise<ConsumerMachine> {
  const root = mkdtempSync(join(tmpdir(), 'uos-consumer-'));
  const tripwireDir = join(root, 'tripwires');
  const log = join(root, 'tripwires.log');
  mkdirSync(tripwireDir);
  writeFileSync(log, '');
  for (const tool of TRIPWIRES) {
    const path = join(tripwireDir, tool);
    writeFileSync(
      path,
      `#!/bin/sh\necho "${tool} $*" >> '${log}'\necho "tripwire: ${tool} was called on a consumer's machine" >&2\nexit 1\n`,
    );
    chmodSync(path, 0o755);
  }
  const env = cleanEnvironment(tripwireDir);
  const tarballs = await packAll(root, env);
  return {
    root,
    tarballs,
    env,
    tripwireCalls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    run: (command, args, options = {}) => runCommand(command, args, { ...options, cwd: options.cwd ?? root, env }),
  };
}

/** The versions the repository itself pins, so installs hit pnpm's store. */
export function repositoryVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8'));
  const version = manifest.devDependencies?.[name];
  if (!version) throw new Error(`the repository's package.json pins no ${name}`);
  return version;
}

/**
 * pnpm settings that make a project take every @uos package from the tarballs (a stand-in for the
 * registry, where they are not yet): `file:` overrides for direct and transitive dependencies alike.
 */
export function tarballOverrides(machine: ConsumerMachine): Record<string, string> {
  return Object.fromEntries([...machine.tarballs].map(([name, file]) => [name, `file:${file}`]));
}

/** `pnpm install` in `dir`, preferring the store; the result says whether it failed for want of a network. */
export async function install(machine: ConsumerMachine, dir: string): Promise<CommandResult & { offline: boolean }> {
  const result = await machine.run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile', '--reporter=append-only'], {
    cwd: dir,
    timeoutMs: 240_000,
  });
  return { ...result, offline: result.code !== 0 && isOfflineFailure(result.stdout + result.stderr) };
}
