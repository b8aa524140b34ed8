import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ExitStatus, describeExitStatus } from '@uos/x86';
import { type BuildOptions, type BuildResult, buildImage } from './build.js';
import { PT_LOAD, readElf } from './elf.js';
import { PayloadKind, extractPayload } from './payload.js';
import { QmpClient, type QmpEvent } from './qmp.js';
import { findQemu, probeKvm, qemuArgs } from './qemu.js';
import { type Accel, type Machine, type VmConfig, microvmPcie, parseMemory } from './vm-config.js';
import { VmRunnerError } from './errors.js';
import { type GuestProfile, decodeGuestProfile, findProfileHeader } from './profile/guest-buffer.js';

/**
 * Where a profiled VM's RAM file goes: tmpfs when it has room for all of the guest's RAM (QEMU would die
 * of SIGBUS on a full tmpfs), else the temporary directory. The file is read once, after the VM ends.
 */
function ramDirectory(bytes: number): string {
  const shm = '/dev/shm';
  try {
    const space = statfsSync(shm);
    if (statSync(shm).isDirectory() && space.bavail * space.bsize > bytes * 1.25) return mkdtempSync(join(shm, 'uos-ram-'));
  } catch {
    // no /dev/shm: the temporary directory
  }
  return mkdtempSync(join(tmpdir(), 'uos-ram-'));
}

export interface VmOptions {
  /** A built image (`uos build`). */
  image: string;
  /** vm.json settings; the explicit options below win over them. */
  config?: VmConfig;
  machine?: Machine;
  /** MiB, or a size like "64M". Default 128 MiB. */
  mem?: number | string;
  accel?: Accel;
  /** Words for the service's start(args). */
  args?: readonly string[];
  gdb?: boolean;
  /** Extra QEMU arguments. */
  qemuArgs?: readonly string[];
  /** Also copy the serial console to this stream (e.g. process.stdout). */
  echo?: NodeJS.WritableStream;
  /** Let the serial console read from this process's stdin (interactive `uos boot`). */
  inheritStdin?: boolean;
  /**
   * Give QEMU a QMP socket (in a temporary directory removed when the VM ends) for `Vm.qmp` and
   * `Vm.monitor`. Default true.
   */
  qmp?: boolean;
  /**
   * A command that runs QEMU: the VM's command becomes wrapper + [qemu, ...args]. It must exec QEMU
   * (not fork it) so that `kill()` reaches QEMU, as `['ip', 'netns', 'exec', 'uos-x-123']` does.
   */
  wrapper?: readonly string[];
  /**
   * Run the guest's stack sampler from boot to exit at `hz` (default 997) for `vm.profile()`: QEMU keeps
   * the guest's RAM in a shared file (in /dev/shm where it exists) where the sampler's buffer is read
   * back after the VM ends. The VM's `mem` of RAM file lives until `profile()` or process exit.
   */
  profile?: { hz?: number };
}

/** How a VM ended. */
export interface VmExit {
  /** The guest's exit status, when it reported one (isa-debug-exit). */
  status: number | undefined;
  /** A human description of the outcome. */
  reason: string;
  qemuCode: number | null;
  signal: NodeJS.Signals | null;
  /** QEMU's own error output. */
  qemuErrors: string;
  /** The runner killed the VM (timeout or kill()). */
  killed: boolean;
}

const live = new Set<ChildProcess>();
/** QMP socket directories of VMs not yet ended. */
const liveDirectories = new Set<string>();
/** The RAM files' directories of VMs under `profile` (their profile is read after they end). */
const profileDirectories = new Set<string>();
let exitHookInstalled = false;

function endEverything(): void {
  for (const child of live) child.kill('SIGKILL');
  for (const directory of liveDirectories) removeDirectory(directory);
}

/**
 * Kills every QEMU still running (and removes its QMP directory) when this process exits, and also when
 * a signal ends it: a test runner ends its workers with SIGTERM, which skips 'exit' handlers. After
 * cleaning up, the signal is raised again when no other handler remains, so it ends the process as
 * it would have; when another handler remains, the VMs end at once and a profiled VM's RAM file stays
 * for `profile()` (or the 'exit' hook).
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', endEverything);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const handler = (): void => {
      process.off(signal, handler);
      if (process.listenerCount(signal) === 0) {
        endEverything();
        process.kill(process.pid, signal);
        return;
      }
      // Another handler keeps the process going (`uos boot` on Ctrl-C still writes the --profile it
      // reads from the VM's RAM file): end the VMs now, and leave the RAM files to `profile()` or exit.
      for (const child of live) child.kill('SIGKILL');
      for (const directory of liveDirectories) if (!profileDirectories.has(directory)) removeDirectory(directory);
    };
    process.on(signal, handler);
  }
}

function removeDirectory(directory: string): void {
  liveDirectories.delete(directory);
  profileDirectories.delete(directory);
  try {
    rmSync(directory, { recursive: true, force: true });
  } catch {
    // best effort: a leftover socket directory in tmp is harmless
  }
}

/** Lines of QEMU's stderr that are errors, not warnings. */
function qemuErrorLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => /^qemu-system-\w+: /.test(l) && !/: warning: /.test(l))
    .join('\n');
}

/** What `uos build` recorded in an image (payload section 4). */
export interface ImageInfo {
  service: string;
  engine: 'compact' | 'full';
  boot: 'multiboot' | 'pvh';
  /** Absent in images built before `--optimize` existed (they are `size`). */
  optimize?: 'size' | 'speed';
  packages: string[];
}

export function imageInfo(image: string): ImageInfo | undefined {
  const payload = extractPayload(new Uint8Array(readFileSync(image)));
  const info = payload?.find((s) => s.kind === PayloadKind.info);
  return info ? (JSON.parse(new TextDecoder().decode(info.data)) as ImageInfo) : undefined;
}

/**
 * Checks that a file is a uOS image before QEMU sees it; returns the highest physical address its
 * segments load to (the RAM it needs before the service allocates anything).
 */
export function checkImage(image: string): number {
  if (!existsSync(image) || !statSync(image).isFile()) throw new VmRunnerError('image-missing', `no image at ${image}`);
  const bytes = new Uint8Array(readFileSync(image));
  const elf = readElf(bytes, image);
  if (!extractPayload(bytes)) throw new VmRunnerError('image-invalid', `${image} is an ELF file but not a uOS image (no payload segment)`);
  return Math.max(...elf.programHeaders.filter((h) => h.type === PT_LOAD).map((h) => h.paddr + h.memsz));
}

/**
 * A running uOS VM: QEMU with the image, its serial console on pipes. Tests wait for serial lines,
 * write to the console and expect an exit status; `kill()` (or `withVm`) always ends QEMU.
 */
export class Vm {
  readonly command: readonly string[];
  private buffer = '';
  private stderr = '';
  private readonly exited: Promise<VmExit>;
  private killedByRunner = false;
  private listeners = new Set<() => void>();
  private outputListeners = new Set<(text: string) => void>();
  private qmpConnection: Promise<QmpClient> | undefined;
  private qmpClient: QmpClient | undefined;
  /** The RAM file of a profiled VM, and the nonce its sample buffer carries. */
  private profiling: { directory: string; nonce: bigint } | undefined;
  /** The image the VM runs. */
  image = '';

  private constructor(
    private readonly child: ChildProcess,
    command: string[],
    echo: NodeJS.WritableStream | undefined,
    /** QEMU's QMP socket, when the VM has one. */
    readonly qmpSocket: string | undefined,
  ) {
    this.command = command;
    const qmpDirectory = qmpSocket === undefined ? undefined : dirname(qmpSocket);
    const ended = (): void => {
      live.delete(child);
      if (qmpDirectory) removeDirectory(qmpDirectory);
      this.closeQmp();
    };
    // Decoded as a stream: the serial console's bytes arrive in pieces that may split a UTF-8 sequence.
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      this.buffer += text;
      echo?.write(text);
      for (const l of [...this.outputListeners]) l(text);
      for (const l of [...this.listeners]) l();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolveExit) => {
      child.on('exit', (code, signal) => {
        ended();
        // Let the last output arrive before deciding.
        setImmediate(() => {
          const exit = this.interpret(code, signal);
          for (const l of [...this.listeners]) l();
          resolveExit(exit);
        });
      });
      child.on('error', (error) => {
        ended();
        resolveExit({
          status: undefined,
          reason: `QEMU could not start: ${error.message}`,
          qemuCode: null,
          signal: null,
          qemuErrors: error.message,
          killed: false,
        });
      });
    });
  }

  /** Starts QEMU with an image. */
  static async start(options: VmOptions): Promise<Vm> {
    const image = resolve(options.image);
    const loadEnd = checkImage(image);
    const qemu = findQemu();
    const config = options.config ?? {};
    const requested = options.accel ?? config.accel ?? (process.env.UOS_ACCEL as Accel | undefined) ?? 'auto';
    const accel = requested === 'auto' ? await probeKvm(qemu) : requested;
    const memMiB = parseMemory(options.mem ?? config.mem ?? 128);
    // Below the image's own end the loader cannot place it and QEMU resets without a word.
    const needKiB = Math.ceil(loadEnd / 1024);
    if (memMiB * 1024 < needKiB) {
      throw new VmRunnerError(
        'mem-too-small',
        `${memMiB * 1024} KiB of RAM cannot hold ${image} (it loads up to ${Math.ceil(loadEnd / 1024)} KiB); give at least ${needKiB} KiB`,
      );
    }
    const words = [...(config.args ?? []), ...(options.args ?? [])];
    installExitHook();
    let profiling: { directory: string; nonce: bigint } | undefined;
    if (options.profile) {
      const hz = options.profile.hz ?? 997;
      if (!(Number.isInteger(hz) && hz >= 1 && hz <= 20_000))
        throw new VmRunnerError('usage', `the sampling rate must be a whole number of Hz in 1..20000, got ${hz}`);
      const nonce = randomBytes(8).readBigUInt64LE(0);
      profiling = { directory: ramDirectory(memMiB * 2 ** 20), nonce };
      liveDirectories.add(profiling.directory);
      profileDirectories.add(profiling.directory);
      words.unshift(`uos.profile=${hz}:${nonce.toString(16)}`);
    }
    let qmpSocket: string | undefined;
    if (options.qmp ?? true) {
      const directory = mkdtempSync(join(tmpdir(), 'uos-qmp-'));
      liveDirectories.add(directory);
      qmpSocket = join(directory, 'qmp.sock');
    }
    const machine = options.machine ?? config.machine ?? 'pc';
    const args = qemuArgs({
      image,
      machine,
      ...(microvmPcie(config, machine) ? { pcie: true } : {}),
      memMiB,
      accel,
      ...(config.smp !== undefined ? { smp: config.smp } : {}),
      ...(config.cpu ? { cpu: config.cpu } : {}),
      ...(words.length ? { append: words.map((w) => (/[\s"'\\]/.test(w) ? `"${w.replace(/(["\\])/g, '\\$1')}"` : w)).join(' ') } : {}),
      ...(config.net ? { net: config.net } : {}),
      ...(config.devices ? { devices: config.devices } : {}),
      extra: [...(config.qemu ?? []), ...(options.qemuArgs ?? [])],
      ...(options.gdb ? { gdb: true } : {}),
      ...(qmpSocket ? { qmp: qmpSocket } : {}),
      ...(profiling ? { ramFile: join(profiling.directory, 'ram') } : {}),
    });
    const command = [...(options.wrapper ?? []), qemu, ...args];
    const child = spawn(command[0]!, command.slice(1), { stdio: [options.inheritStdin ? 'inherit' : 'pipe', 'pipe', 'pipe'] });
    live.add(child);
    const vm = new Vm(child, command, options.echo, qmpSocket);
    vm.profiling = profiling;
    vm.image = image;
    return vm;
  }

  /**
   * The guest's samples (a VM started with `profile`): waits for the VM to end, reads its sample buffer
   * from the RAM file, then deletes the file. Turn it into a CPU profile with `resolveProfile` and
   * `toCpuProfile` (symbols and line map from `vm.image`).
   */
  profile(): Promise<GuestProfile> {
    this.profileRead ??= this.readProfile();
    return this.profileRead;
  }

  private profileRead: Promise<GuestProfile> | undefined;

  private async readProfile(): Promise<GuestProfile> {
    const profiling = this.profiling;
    if (!profiling) throw new VmRunnerError('profile-missing', 'this VM was started without profile: {}');
    await this.exited;
    try {
      const ram = new Uint8Array(readFileSync(join(profiling.directory, 'ram')));
      const at = findProfileHeader(ram, profiling.nonce);
      if (at < 0) {
        throw new VmRunnerError(
          'profile-missing',
          'the guest left no sample buffer in its RAM (an image built before the sampler, or too little memory: see its console)',
        );
      }
      return decodeGuestProfile(ram, at);
    } finally {
      removeDirectory(profiling.directory);
    }
  }

  /** Everything the serial console printed so far. */
  get output(): string {
    return this.buffer.replace(/\r\n/g, '\n');
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Calls `listener` with every new piece of serial output (as it arrives); returns the remover. */
  onOutput(listener: (text: string) => void): () => void {
    this.outputListeners.add(listener);
    return () => this.outputListeners.delete(listener);
  }

  /** Types text into the serial console. */
  write(text: string): void {
    this.child.stdin?.write(text);
  }

  private interpret(code: number | null, signal: NodeJS.Signals | null): VmExit {
    const qemuErrors = qemuErrorLines(this.stderr);
    const base = { qemuCode: code, signal, qemuErrors, killed: this.killedByRunner };
    if (this.killedByRunner || signal)
      return { ...base, status: undefined, reason: this.killedByRunner ? 'killed by the runner' : `QEMU got ${signal}` };
    if (qemuErrors) return { ...base, status: undefined, reason: `the image did not boot: ${qemuErrors}` };
    if (code !== null && code % 2 === 1) {
      const status = (code - 1) / 2;
      return { ...base, status, reason: describeExitStatus(status) };
    }
    const reported = /uos: exit status (\d+)/.exec(this.output);
    if (reported) return { ...base, status: Number(reported[1]), reason: describeExitStatus(Number(reported[1])) };
    return { ...base, status: undefined, reason: 'the VM reset or powered off without reporting a status (a triple fault?)' };
  }

  private tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /** Complete lines so far (and the unterminated last one once the VM has ended). */
  private lines(): string[] {
    const lines = this.output.split('\n');
    const ended = this.child.exitCode !== null || this.child.signalCode !== null;
    if (!ended) lines.pop(); // still arriving
    return lines;
  }

  /**
   * Resolves with the first complete serial line matching `pattern` (searching all output so far),
   * rejects when the VM ends first or after `timeoutMs`.
   */
  waitFor(pattern: RegExp | string, timeoutMs = 30_000): Promise<string> {
    const matcher = typeof pattern === 'string' ? (line: string) => line.includes(pattern) : (line: string) => pattern.test(line);
    return new Promise((resolveWait, reject) => {
      let done = false;
      const check = (): void => {
        if (done) return;
        const found = this.lines().find(matcher);
        if (found !== undefined) {
          finish();
          resolveWait(found);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          void this.exited.then((exit) => {
            if (done) return;
            const late = this.lines().find(matcher);
            finish();
            if (late !== undefined) resolveWait(late);
            else
              reject(
                new VmRunnerError(
                  'vm-wait-failed',
                  `the VM ended (${exit.reason}) before printing ${String(pattern)}; its console ended with:\n${this.tail()}`,
                ),
              );
          });
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new VmRunnerError(
            'vm-wait-timeout',
            `no serial line matched ${String(pattern)} within ${timeoutMs} ms; the console ended with:\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      const finish = (): void => {
        done = true;
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Waits for the VM to end; kills it after `timeoutMs` (the exit then says so). */
  async waitForExit(timeoutMs?: number): Promise<VmExit> {
    if (timeoutMs === undefined) return this.exited;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    await this.kill();
    const exit = await this.exited;
    return { ...exit, status: undefined, reason: `timed out after ${timeoutMs} ms` };
  }

  /** Waits for the VM to end with `status`; rejects with the console's tail otherwise. */
  async expectExit(status: number, timeoutMs = 60_000): Promise<VmExit> {
    const exit = await this.waitForExit(timeoutMs);
    if (exit.status !== status) {
      throw new VmRunnerError(
        'vm-unexpected-exit',
        `expected exit status ${status} (${describeExitStatus(status)}), got ${exit.status ?? 'none'} (${exit.reason}); the console ended with:\n${this.tail()}`,
      );
    }
    return exit;
  }

  private get hasEnded(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null || !live.has(this.child);
  }

  /**
   * Runs a QMP command (connecting on first use) and resolves with its `return` value; a command QEMU
   * refuses rejects with a `QmpError` (code `qmp-error`) carrying QEMU's error description.
   */
  async qmp<T = unknown>(command: string, args?: object): Promise<T> {
    if (this.qmpSocket === undefined)
      throw new VmRunnerError('qmp-disabled', 'this VM was started with qmp: false, so it has no QMP socket');
    if (this.hasEnded) throw new VmRunnerError('vm-ended', `cannot run QMP command ${command}: the VM has ended`);
    const socket = this.qmpSocket;
    this.qmpConnection ??= (async () => {
      const endedFirst = this.exited.then((): never => {
        throw new VmRunnerError(
          'vm-ended',
          `the VM ended before its QMP socket answered; QEMU said: ${qemuErrorLines(this.stderr) || '(nothing)'}`,
        );
      });
      endedFirst.catch(() => {}); // only matters while connecting
      const client = await Promise.race([QmpClient.connect(socket), endedFirst]);
      this.qmpClient = client;
      return client;
    })();
    let client: QmpClient;
    try {
      client = await this.qmpConnection;
    } catch (error) {
      this.qmpConnection = undefined;
      throw error;
    }
    return client.execute<T>(command, args);
  }

  /**
   * Runs a human monitor (HMP) command line such as "info pci" through QMP; resolves with its output
   * (lines end in \n). HMP reports its own errors ("unknown command: …", "Error: …") as output.
   */
  async monitor(commandLine: string): Promise<string> {
    const output = await this.qmp<string>('human-monitor-command', { 'command-line': commandLine });
    return output.replace(/\r\n/g, '\n');
  }

  /** The asynchronous QMP events received since `qmp()` connected (the last 100), oldest first. */
  get qmpEvents(): readonly QmpEvent[] {
    return this.qmpClient?.events ?? [];
  }

  private closeQmp(): void {
    const connection = this.qmpConnection;
    this.qmpConnection = undefined;
    connection?.then(
      (client) => client.close(),
      () => {},
    );
  }

  /** Ends QEMU (SIGKILL), closes the QMP connection and waits until QEMU is gone. */
  async kill(): Promise<void> {
    this.closeQmp();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.killedByRunner = true;
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}

/** Runs `body` with a started VM and always kills QEMU afterwards. */
export async function withVm<T>(options: VmOptions, body: (vm: Vm) => Promise<T>): Promise<T> {
  const vm = await Vm.start(options);
  try {
    return await body(vm);
  } finally {
    await vm.kill();
  }
}

export interface BootServiceOptions extends Omit<VmOptions, 'image'>, Omit<BuildOptions, 'serviceDir'> {}

/** Builds a service directory and starts it (the boot protocol follows the machine). */
export async function bootService(serviceDir: string, options: BootServiceOptions = {}): Promise<{ vm: Vm; build: BuildResult }> {
  const machine = options.machine ?? options.config?.machine ?? 'pc';
  const build = await buildImage({ ...options, serviceDir, boot: options.boot ?? (machine === 'microvm' ? 'pvh' : 'multiboot') });
  const vm = await Vm.start({ ...options, image: build.image, machine });
  return { vm, build };
}

export { ExitStatus };
