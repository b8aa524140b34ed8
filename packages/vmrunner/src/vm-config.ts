import { readFileSync } from 'node:fs';
import { VmRunnerError } from './errors.js';

export type Machine = 'pc' | 'q35' | 'microvm';
export type Accel = 'auto' | 'tcg' | 'kvm';
export const MACHINES: readonly Machine[] = ['pc', 'q35', 'microvm'];
export const ACCELS: readonly Accel[] = ['auto', 'tcg', 'kvm'];
export const NET_BACKENDS = ['user', 'tap', 'socket', 'dgram'] as const;
/** The NIC models uOS has drivers for (`@uos/driver-virtionet`, `@uos/driver-vmxnet3`). */
export const DRIVEN_NIC_MODELS = ['virtio-net-pci', 'vmxnet3'] as const;
/**
 * QEMU's x86 NIC models a `net` entry may name (`qemu-system-x86_64 -device help`, "Network devices"):
 * the PCI ones (pc and q35 always have PCI; microvm gets a PCIe host bridge, QEMU's pcie=on, when a
 * net entry is a PCI NIC), and virtio-net-device, which needs microvm's virtio-mmio bus. A service sees a NIC without a driver as "no driver" in its boot device table.
 */
export const NIC_MODELS = [
  'virtio-net-pci',
  'virtio-net',
  'virtio-net-pci-transitional',
  'virtio-net-pci-non-transitional',
  'vmxnet3',
  'e1000',
  'e1000-82540em',
  'e1000-82544gc',
  'e1000-82545em',
  'e1000e',
  'igb',
  'rtl8139',
  'ne2k_pci',
  'pcnet',
  'tulip',
  'i82550',
  'i82551',
  'i82557a',
  'i82557b',
  'i82557c',
  'i82558a',
  'i82558b',
  'i82559a',
  'i82559b',
  'i82559c',
  'i82559er',
  'i82562',
  'i82801',
  'virtio-net-device',
] as const;
const MMIO_NIC_MODELS: readonly string[] = ['virtio-net-device'];

export interface NetConfig {
  /** A QEMU NIC model (`NIC_MODELS`): virtio-net-pci or vmxnet3, which uOS drives; e1000, rtl8139, … */
  device: string;
  backend: (typeof NET_BACKENDS)[number];
  /**
   * tap: the host interface name; socket/dgram: QEMU's netdev options (e.g. "udp=…,localaddr=…");
   * user (optional): more netdev options, e.g. "hostfwd=tcp:127.0.0.1:8080-:80".
   */
  name?: string;
  mac?: string;
  /** Extra `-device` properties, e.g. "disable-modern=on". */
  options?: string;
}

/** vm.json: how to run an image. Every field is optional. */
export interface VmConfig {
  description?: string;
  machine?: Machine;
  /** Memory in MiB, or a size string like "128M", "4M", "1G". */
  mem?: number | string;
  smp?: number;
  cpu?: { model?: string; features?: string[] };
  accel?: Accel;
  /** Seconds before the runner gives up on the VM. */
  timeout?: number;
  /** Words passed to the service's start(args). */
  args?: string[];
  net?: NetConfig[];
  /** Extra `-device` values, e.g. "virtio-rng-pci". */
  devices?: string[];
  /** Extra QEMU arguments, appended last. */
  qemu?: string[];
  /**
   * microvm only (pc and q35 always have PCI): give the machine a PCIe host bridge (QEMU's `pcie=on`), so
   * PCI devices (`devices`, `qemu`) can be added. On by itself when a `net` entry is a PCI NIC; off
   * otherwise, since microvm boots faster without it.
   */
  pcie?: boolean;
}

/** Whether QEMU's microvm gets its PCIe host bridge: asked for, or needed by a PCI NIC. */
export function microvmPcie(config: VmConfig, machine: Machine = config.machine ?? 'pc'): boolean {
  if (machine !== 'microvm') return false;
  return config.pcie ?? (config.net ?? []).some((n) => !MMIO_NIC_MODELS.includes(n.device));
}

type Check = (value: unknown, path: string) => void;

function invalid(path: string, message: string): never {
  throw new VmRunnerError('vm-config-invalid', `vm.json: "${path}" ${message}`);
}

const isString: Check = (v, p) => {
  if (typeof v !== 'string') invalid(p, `must be a string, got ${JSON.stringify(v)}`);
};
const stringArray: Check = (v, p) => {
  if (!Array.isArray(v)) invalid(p, `must be an array of strings, got ${JSON.stringify(v)}`);
  v.forEach((item, i) => isString(item, `${p}[${i}]`));
};
const oneOf =
  (choices: readonly string[]): Check =>
  (v, p) => {
    if (typeof v !== 'string' || !choices.includes(v))
      invalid(p, `must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(v)}`);
  };
const positiveInteger: Check = (v, p) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) invalid(p, `must be a positive integer, got ${JSON.stringify(v)}`);
};
const positiveNumber: Check = (v, p) => {
  if (typeof v !== 'number' || !(v > 0)) invalid(p, `must be a positive number of seconds, got ${JSON.stringify(v)}`);
};

/** Parses "128M", "4m", "1G", "512K" (or a number of MiB) into MiB. */
export function parseMemory(value: number | string, path = 'mem'): number {
  if (typeof value === 'number') {
    if (!(value > 0)) invalid(path, `must be a positive number of MiB, got ${value}`);
    return value;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([KMGkmg])(?:i?[Bb])?)?\s*$/.exec(value);
  if (!m) invalid(path, `must be a size like "128M" or a number of MiB, got ${JSON.stringify(value)}`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'M').toUpperCase();
  const mib = unit === 'K' ? n / 1024 : unit === 'G' ? n * 1024 : n;
  if (!(mib > 0)) invalid(path, `must be larger than 0, got ${JSON.stringify(value)}`);
  return mib;
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = d[0]!;
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = d[j]!;
        d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return d[b.length]!;
  };
  const lower = name.toLowerCase();
  const prefix =
    lower.length >= 3 ? candidates.find((c) => lower.startsWith(c.toLowerCase()) || c.toLowerCase().startsWith(lower)) : undefined;
  if (prefix) return prefix;
  const best = candidates.map((c) => [c, distance(lower, c.toLowerCase())] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(name.length / 3)) ? best[0] : undefined;
}

function checkObject(value: unknown, path: string, fields: Record<string, Check>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    if (!path) throw new VmRunnerError('vm-config-invalid', `vm.json must be a JSON object, got ${JSON.stringify(value)}`);
    invalid(path, `must be an object, got ${JSON.stringify(value)}`);
  }
  const object = value as Record<string, unknown>;
  for (const [key, v] of Object.entries(object)) {
    const child = path ? `${path}.${key}` : key;
    const check = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!check) {
      const hint = closest(key, Object.keys(fields));
      invalid(
        child,
        `is not a known field${hint ? ` (did you mean "${path ? `${path}.` : ''}${hint}"?)` : ''}; known: ${Object.keys(fields).join(', ')}`,
      );
    }
    check(v, child);
  }
  return object;
}

const nicModel: Check = (v, p) => {
  isString(v, p);
  if ((NIC_MODELS as readonly string[]).includes(v as string)) return;
  const hint = closest(v as string, NIC_MODELS);
  invalid(
    p,
    `is not a QEMU NIC model: ${JSON.stringify(v)}${hint ? ` (did you mean "${hint}"?)` : ''}; ` +
      `uOS drives ${DRIVEN_NIC_MODELS.map((m) => `"${m}"`).join(' and ')}, and QEMU also has ${NIC_MODELS.filter(
        (m) => !(DRIVEN_NIC_MODELS as readonly string[]).includes(m),
      ).join(', ')}`,
  );
};

const netCheck: Check = (v, p) => {
  const o = checkObject(v, p, {
    device: nicModel,
    backend: oneOf(NET_BACKENDS),
    name: isString,
    mac: (m, mp) => {
      isString(m, mp);
      if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(m as string))
        invalid(mp, `must be a MAC address like "52:54:00:12:34:56", got ${JSON.stringify(m)}`);
    },
    options: isString,
  });
  if (o.device === undefined) invalid(`${p}.device`, 'is required (a QEMU NIC model such as "virtio-net-pci")');
  if (o.backend === undefined) invalid(`${p}.backend`, `is required (one of ${NET_BACKENDS.join(', ')})`);
  if (o.backend !== 'user' && o.name === undefined) invalid(`${p}.name`, `is required for the ${String(o.backend)} backend`);
};

const topLevel: Record<string, Check> = {
  description: isString,
  machine: oneOf(MACHINES),
  mem: (v, p) => {
    if (typeof v !== 'number' && typeof v !== 'string')
      invalid(p, `must be a size like "128M" or a number of MiB, got ${JSON.stringify(v)}`);
    parseMemory(v, p);
  },
  smp: positiveInteger,
  cpu: (v, p) => checkObject(v, p, { model: isString, features: stringArray }),
  accel: oneOf(ACCELS),
  timeout: positiveNumber,
  args: stringArray,
  net: (v, p) => {
    if (!Array.isArray(v)) invalid(p, `must be an array of network interfaces, got ${JSON.stringify(v)}`);
    v.forEach((n, i) => netCheck(n, `${p}[${i}]`));
  },
  devices: stringArray,
  qemu: stringArray,
  pcie: (v, p) => {
    if (typeof v !== 'boolean') invalid(p, `must be true or false, got ${JSON.stringify(v)}`);
  },
};

/** Checks a parsed vm.json; the error names the offending field. */
export function validateVmConfig(value: unknown): VmConfig {
  const config = checkObject(value, '', topLevel) as VmConfig;
  // A NIC must sit on a bus the machine has: PCI on pc and q35 (and microvm with its PCIe host bridge),
  // virtio-mmio on microvm only.
  const microvm = config.machine === 'microvm';
  (config.net ?? []).forEach((n, i) => {
    const mmio = MMIO_NIC_MODELS.includes(n.device);
    if (mmio && !microvm) {
      invalid(
        `net[${i}].device`,
        `"${n.device}" needs microvm's virtio-mmio bus; on ${config.machine ?? 'pc'} use "virtio-net-pci" or "vmxnet3"`,
      );
    }
    if (!mmio && microvm && config.pcie === false) {
      invalid(
        `net[${i}].device`,
        `"${n.device}" is a PCI device, and "pcie": false leaves microvm without a PCI bus: drop "pcie" (a PCI NIC turns it on), or use "virtio-net-device"`,
      );
    }
  });
  return config;
}

/** Reads and validates a vm.json file. */
export function loadVmConfig(path: string): VmConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new VmRunnerError('vm-config-invalid', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new VmRunnerError('vm-config-invalid', `${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  try {
    return validateVmConfig(parsed);
  } catch (error) {
    if (VmRunnerError.isInstance(error)) throw new VmRunnerError(error.code, error.message.replace(/^vm\.json/, path), { cause: error });
    throw error;
  }
}
