import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { loadPlatform } from '@uos/x86-platform';
import type { Machine, NetConfig } from './vm-config.js';
import { VmRunnerError } from './errors.js';

export const QEMU_BINARY = 'qemu-system-x86_64';
export const DEBUG_EXIT_DEVICE = 'isa-debug-exit,iobase=0xf4,iosize=0x04';

/** The QEMU binary to run ($UOS_QEMU overrides); a clear error when QEMU is not installed. */
export function findQemu(): string {
  const binary = process.env.UOS_QEMU || QEMU_BINARY;
  const found = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new VmRunnerError(
      'qemu-missing',
      `${binary} is not installed or does not run (${found.error?.message ?? found.stderr.trim()}); install it with: sudo apt-get install qemu-system-x86`,
    );
  }
  return binary;
}

export interface QemuOptions {
  image: string;
  machine: Machine;
  memMiB: number;
  accel: 'tcg' | 'kvm';
  smp?: number;
  cpu?: { model?: string; features?: string[] };
  /** The kernel command line: words for the service's start(args). */
  append?: string;
  net?: NetConfig[];
  /** microvm: add the PCIe host bridge (`pcie=on`), which PCI devices there need (see `microvmPcie`). */
  pcie?: boolean;
  devices?: string[];
  extra?: string[];
  /** Wait for a debugger on tcp::1234 before the first instruction. */
  gdb?: boolean;
  /** A unix socket path for QEMU's machine protocol (QMP); QEMU creates it and does not wait for a client. */
  qmp?: string;
  /**
   * Keep the guest's RAM in this file (shared), so the host can read it after the VM ends: how the
   * stack sampler's buffer leaves the guest (`uos boot --profile`).
   */
  ramFile?: string;
}

function memoryArgument(mib: number): string {
  return Number.isInteger(mib) ? `${mib}M` : `${Math.ceil(mib * 1024)}K`;
}

/** QEMU's command line for a uOS image. */
export function qemuArgs(o: QemuOptions): string[] {
  const model = o.cpu?.model ?? (o.accel === 'kvm' ? 'host' : 'max');
  const cpu = [model, ...(o.cpu?.features ?? [])].join(',');
  const args = [
    // microvm: qboot loads the PVH kernel itself (no option ROM), nothing edits our command line, and
    // PCI devices need the PCIe host bridge (ECAM at 0xE0000000; uOS assigns the BARs itself).
    '-M',
    o.machine === 'microvm' ? `microvm,x-option-roms=off,auto-kernel-cmdline=off${o.pcie ? ',pcie=on' : ''}` : o.machine,
    '-accel',
    o.accel,
    '-cpu',
    cpu,
    '-m',
    memoryArgument(o.memMiB),
    '-smp',
    String(o.smp ?? 1),
    '-display',
    'none',
    '-nodefaults',
    '-no-reboot',
    '-serial',
    'stdio',
    '-device',
    DEBUG_EXIT_DEVICE,
    '-kernel',
    o.image,
  ];
  if (o.append) args.push('-append', o.append);
  if (o.ramFile) {
    const path = o.ramFile.replace(/,/g, ',,');
    args.push('-object', `memory-backend-file,id=uos-ram,size=${memoryArgument(o.memMiB)},mem-path=${path},share=on`);
    args.push('-machine', 'memory-backend=uos-ram');
  }
  (o.net ?? []).forEach((n, i) => {
    const id = `net${i}`;
    const netdev =
      n.backend === 'user'
        ? `user,id=${id}${n.name ? `,${n.name}` : ''}`
        : n.backend === 'tap'
          ? `tap,id=${id},ifname=${n.name},script=no,downscript=no`
          : `${n.backend},id=${id},${n.name}`;
    args.push('-netdev', netdev);
    args.push('-device', [n.device, `netdev=${id}`, n.mac ? `mac=${n.mac}` : '', n.options ?? ''].filter(Boolean).join(','));
  });
  for (const d of o.devices ?? []) args.push('-device', d);
  if (o.gdb) args.push('-gdb', 'tcp::1234', '-S');
  // QEMU's option syntax escapes a comma in a value by doubling it.
  if (o.qmp) args.push('-qmp', `unix:${o.qmp.replace(/,/g, ',,')},server=on,wait=off`);
  args.push(...(o.extra ?? []));
  return args;
}

/** Quotes a command line for display. */
export function shellQuote(words: readonly string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(' ');
}

let probed: Promise<'tcg' | 'kvm'> | undefined;

function probeCachePath(): string {
  const dir = join(tmpdir(), `uos-${userInfo().uid}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'kvm-probe.json');
}

/**
 * Can KVM run a uOS image here? Some hosts expose a /dev/kvm that cannot run SSE code (an emulating
 * KVM); so boot the bare platform under KVM and accept only if it reaches its "no service" report.
 * The answer is cached for a day per kernel, QEMU and platform build.
 */
export function probeKvm(qemu = findQemu()): Promise<'tcg' | 'kvm'> {
  probed ??= (async () => {
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    } catch {
      return 'tcg';
    }
    const platform = loadPlatform();
    const key = `${release()} ${spawnSync(qemu, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]} ${platform.manifest.inputHash}`;
    const cachePath = probeCachePath();
    if (existsSync(cachePath)) {
      try {
        const cached = JSON.parse(readFileSync(cachePath, 'utf8')) as { key: string; at: number; accel: 'tcg' | 'kvm' };
        if (cached.key === key && Date.now() - cached.at < 86_400_000) return cached.accel;
      } catch {
        // a broken cache is re-probed
      }
    }
    const image = platform.image('pvh', 'compact');
    const accel = await new Promise<'tcg' | 'kvm'>((resolve) => {
      const child = spawn(qemu, qemuArgs({ image, machine: 'microvm', memMiB: 32, accel: 'kvm' }), { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const finish = (result: 'tcg' | 'kvm'): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve(result);
      };
      const timer = setTimeout(() => finish('tcg'), 5000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('SSE check passed')) finish('kvm');
      });
      child.stderr.on('data', (d: Buffer) => {
        if (/KVM internal error|emulation failure|failed to initialize kvm/i.test(d.toString())) finish('tcg');
      });
      child.on('exit', () => finish(out.includes('SSE check passed') ? 'kvm' : 'tcg'));
      child.on('error', () => finish('tcg'));
    });
    writeFileSync(cachePath, JSON.stringify({ key, at: Date.now(), accel }));
    return accel;
  })();
  return probed;
}
