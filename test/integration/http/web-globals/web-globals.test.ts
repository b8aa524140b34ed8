/**
 * @uos/http's web-standard globals inside an image (QuickJS 2021-03-27): the service exercises each one by
 * its free name and reports; every check must pass.
 */
import { ExitStatus } from '@uos/vmrunner';
import { expect, it } from 'vitest';
import { boot, build, here } from '../../harness.js';

const dir = here(import.meta.url);

it('every web global works in the guest', async () => {
  const vm = await boot(dir);
  const done = await vm.waitFor(/^web: done /, 120_000);
  const failures = vm.output.split('\n').filter((line) => line.startsWith('web: FAIL'));
  expect(failures).toEqual([]);
  expect(done).toMatch(/^web: done (\d+)\/\1$/);
  await vm.expectExit(ExitStatus.ok);
}, 180_000);

it('puts only the globals a service names into its image', async () => {
  const { packages } = await build(dir);
  expect(packages.map((p) => p.name)).toContain('@uos/http');
  expect(packages.map((p) => p.name)).toContain('web-streams-polyfill');
});
