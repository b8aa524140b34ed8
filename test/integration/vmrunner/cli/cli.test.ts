import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { here, repositoryRoot } from '../../harness.js';

const dir = here(import.meta.url);
const cli = join(repositoryRoot, 'packages', 'vmrunner', 'bin', 'uos.js');
const scratch = mkdtempSync(join(tmpdir(), 'uos-cli-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function uos(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}

function vmJson(content: string): string {
  const path = join(scratch, `vm-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, content);
  return path;
}

describe('uos boot: errors are clear and have their own exit codes', () => {
  it('names the field of a vm.json with a bad value', () => {
    const result = uos(['boot', dir, '--vm', vmJson('{ "mem": true }')]);
    expect(result.status).toBe(73);
    expect(result.stderr).toMatch(/"mem" must be a size like "128M"/);
  });

  it('names an unknown vm.json field and suggests the right one', () => {
    const result = uos(['boot', dir, '--vm', vmJson('{ "machine": "pc", "memory": "64M" }')]);
    expect(result.status).toBe(73);
    expect(result.stderr).toMatch(/"memory" is not a known field \(did you mean "mem"\?\)/);
  });

  it('names a nested vm.json field', () => {
    const result = uos(['boot', dir, '--vm', vmJson('{ "net": [{ "device": "virtio-net-pci", "backend": "carrier-pigeon" }] }')]);
    expect(result.status).toBe(73);
    expect(result.stderr).toMatch(/"net\[0\]\.backend" must be one of "user", "tap", "socket", "dgram"/);
  });

  it('says when vm.json is not JSON', () => {
    const result = uos(['boot', dir, '--vm', vmJson('{ mem: 32M }')]);
    expect(result.status).toBe(73);
    expect(result.stderr).toMatch(/is not valid JSON/);
  });

  it('stops a VM that runs past --timeout with status 66', () => {
    const result = uos(['boot', dir, '--timeout', '3', '--', 'forever']);
    expect(result.stdout).toContain('cli: running with ["forever"]');
    expect(result.status).toBe(66);
    expect(result.stderr).toMatch(/timeout: the VM ran longer than 3 s/);
  });

  it('says QEMU is missing instead of failing obscurely', () => {
    const result = uos(['boot', dir, '--timeout', '10'], { UOS_QEMU: '/nonexistent/qemu-system-x86_64' });
    expect(result.status).toBe(72);
    expect(result.stderr).toMatch(/qemu-system-x86_64 is not installed or does not run.*apt-get install qemu-system-x86/);
  });

  it('refuses a file that is not a uOS image', () => {
    const notAnImage = join(scratch, 'notes.txt');
    writeFileSync(notAnImage, 'not an image');
    const result = uos(['boot', notAnImage]);
    expect(result.status).toBe(72);
    expect(result.stderr).toMatch(/is not an ELF file/);
  });

  it('rejects an unknown machine type', () => {
    const result = uos(['boot', dir, '--machine', 'isapc']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--machine must be one of pc, q35, microvm/);
  });
});

describe('uos build', () => {
  it('prints the image size and the packages it holds', () => {
    const output = join(scratch, 'cli.elf');
    const result = uos(['build', dir, '-o', output]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/uos: built .*cli\.elf: \d+ bytes \(\d+\.\d KiB\), multiboot, compact engine/);
    expect(result.stdout).toMatch(/@uos\/kernel@\d+\.\d+\.\d+ +\d+\.\d KiB of JS/);
  });
});
