/**
 * Links between a guest's NIC and the host, for integration tests of network drivers.
 *
 * - `createTapLink`: a network namespace of its own with a tap device for QEMU (`-netdev tap`), which
 *   tests reach with `exec`/`spawn` inside the namespace; QEMU runs in it through `qemuWrapper`
 *   (`VmOptions.wrapper`). Needs root; when it cannot be made the answer says why, and the caller says
 *   so plainly and falls back (to `createDgramLink`) or skips.
 * - `createDgramLink`: two UDP sockets on 127.0.0.1 for QEMU's dgram netdev; works everywhere.
 * - `buildTool`: the C tools of test/tools: raw-frames (raw Ethernet frames on the tap side) and
 *   fault-relay (loss, reordering and duplication between a tap and QEMU, where tc netem is missing).
 *
 * Every namespace, process and socket made here is removed when the test ends (when made inside a
 * test), on `close()`, and on process exit; nothing else is ever touched: namespaces are deleted by
 * their exact name, processes ended by their own PID.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type Socket as DgramSocket, createSocket } from 'node:dgram';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { repositoryRoot } from './harness.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** The exit code; null when a signal ended the command. */
  code: number | null;
}

export interface TapLink {
  /** The network namespace, `uos-<name>-<pid>`. */
  namespace: string;
  /** The tap device in the namespace, for `{ backend: 'tap', name: link.tap }`. */
  tap: string;
  /** The host side's address on the tap device, e.g. "10.0.2.1/24". */
  address: string;
  /** Runs a command inside the namespace to its end. */
  exec(command: string, args?: readonly string[], options?: { timeoutMs?: number }): Promise<CommandResult>;
  /** Starts a command inside the namespace (stdin ignored, stdout and stderr piped); ended by `close()`. */
  spawn(command: string, args?: readonly string[]): ChildProcess;
  /** The prefix that runs a command in the namespace: `VmOptions.wrapper` for QEMU. */
  qemuWrapper: string[];
  /** Ends the processes `spawn` started and deletes the namespace (and with it the tap device). */
  close(): Promise<void>;
}

export interface TapLinkOptions {
  /** The host side's address on the tap device. Default "10.0.2.1/24". */
  address?: string;
}

/** Runs a command to its end without throwing; a command that cannot start has code null and the reason in stderr. */
function run(command: string, args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolveRun({ stdout, stderr: stderr + error.message, code: null });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ stdout, stderr, code });
    });
  });
}

/** Namespaces this process made and has not deleted yet, with the processes it started in them. */
const liveNamespaces = new Map<string, Set<ChildProcess>>();
let exitHookInstalled = false;

function deleteEverything(): void {
  for (const [namespace, children] of liveNamespaces) {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    spawnSync('ip', ['netns', 'delete', namespace], { stdio: 'ignore' });
  }
  liveNamespaces.clear();
}

/**
 * Deletes this process's namespaces when it exits, and also when a signal ends it (vitest ends its
 * workers with SIGTERM, which skips 'exit' handlers); the signal is then raised again when no other
 * handler remains, so it ends the process as it would have.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', deleteEverything);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const handler = (): void => {
      deleteEverything();
      process.off(signal, handler);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/** Registers cleanup for the current test; outside a test (e.g. at a file's top level) there is none to register with. */
function closeWhenTestFinishes(close: () => Promise<void>): void {
  try {
    onTestFinished(close);
  } catch {
    // not inside a test: close() or process exit cleans up
  }
}

const describeFailure = (result: CommandResult): string => result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`;

/**
 * Makes a network namespace `uos-<name>-<pid>` holding a tap device `tap0` (owned by this user, up,
 * with `address`), or says why it cannot: not root, no /dev/net/tun, no `ip` command, a failing step.
 */
export async function createTapLink(name: string, options: TapLinkOptions = {}): Promise<TapLink | { unavailable: string }> {
  const address = options.address ?? '10.0.2.1/24';
  if (!/^[a-z0-9-]+$/.test(name))
    throw new Error(`createTapLink: the name must be lowercase letters, digits and dashes, got ${JSON.stringify(name)}`);
  const namespace = `uos-${name}-${process.pid}`;
  if (process.platform !== 'linux') return { unavailable: `network namespaces need Linux (this is ${process.platform})` };
  const uid = process.getuid?.();
  if (uid !== 0)
    return { unavailable: `network namespaces and tap devices need root (running as uid ${uid}, user ${userInfo().username})` };
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch (error) {
    return { unavailable: `/dev/net/tun is not usable (${(error as Error).message}); tap devices need the tun module` };
  }
  const version = await run('ip', ['-V']);
  if (version.code !== 0) return { unavailable: `the ip command (iproute2) does not run: ${describeFailure(version)}` };
  if (liveNamespaces.has(namespace))
    throw new Error(`createTapLink: this process already has a link named "${name}" (${namespace}); close it first or use another name`);

  const added = await run('ip', ['netns', 'add', namespace]);
  if (added.code !== 0) return { unavailable: `ip netns add ${namespace} failed: ${describeFailure(added)}` };
  const children = new Set<ChildProcess>();
  liveNamespaces.set(namespace, children);
  installExitHook();

  const wrapper = ['ip', 'netns', 'exec', namespace];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolveEnd) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolveEnd();
              child.once('close', () => resolveEnd());
              child.kill('SIGKILL');
            }),
        ),
      );
      const deleted = await run('ip', ['netns', 'delete', namespace]);
      liveNamespaces.delete(namespace);
      if (deleted.code !== 0) throw new Error(`ip netns delete ${namespace} failed: ${describeFailure(deleted)}`);
    })();
    return closing;
  };

  const steps: string[][] = [
    ['ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap', 'user', String(uid)],
    ['ip', 'address', 'add', address, 'dev', 'tap0'],
    ['ip', 'link', 'set', 'tap0', 'up'],
  ];
  for (const step of steps) {
    const result = await run(wrapper[0]!, [...wrapper.slice(1), ...step]);
    if (result.code !== 0) {
      await close().catch(() => {});
      return { unavailable: `${step.join(' ')} in namespace ${namespace} failed: ${describeFailure(result)}` };
    }
  }

  const link: TapLink = {
    namespace,
    tap: 'tap0',
    address,
    qemuWrapper: wrapper,
    exec: (command, args = [], execOptions = {}) => run(wrapper[0]!, [...wrapper.slice(1), command, ...args], execOptions.timeoutMs),
    spawn: (command, args = []) => {
      if (closing) throw new Error(`the link ${namespace} is closed`);
      const child = spawn(wrapper[0]!, [...wrapper.slice(1), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      child.on('close', () => children.delete(child));
      child.on('error', () => children.delete(child));
      return child;
    },
    close,
  };
  closeWhenTestFinishes(close);
  return link;
}

export interface DgramLink {
  /** QEMU's dgram netdev options, for `{ backend: 'dgram', name: link.netdev }`. */
  netdev: string;
  /** QEMU's port (A): frames sent here reach the guest. */
  qemuPort: number;
  /** Our port (B): QEMU sends every guest frame here as one datagram. */
  hostPort: number;
  /** Injects one Ethernet frame towards the guest. */
  send(frame: Uint8Array): void;
  /** Calls `listener` with every frame the guest sends; returns a function that stops it. */
  onFrame(listener: (frame: Uint8Array) => void): () => void;
  close(): Promise<void>;
}

function bindUdp(): Promise<DgramSocket> {
  return new Promise((resolveBind, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolveBind(socket);
    });
  });
}

function closeUdp(socket: DgramSocket): Promise<void> {
  return new Promise((resolveClose) => {
    try {
      socket.close(() => resolveClose());
    } catch {
      resolveClose(); // already closed
    }
  });
}

/**
 * Two UDP sockets on 127.0.0.1 for QEMU's dgram netdev: QEMU binds port A (`qemuPort`) and sends each
 * guest frame as one datagram to our port B (`hostPort`); we inject frames by sending datagrams to A
 * from the other socket (QEMU's unicast dgram netdev does not connect() its socket, so it takes
 * datagrams from any sender). Port A is found free by binding and releasing it, so QEMU must be
 * started soon after.
 */
export async function createDgramLink(): Promise<DgramLink> {
  const probe = await bindUdp();
  const qemuPort = probe.address().port;
  await closeUdp(probe);
  const receiver = await bindUdp();
  const sender = await bindUdp();
  const hostPort = receiver.address().port;
  const listeners = new Set<(frame: Uint8Array) => void>();
  receiver.on('message', (message: Buffer, from) => {
    if (from.port !== qemuPort) return; // only QEMU's frames
    const frame = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    for (const listener of [...listeners]) listener(frame);
  });
  receiver.on('error', () => {});
  sender.on('error', () => {});
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.all([closeUdp(receiver), closeUdp(sender)]).then(() => listeners.clear());
    return closing;
  };
  closeWhenTestFinishes(close);
  return {
    netdev: `local.type=inet,local.host=127.0.0.1,local.port=${qemuPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${hostPort}`,
    qemuPort,
    hostPort,
    send(frame) {
      if (closing) throw new Error('the dgram link is closed');
      sender.send(frame, qemuPort, '127.0.0.1');
    },
    onFrame(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close,
  };
}

const toolBuilds = new Map<string, Promise<string>>();

/**
 * Compiles test/tools/<name>.c (once per test run: cached by the source's hash under the temp
 * directory) and resolves with the binary's path.
 */
export function buildTool(name: 'raw-frames' | 'fault-relay'): Promise<string> {
  let pending = toolBuilds.get(name);
  if (pending) return pending;
  pending = (async () => {
    const source = join(repositoryRoot, 'test', 'tools', `${name}.c`);
    const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
    const directory = join(tmpdir(), `uos-${userInfo().uid}`, 'tools');
    const binary = join(directory, `${name}-${hash}`);
    if (existsSync(binary)) return binary;
    mkdirSync(directory, { recursive: true });
    const partial = `${binary}.${process.pid}.partial`;
    const compiled = await run('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c11', '-o', partial, source], 120_000);
    if (compiled.code !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`cannot compile ${source} with gcc (scripts/bootstrap.sh installs it): ${describeFailure(compiled)}`);
    }
    renameSync(partial, binary); // atomic: parallel workers never run a half-written binary
    return binary;
  })();
  toolBuilds.set(name, pending);
  pending.catch(() => toolBuilds.delete(name));
  return pending;
}

/** The raw Ethernet frame tool (test/tools/raw-frames.c). */
export const buildRawFrames = (): Promise<string> => buildTool('raw-frames');

/** The result line of `raw-frames receive`, parsed. */
export interface ReceiveReport {
  received: number;
  firstSequence: number | undefined;
  lastSequence: number | undefined;
  missing: number;
  duplicates: number;
  outOfRange: number;
}

export function parseReceiveReport(output: string): ReceiveReport {
  const match = /received (\d+), first seq (-|\d+), last seq (-|\d+), missing (\d+), duplicates (\d+)(?:, out of range (\d+))?/.exec(
    output,
  );
  if (!match) throw new Error(`raw-frames receive printed no result line:\n${output}`);
  const sequence = (text: string | undefined): number | undefined => (text === undefined || text === '-' ? undefined : Number(text));
  return {
    received: Number(match[1]),
    firstSequence: sequence(match[2]),
    lastSequence: sequence(match[3]),
    missing: Number(match[4]),
    duplicates: Number(match[5]),
    outOfRange: Number(match[6] ?? 0),
  };
}

/** A started process whose output is collected as it arrives. */
export interface WatchedProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has ended and its output is complete. */
  ended: Promise<CommandResult>;
  /** Resolves once stdout contains `text`; rejects when the process ends first or after `timeoutMs`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
}

/** Watches a process from `TapLink.spawn` (call it right away, before output arrives). */
export function watchProcess(child: ChildProcess): WatchedProcess {
  let stdout = '';
  let stderr = '';
  const changed = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...changed]) listener();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    notify();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let exitCode: number | null | undefined;
  const ended = new Promise<CommandResult>((resolveEnd) => {
    child.on('close', (code) => {
      exitCode = code;
      resolveEnd({ stdout, stderr, code });
      notify();
    });
    child.on('error', (error) => {
      exitCode = null;
      stderr += error.message;
      resolveEnd({ stdout, stderr, code: null });
      notify();
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    ended,
    waitForOutput(text, timeoutMs = 10_000) {
      return new Promise((resolveOutput, reject) => {
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          changed.delete(check);
          if (error) reject(error);
          else resolveOutput();
        };
        const check = (): void => {
          if (stdout.includes(text)) finish();
          else if (exitCode !== undefined)
            finish(new Error(`the process ended (code ${exitCode}) before printing "${text}"; it printed:\n${stdout}${stderr}`));
        };
        const timer = setTimeout(
          () => finish(new Error(`no "${text}" within ${timeoutMs} ms; the process printed:\n${stdout}${stderr}`)),
          timeoutMs,
        );
        changed.add(check);
        check();
      });
    },
  };
}
