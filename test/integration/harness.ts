/**
 * Shared helpers for integration tests: build a test's service directory once per boot protocol and
 * boot it with its vm.json. Every VM is killed when the test ends, pass or fail.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildResult, type Machine, Vm, type VmOptions, buildImage, loadVmConfig } from '@uos/vmrunner';
import { onTestFinished } from 'vitest';

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const builds = new Map<string, Promise<BuildResult>>();

/** Builds a service directory (cached per directory and boot protocol for the test run). */
export function build(serviceDir: string, machine: Machine = 'pc'): Promise<BuildResult> {
  const boot = machine === 'microvm' ? 'pvh' : 'multiboot';
  const key = `${serviceDir}|${boot}`;
  let pending = builds.get(key);
  if (!pending) builds.set(key, (pending = buildImage({ serviceDir, boot })));
  return pending;
}

/**
 * Builds and boots the service in `serviceDir` with its vm.json; the VM is killed at the end of the test
 * (booted in a beforeAll hook, at the suite's afterAll, which the caller writes).
 */
export async function boot(serviceDir: string, options: Omit<VmOptions, 'image'> = {}): Promise<Vm> {
  const vmJson = join(serviceDir, 'vm.json');
  const config = existsSync(vmJson) ? loadVmConfig(vmJson) : {};
  const machine = options.machine ?? config.machine ?? 'pc';
  const { image } = await build(serviceDir, machine);
  const vm = await Vm.start({ ...options, config: { ...config, ...options.config }, image, machine });
  try {
    onTestFinished(() => vm.kill());
  } catch {
    // Booted from a beforeAll hook: the suite's afterAll kills it (and the runner kills it on process exit).
  }
  return vm;
}

/** The directory of the calling test file. */
export function here(importMetaUrl: string): string {
  return dirname(fileURLToPath(importMetaUrl));
}
