import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UosError } from '@uos/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuArgs } from './qemu.js';
import { DRIVEN_NIC_MODELS, NIC_MODELS, type VmConfig, loadVmConfig, microvmPcie, parseMemory, validateVmConfig } from './vm-config.js';

/** Runs `action`, which must throw a UosError with code vm-config-invalid, and returns that error. */
function configError(action: () => unknown): UosError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) expect.fail('expected a vm-config-invalid UosError, but nothing was thrown');
  if (!UosError.isInstance(thrown)) expect.fail(`expected a UosError, got ${String(thrown)}`);
  expect(thrown.code).toBe('vm-config-invalid');
  return thrown;
}

/** The error message for an invalid vm.json value, checked to start with `vm.json: "<path>" `. */
function messageFor(config: unknown, path: string): string {
  const { message } = configError(() => validateVmConfig(config));
  expect(message.startsWith(`vm.json: "${path}" `), `message ${JSON.stringify(message)} should name "${path}"`).toBe(true);
  return message;
}

const userNet = { device: 'virtio-net-pci', backend: 'user' } as const;

describe('validateVmConfig', () => {
  it('accepts an empty config', () => {
    expect(validateVmConfig({})).toEqual({});
  });

  it('accepts a config using every field and returns it unchanged', () => {
    const config: VmConfig = {
      description: 'a test VM',
      machine: 'q35',
      mem: '128M',
      smp: 2,
      cpu: { model: 'max', features: ['+x2apic', '-pdpe1gb'] },
      accel: 'tcg',
      timeout: 2.5,
      args: ['--port', '80'],
      net: [
        { device: 'virtio-net-pci', backend: 'user', mac: '52:54:00:12:34:56', options: 'disable-modern=on' },
        { device: 'vmxnet3', backend: 'tap', name: 'tap0' },
        { device: 'e1000', backend: 'socket', name: 'listen=:1234' },
        { device: 'e1000', backend: 'dgram', name: 'local.type=inet,local.host=127.0.0.1' },
      ],
      devices: ['virtio-rng-pci'],
      qemu: ['-d', 'guest_errors'],
    };
    const snapshot = structuredClone(config);
    expect(validateVmConfig(config)).toBe(config);
    expect(config).toEqual(snapshot);
  });

  it.each([
    ['a number of MiB', 64],
    ['a fractional number of MiB', 1.5],
    ['a size string', '4M'],
    ['a lower-case size string', '1g'],
    ['a size in KiB', '512K'],
    ['a size with an iB suffix', '16MiB'],
  ])('accepts mem as %s', (_, mem) => {
    expect(validateVmConfig({ mem })).toEqual({ mem });
  });

  it.each(['pc', 'q35', 'microvm'])('accepts machine %s', (machine) => {
    expect(() => validateVmConfig({ machine })).not.toThrow();
  });

  it.each(['auto', 'tcg', 'kvm'])('accepts accel %s', (accel) => {
    expect(() => validateVmConfig({ accel })).not.toThrow();
  });

  it('accepts upper- and lower-case MAC addresses', () => {
    expect(() => validateVmConfig({ net: [{ ...userNet, mac: 'AA:bb:0C:d1:E2:f3' }] })).not.toThrow();
  });

  it('accepts a user backend without a name', () => {
    expect(() => validateVmConfig({ net: [userNet] })).not.toThrow();
  });

  describe('rejects the whole config when it is not an object', () => {
    it.each([
      ['null', null],
      ['an array', []],
      ['a string', 'mem=4M'],
      ['a number', 4],
    ])('%s', (_, value) => {
      expect(configError(() => validateVmConfig(value)).message).toContain('vm.json must be a JSON object');
    });
  });

  describe('names the offending field for a wrong type or value', () => {
    it.each([
      [{ description: 5 }, 'description', 'must be a string, got 5'],
      [{ machine: 'isapc' }, 'machine', 'must be one of "pc", "q35", "microvm", got "isapc"'],
      [{ machine: 1 }, 'machine', 'must be one of'],
      [{ accel: 'hvf' }, 'accel', 'must be one of "auto", "tcg", "kvm", got "hvf"'],
      [{ mem: true }, 'mem', 'must be a size like "128M" or a number of MiB, got true'],
      [{ mem: null }, 'mem', 'must be a size like'],
      [{ mem: 'lots' }, 'mem', 'must be a size like "128M" or a number of MiB, got "lots"'],
      [{ mem: '0M' }, 'mem', 'must be larger than 0, got "0M"'],
      [{ mem: -1 }, 'mem', 'must be a positive number of MiB, got -1'],
      [{ mem: 0 }, 'mem', 'must be a positive number of MiB, got 0'],
      [{ smp: 0 }, 'smp', 'must be a positive integer, got 0'],
      [{ smp: 1.5 }, 'smp', 'must be a positive integer, got 1.5'],
      [{ smp: '2' }, 'smp', 'must be a positive integer, got "2"'],
      [{ timeout: 0 }, 'timeout', 'must be a positive number of seconds, got 0'],
      [{ timeout: '10' }, 'timeout', 'must be a positive number of seconds, got "10"'],
      [{ args: 'a b' }, 'args', 'must be an array of strings, got "a b"'],
      [{ args: ['a', 2] }, 'args[1]', 'must be a string, got 2'],
      [{ devices: [null] }, 'devices[0]', 'must be a string, got null'],
      [{ qemu: {} }, 'qemu', 'must be an array of strings'],
      [{ cpu: 'host' }, 'cpu', 'must be an object, got "host"'],
      [{ cpu: [] }, 'cpu', 'must be an object'],
      [{ cpu: { model: 1 } }, 'cpu.model', 'must be a string, got 1'],
      [{ cpu: { features: '+x2apic' } }, 'cpu.features', 'must be an array of strings'],
      [{ cpu: { features: ['+x2apic', 7] } }, 'cpu.features[1]', 'must be a string, got 7'],
      [{ net: {} }, 'net', 'must be an array of network interfaces'],
      [{ net: ['virtio-net-pci'] }, 'net[0]', 'must be an object, got "virtio-net-pci"'],
      [{ net: [{ ...userNet, device: 1 }] }, 'net[0].device', 'must be a string, got 1'],
      [{ net: [{ ...userNet, backend: 'vde' }] }, 'net[0].backend', 'must be one of "user", "tap", "socket", "dgram", got "vde"'],
      [{ net: [{ ...userNet, name: 3 }] }, 'net[0].name', 'must be a string, got 3'],
      [{ net: [{ ...userNet, options: ['a'] }] }, 'net[0].options', 'must be a string'],
    ])('%j -> "%s"', (config, path, expected) => {
      expect(messageFor(config, path)).toContain(expected);
    });
  });

  describe('net entries', () => {
    it('need a device', () => {
      expect(messageFor({ net: [{ backend: 'user' }] }, 'net[0].device')).toContain('is required');
    });

    it('need a backend', () => {
      expect(messageFor({ net: [{ device: 'e1000' }] }, 'net[0].backend')).toContain('is required (one of user, tap, socket, dgram)');
    });

    it.each(['tap', 'socket', 'dgram'])('need a name for the %s backend', (backend) => {
      const message = messageFor({ net: [userNet, { device: 'e1000', backend }] }, 'net[1].name');
      expect(message).toContain(`is required for the ${backend} backend`);
    });

    it.each([
      ['too few groups', '52:54:00:12:34'],
      ['too many groups', '52:54:00:12:34:56:78'],
      ['dashes', '52-54-00-12-34-56'],
      ['non-hex digits', '52:54:00:12:34:zz'],
      ['single-digit groups', '2:54:00:12:34:56'],
      ['surrounding space', ' 52:54:00:12:34:56'],
    ])('check the MAC address format (%s)', (_, mac) => {
      const message = messageFor({ net: [userNet, { ...userNet, mac }] }, 'net[1].mac');
      expect(message).toContain(`must be a MAC address like "52:54:00:12:34:56", got ${JSON.stringify(mac)}`);
    });

    it('need the MAC address to be a string', () => {
      expect(messageFor({ net: [{ ...userNet, mac: 525400123456 }] }, 'net[0].mac')).toContain('must be a string');
    });

    it.each(['vmxnet3', 'virtio-net-pci', 'virtio-net', 'e1000', 'e1000e', 'rtl8139'])('accept the NIC model "%s"', (device) => {
      expect(() => validateVmConfig({ machine: 'q35', net: [{ device, backend: 'user' }] })).not.toThrow();
    });

    it('name the models uOS drives among the NIC models', () => {
      expect(DRIVEN_NIC_MODELS).toEqual(['virtio-net-pci', 'vmxnet3']);
      for (const model of DRIVEN_NIC_MODELS) expect(NIC_MODELS).toContain(model);
    });

    it.each([
      ['vmxnet', 'vmxnet3'],
      ['VMXNET3', 'vmxnet3'],
      ['vmxnet3-pci', 'vmxnet3'],
      ['virtio-net-pcie', 'virtio-net-pci'],
      ['rtl8193', 'rtl8139'],
    ])('refuse an unknown NIC model, suggesting the closest ("%s": "%s")', (device, hint) => {
      const message = messageFor({ net: [{ device, backend: 'user' }] }, 'net[0].device');
      expect(message).toContain(`is not a QEMU NIC model: "${device}" (did you mean "${hint}"?)`);
      expect(message).toContain('uOS drives "virtio-net-pci" and "vmxnet3"');
    });

    it('refuse a NIC model far from every known one, listing them', () => {
      const message = messageFor({ net: [{ device: 'wifi', backend: 'user' }] }, 'net[0].device');
      expect(message).not.toContain('did you mean');
      expect(message).toContain('QEMU also has virtio-net, virtio-net-pci-transitional');
    });

    it('refuse a PCI NIC on microvm with "pcie": false, and virtio-net-device elsewhere', () => {
      const microvm = messageFor({ machine: 'microvm', pcie: false, net: [{ device: 'vmxnet3', backend: 'user' }] }, 'net[0].device');
      expect(microvm).toContain('"vmxnet3" is a PCI device, and "pcie": false leaves microvm without a PCI bus');
      expect(() => validateVmConfig({ machine: 'microvm', net: [{ device: 'virtio-net-pci', backend: 'user' }] })).not.toThrow();
      expect(messageFor({ pcie: 'yes' }, 'pcie')).toContain('must be true or false, got "yes"');
      const pc = messageFor({ net: [userNet, { device: 'virtio-net-device', backend: 'user' }] }, 'net[1].device');
      expect(pc).toContain('"virtio-net-device" needs microvm\'s virtio-mmio bus; on pc use "virtio-net-pci" or "vmxnet3"');
      expect(() => validateVmConfig({ machine: 'microvm', net: [{ device: 'virtio-net-device', backend: 'user' }] })).not.toThrow();
    });

    it('become QEMU arguments: a vmxnet3 on a tap with its MAC', () => {
      const config = validateVmConfig({
        net: [
          { device: 'vmxnet3', backend: 'tap', name: 'tap0', mac: '00:0c:29:12:34:56' },
          { device: 'virtio-net-pci', backend: 'user', options: 'disable-modern=on' },
        ],
      });
      const args = qemuArgs({ image: 'x.elf', machine: 'pc', memMiB: 64, accel: 'tcg', net: config.net });
      const pairs = args.flatMap((a, i) => (a === '-netdev' || a === '-device' ? [`${a} ${args[i + 1]}`] : []));
      expect(pairs).toContain('-netdev tap,id=net0,ifname=tap0,script=no,downscript=no');
      expect(pairs).toContain('-device vmxnet3,netdev=net0,mac=00:0c:29:12:34:56');
      expect(pairs).toContain('-netdev user,id=net1');
      expect(pairs).toContain('-device virtio-net-pci,netdev=net1,disable-modern=on');
    });
  });

  describe('unknown fields', () => {
    it.each([
      [{ mems: 64 }, 'mems', 'mem'],
      [{ machin: 'pc' }, 'machin', 'machine'],
      [{ Accel: 'kvm' }, 'Accel', 'accel'],
      [{ timeot: 5 }, 'timeot', 'timeout'],
      [{ device: ['virtio-rng-pci'] }, 'device', 'devices'],
      [{ cpu: { modle: 'max' } }, 'cpu.modle', 'cpu.model'],
      [{ cpu: { feature: [] } }, 'cpu.feature', 'cpu.features'],
      [{ net: [{ ...userNet, mca: '52:54:00:12:34:56' }] }, 'net[0].mca', 'net[0].mac'],
      [{ net: [userNet, { ...userNet, backnd: 'user' }] }, 'net[1].backnd', 'net[1].backend'],
    ])('%j is rejected with a did-you-mean hint', (config, path, hint) => {
      const message = messageFor(config, path);
      expect(message).toContain('is not a known field');
      expect(message).toContain(`(did you mean "${hint}"?)`);
    });

    it.each([
      [{ memory: '4M' }, 'memory', 'mem'],
      [{ network: [] }, 'network', 'net'],
      [{ cpu: { featuresList: [] } }, 'cpu.featuresList', 'cpu.features'],
    ])('%j (a longer or shorter name of a field) is rejected with a did-you-mean hint', (config, path, hint) => {
      expect(messageFor(config, path)).toContain(`(did you mean "${hint}"?)`);
    });

    it('are rejected even when the value would be valid for the field they resemble', () => {
      expect(messageFor({ mem: '4M', memory: '4M' }, 'memory')).toContain('is not a known field');
    });

    it('far from every known field get no hint but the list of known fields', () => {
      const message = messageFor({ kernelCommandLine: 'x' }, 'kernelCommandLine');
      expect(message).not.toContain('did you mean');
      expect(message).toContain('known: description, machine, mem, smp, cpu, accel, timeout, args, net, devices, qemu');
    });

    it('inside net entries list the known net fields', () => {
      expect(messageFor({ net: [{ ...userNet, bridge: 'br0' }] }, 'net[0].bridge')).toContain('known: device, backend, name, mac, options');
    });

    // Bug: checkObject looks fields up with `fields[key]` on a plain object literal, so keys inherited
    // from Object.prototype are taken for known fields: "toString" and "constructor" pass silently (the
    // prototype method is called as the check) and "__proto__" throws a TypeError instead of a UosError.
    it.each(['toString', 'constructor', 'hasOwnProperty', '__proto__'])('"%s" is rejected as unknown', (key) => {
      expect(messageFor(JSON.parse(`{"${key}": 1}`), key)).toContain('is not a known field');
    });

    it('"valueOf" in a net entry is rejected as unknown', () => {
      expect(messageFor({ net: [{ ...userNet, valueOf: 1 }] }, 'net[0].valueOf')).toContain('is not a known field');
    });
  });
});

describe("microvm's PCIe host bridge", () => {
  const pciNic = { device: 'virtio-net-pci', backend: 'user' } as const;
  const mmioNic = { device: 'virtio-net-device', backend: 'user' } as const;

  it('is on when a net entry is a PCI NIC, or when asked for, and only on microvm', () => {
    expect(microvmPcie({ machine: 'microvm', net: [pciNic] })).toBe(true);
    expect(microvmPcie({ machine: 'microvm', net: [mmioNic] })).toBe(false);
    expect(microvmPcie({ machine: 'microvm' })).toBe(false);
    expect(microvmPcie({ machine: 'microvm', pcie: true })).toBe(true);
    expect(microvmPcie({ net: [pciNic] })).toBe(false);
    expect(microvmPcie({ net: [pciNic] }, 'microvm')).toBe(true);
    expect(microvmPcie({ machine: 'microvm', net: [pciNic] }, 'q35')).toBe(false);
  });

  it('becomes pcie=on on the machine option', () => {
    const machineOption = (pcie: boolean) => {
      const args = qemuArgs({ image: 'x.elf', machine: 'microvm', memMiB: 64, accel: 'tcg', pcie });
      return args[args.indexOf('-M') + 1];
    };
    expect(machineOption(true)).toBe('microvm,x-option-roms=off,auto-kernel-cmdline=off,pcie=on');
    expect(machineOption(false)).toBe('microvm,x-option-roms=off,auto-kernel-cmdline=off');
    const pc = qemuArgs({ image: 'x.elf', machine: 'pc', memMiB: 64, accel: 'tcg', pcie: true });
    expect(pc[pc.indexOf('-M') + 1]).toBe('pc');
  });
});

describe('parseMemory', () => {
  it.each([
    ['4M', 4],
    ['4m', 4],
    ['128M', 128],
    ['512K', 0.5],
    ['2048k', 2],
    ['1G', 1024],
    ['1g', 1024],
    ['1.5G', 1536],
    ['0.5M', 0.5],
    ['16MiB', 16],
    ['16MB', 16],
    [' 32M ', 32],
    ['64', 64],
    [64, 64],
    [1.5, 1.5],
  ] as const)('parses %j as %d MiB', (value, mebibytes) => {
    expect(parseMemory(value)).toBe(mebibytes);
  });

  it.each([
    ['lots', 'must be a size like "128M" or a number of MiB, got "lots"'],
    ['', 'must be a size like'],
    ['M', 'must be a size like'],
    ['-4M', 'must be a size like'],
    ['4T', 'must be a size like'],
    ['1.5.2G', 'must be a size like'],
    ['4 M B x', 'must be a size like'],
    ['0M', 'must be larger than 0, got "0M"'],
    ['0', 'must be larger than 0'],
    ['0.0G', 'must be larger than 0'],
    [-1, 'must be a positive number of MiB, got -1'],
    [0, 'must be a positive number of MiB, got 0'],
    [Number.NaN, 'must be a positive number of MiB, got NaN'],
  ] as const)('rejects %j', (value, expected) => {
    const { message } = configError(() => parseMemory(value));
    expect(message.startsWith('vm.json: "mem" ')).toBe(true);
    expect(message).toContain(expected);
  });

  it('names the path it is given', () => {
    expect(configError(() => parseMemory('lots', 'machines[2].mem')).message.startsWith('vm.json: "machines[2].mem" ')).toBe(true);
  });
});

describe('loadVmConfig', () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'uos-vm-config-test-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function writeConfig(name: string, text: string): string {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  }

  it('reads and validates a vm.json file', () => {
    const config = { machine: 'microvm', mem: '64M', net: [{ device: 'virtio-net-device', backend: 'user' }] };
    const path = writeConfig('valid.json', JSON.stringify(config, null, 2));
    expect(loadVmConfig(path)).toEqual(config);
  });

  it('reports a missing file with its path', () => {
    const path = join(directory, 'missing', 'vm.json');
    const error = configError(() => loadVmConfig(path));
    expect(error.message.startsWith(`cannot read ${path}: `)).toBe(true);
    expect(error.message).toContain('ENOENT');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('reports a file that is not JSON, starting with its path', () => {
    const path = writeConfig('broken.json', '{ "mem": "4M", }');
    const error = configError(() => loadVmConfig(path));
    expect(error.message.startsWith(`${path} is not valid JSON: `)).toBe(true);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('reports an invalid config with the file path in place of "vm.json"', () => {
    const path = writeConfig('invalid.json', JSON.stringify({ net: [{ device: 'e1000', backend: 'tap' }] }));
    const error = configError(() => loadVmConfig(path));
    expect(error.message).toBe(`${path}: "net[0].name" is required for the tap backend`);
    expect(UosError.isInstance(error.cause)).toBe(true);
  });

  it('reports an unknown field with the file path and the hint', () => {
    const path = writeConfig('unknown.json', JSON.stringify({ smpp: 2 }));
    const error = configError(() => loadVmConfig(path));
    expect(error.message.startsWith(`${path}: "smpp" is not a known field (did you mean "smp"?)`)).toBe(true);
  });
});
