/**
 * The `uos` command: build images and boot them in QEMU.
 *   uos build <service-dir> [-o image] [--boot multiboot|pvh] [--eval auto|on|off] [--optimize auto|size|speed] [--no-symbols]
 *   uos boot <service-dir|image> [--vm vm.json] [--machine pc|q35|microvm] [--mem SIZE]
 *            [--accel auto|tcg|kvm] [--timeout S] [--publish [ADDR:]HOST:GUEST]... [--gdb] [--eval auto|on|off]
 *            [--optimize auto|size|speed]
 *            [--profile out.cpuprofile] [--profile-folded out.folded] [--profile-hz N] [-- service args]
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitStatus } from '@uos/x86';
import { type BuildResult, type EvalMode, type OptimizeMode, buildImage } from './build.js';
import { listenAnnouncer, checkHostPort, parsePublish, publishPorts } from './publish.js';
import { shellQuote } from './qemu.js';
import { ACCELS, type Accel, MACHINES, type VmConfig, loadVmConfig, validateVmConfig } from './vm-config.js';
import { Vm, imageInfo } from './vm.js';
import { loadPlatform } from '@uos/x86-platform';
import { VmRunnerError } from './errors.js';
import { resolveProfile, summarize, toCpuProfile, toFolded } from './profile/cpu-profile.js';
import { imageSymbolizer } from './profile/stacks.js';
import { UosError } from '@uos/errors';

/** CLI exit codes beside the guest's own status (IncludeOS's vmrunner uses the same numbers). */
export const CliExit = { usage: 2, buildFailed: 1, timeout: ExitStatus.timeout, bootFailed: 72, configInvalid: 73 } as const;

const USAGE = `usage:
  uos build <service-dir> [-o image] [--boot multiboot|pvh] [--eval auto|on|off] [--optimize auto|size|speed] [--no-symbols]
  uos boot <service-dir|image> [--vm vm.json] [--machine pc|q35|microvm] [--mem SIZE]
           [--accel auto|tcg|kvm] [--timeout S] [--publish [ADDR:]HOST:GUEST[/udp]]... [--gdb] [--eval auto|on|off]
           [--optimize auto|size|speed]
           [--profile out.cpuprofile] [--profile-folded out.folded] [--profile-hz N] [-- service args]
`;

function usage(message: string): never {
  throw new VmRunnerError('usage', `${message}\n${USAGE}`);
}

/** Paths on the command line are relative to where the user ran the command (pnpm scripts change cwd). */
function userPath(p: string): string {
  const base = process.env.npm_lifecycle_event === 'uos' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
  return isAbsolute(p) ? p : resolve(base, p);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function printBuild(result: BuildResult): void {
  const out = process.stdout;
  out.write(
    `uos: built ${relative(process.cwd(), result.image) || result.image}: ${result.imageBytes} bytes (${kib(result.imageBytes)}), ` +
      `${result.boot}, ${result.engine === 'full' ? 'full engine (eval)' : 'compact engine'}, optimised for ${result.optimize}\n`,
  );
  out.write(`uos:   bundle ${kib(result.bundleBytes)} -> bytecode ${kib(result.bytecodeBytes)}; packages:\n`);
  for (const p of result.packages) out.write(`uos:     ${p.name}${p.version ? `@${p.version}` : ''}  ${kib(p.bytes)} of JS\n`);
  if (result.assets) printAssets(result.assets);
  // stderr, so a warning shows even when stdout (the console under `uos boot`) is piped away
  for (const warning of result.warnings) process.stderr.write(`uos: ${warning}\n`);
}

/** At most this many files are listed one per line; the rest are counted. */
const LISTED_ASSETS = 40;

function printAssets(assets: NonNullable<BuildResult['assets']>): void {
  const out = process.stdout;
  const plain = assets.files.reduce((sum, f) => sum + f.size, 0);
  const gzip = assets.files.filter((f) => f.gzip !== undefined).length;
  const br = assets.files.filter((f) => f.br !== undefined).length;
  out.write(
    `uos:   assets from ${relative(process.cwd(), assets.folder) || '.'}/: ${assets.files.length} files, ${kib(plain)}; ` +
      `${kib(assets.sectionBytes)} in the image with ${gzip} gzip and ${br} brotli variants:\n`,
  );
  const width = Math.min(48, Math.max(0, ...assets.files.map((f) => f.path.length)));
  for (const f of assets.files.slice(0, LISTED_ASSETS)) {
    const variants = [f.gzip !== undefined ? `gzip ${kib(f.gzip)}` : '', f.br !== undefined ? `br ${kib(f.br)}` : '']
      .filter(Boolean)
      .join(', ');
    out.write(`uos:     ${f.path.padEnd(width)}  ${kib(f.size).padStart(10)}${variants ? `  (${variants})` : ''}\n`);
  }
  if (assets.files.length > LISTED_ASSETS) out.write(`uos:     … and ${assets.files.length - LISTED_ASSETS} more\n`);
}

function oneOf<T extends string>(value: string | undefined, choices: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) usage(`${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

async function build(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      boot: { type: 'string' },
      eval: { type: 'string' },
      optimize: { type: 'string' },
      'no-symbols': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) usage('uos build takes one service directory');
  const result = await buildImage({
    serviceDir: userPath(positionals[0]!),
    ...(values.output ? { output: userPath(values.output) } : {}),
    boot: oneOf(values.boot, ['multiboot', 'pvh'] as const, '--boot') ?? 'multiboot',
    eval: oneOf(values.eval, ['auto', 'on', 'off'] as const, '--eval') ?? ('auto' satisfies EvalMode),
    optimize: oneOf(values.optimize, ['auto', 'size', 'speed'] as const, '--optimize') ?? ('auto' satisfies OptimizeMode),
    symbols: !values['no-symbols'],
  });
  printBuild(result);
  return 0;
}

async function boot(argv: string[]): Promise<number> {
  const separator = argv.indexOf('--');
  const own = separator >= 0 ? argv.slice(0, separator) : argv;
  const serviceArgs = separator >= 0 ? argv.slice(separator + 1) : [];
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      vm: { type: 'string' },
      machine: { type: 'string' },
      mem: { type: 'string' },
      accel: { type: 'string' },
      timeout: { type: 'string' },
      gdb: { type: 'boolean' },
      eval: { type: 'string' },
      optimize: { type: 'string' },
      publish: { type: 'string', short: 'p', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      profile: { type: 'string' },
      'profile-folded': { type: 'string' },
      'profile-hz': { type: 'string' },
    },
  });
  if (positionals.length !== 1) usage('uos boot takes one service directory or image');
  const target = userPath(positionals[0]!);
  if (!existsSync(target)) usage(`no such service directory or image: ${positionals[0]}`);
  const isDirectory = statSync(target).isDirectory();
  let config: VmConfig = {};
  if (values.vm) config = loadVmConfig(userPath(values.vm));
  else if (isDirectory && existsSync(join(target, 'vm.json'))) config = loadVmConfig(join(target, 'vm.json'));
  const machine = oneOf(values.machine, MACHINES, '--machine') ?? config.machine ?? 'pc';
  const accel = oneOf(values.accel, ACCELS, '--accel') as Accel | undefined;
  if (values.mem !== undefined) validateVmConfig({ mem: values.mem });
  const timeout = values.timeout !== undefined ? Number(values.timeout) : config.timeout;
  if (timeout !== undefined && !(timeout > 0)) usage(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
  const forwards = (values.publish ?? []).map(parsePublish);
  const published = publishPorts(config, forwards);
  config = published.config;
  if (published.note) process.stderr.write(`uos: ${published.note}\n`);
  for (const forward of forwards) await checkHostPort(forward);
  const profiling = values.profile !== undefined || values['profile-folded'] !== undefined;
  const hz = values['profile-hz'] !== undefined ? Number(values['profile-hz']) : undefined;
  if (values['profile-hz'] !== undefined && !profiling) usage('--profile-hz needs --profile or --profile-folded');
  if (hz !== undefined && !(Number.isInteger(hz) && hz >= 1 && hz <= 20_000))
    usage(`--profile-hz must be a whole number of Hz in 1..20000, got "${values['profile-hz']}"`);

  let image = target;
  if (isDirectory) {
    const result = await buildImage({
      serviceDir: target,
      boot: machine === 'microvm' ? 'pvh' : 'multiboot',
      eval: oneOf(values.eval, ['auto', 'on', 'off'] as const, '--eval') ?? 'auto',
      optimize: oneOf(values.optimize, ['auto', 'size', 'speed'] as const, '--optimize') ?? 'auto',
    });
    printBuild(result);
    image = result.image;
  }
  const vm = await Vm.start({
    image,
    config,
    machine,
    ...(values.mem ? { mem: values.mem } : {}),
    ...(accel ? { accel } : {}),
    args: serviceArgs,
    gdb: values.gdb ?? false,
    echo: process.stdout,
    inheritStdin: process.stdin.isTTY === true,
    ...(profiling ? { profile: hz !== undefined ? { hz } : {} } : {}),
  });
  if (values.verbose) process.stderr.write(`uos: ${shellQuote(vm.command)}\n`);
  if (forwards.length > 0) {
    // Once the service says it listens, say where to point a browser.
    const announce = listenAnnouncer(
      forwards,
      (config.net ?? []).some((n) => n.backend === 'tap'),
    );
    vm.onOutput((text) => {
      for (const line of announce(text)) process.stdout.write(`${line}\n`);
    });
  }
  // Not a terminal: what arrives on stdin is typed into the serial console.
  if (process.stdin.isTTY !== true) {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (text: string) => vm.write(text));
  }
  if (values.gdb) {
    const info = imageInfo(image);
    let symbols = '<the platform ELF64>';
    try {
      if (info) symbols = loadPlatform().debugImage(info.boot, info.engine, info.optimize ?? 'size');
    } catch (error) {
      // A published platform has no ELF64 twins of its multiboot images: say so, and keep the VM waiting.
      process.stderr.write(`uos: ${(error as Error).message}\n`);
    }
    process.stderr.write(`uos: waiting for gdb on :1234; run: gdb -ex 'target remote :1234' ${symbols}\n`);
  }
  // A closed stdout (`uos boot … | head`) ends the VM instead of crashing the runner.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') void vm.kill();
  });
  let stoppedBy: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) =>
    process.on(signal, () => {
      stoppedBy = signal;
      void vm.kill();
    });
  forward('SIGINT');
  forward('SIGTERM');
  const exit = await vm.waitForExit(timeout !== undefined ? timeout * 1000 : undefined);
  if (profiling) {
    try {
      await writeProfile(vm, {
        ...(values.profile !== undefined ? { cpuprofile: userPath(values.profile) } : {}),
        ...(values['profile-folded'] !== undefined ? { folded: userPath(values['profile-folded']) } : {}),
      });
    } catch (error) {
      // The guest's own status matters more than its profile.
      process.stderr.write(`uos: no profile: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  if (stoppedBy && exit.status === undefined) {
    // Ctrl-C (or a SIGTERM) is how a server's run ends: say so, and end as the shell expects (128 + signal).
    process.stderr.write(`uos: stopped (${stoppedBy})\n`);
    return 128 + osConstants.signals[stoppedBy];
  }
  if (exit.status !== undefined) {
    if (exit.status !== 0) process.stderr.write(`uos: the service ended: ${exit.reason}\n`);
    return exit.status;
  }
  if (/timed out/.test(exit.reason)) {
    process.stderr.write(`uos: timeout: the VM ran longer than ${timeout} s and was stopped\n`);
    return CliExit.timeout;
  }
  process.stderr.write(`uos: ${exit.reason}\n`);
  return CliExit.bootFailed;
}

/** Writes the outputs of `--profile` and prints where the time went (to stderr: stdout is the console). */
async function writeProfile(vm: Vm, to: { cpuprofile?: string; folded?: string }): Promise<void> {
  const resolved = resolveProfile(await vm.profile(), imageSymbolizer(new Uint8Array(readFileSync(vm.image))));
  if (to.cpuprofile) writeFileSync(to.cpuprofile, JSON.stringify(toCpuProfile(resolved)));
  if (to.folded) writeFileSync(to.folded, toFolded(resolved));
  const { samples, entries } = summarize(resolved);
  const seconds = (resolved.endUs - resolved.startUs) / 1e6;
  const lost = resolved.dropped ? ` (${resolved.dropped} lost: the buffer was full)` : '';
  const out = process.stderr;
  out.write(`uos: profile: ${samples} samples at ${resolved.hz} Hz over ${seconds.toFixed(2)} s${lost}`);
  out.write(` -> ${[to.cpuprofile, to.folded].filter(Boolean).join(', ')}\n`);
  for (const e of entries.slice(0, 10)) {
    if (!e.self) break;
    const where = e.url ? ` (${e.url}:${e.line})` : '';
    out.write(`uos:   ${((e.self / samples) * 100).toFixed(1).padStart(5)}%  ${e.name}${where}\n`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'build':
        return await build(rest);
      case 'boot':
        return await boot(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? CliExit.usage : 0;
      default:
        usage(`unknown command "${command}"`);
    }
  } catch (error) {
    if (UosError.isInstance(error)) {
      process.stderr.write(`uos: ${error.message}\n`);
      if (error.code === 'usage') return CliExit.usage;
      if (error.code === 'vm-config-invalid') return CliExit.configInvalid;
      if (['qemu-missing', 'elf-invalid', 'mem-too-small'].includes(error.code) || error.code.startsWith('image-'))
        return CliExit.bootFailed;
      return CliExit.buildFailed;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`uos: ${error.message}\n${USAGE}`);
      return CliExit.usage;
    }
    throw error;
  }
}
