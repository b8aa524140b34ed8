// Serial output reaches the runner in pieces that can split a UTF-8 sequence; Vm's output and the CLI's
// echo must decode it as a stream, never as U+FFFD.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { boot, here, repositoryRoot } from '../../harness.js';
import { LINE } from './service.js';

const dir = here(import.meta.url);

it('keeps multi-byte characters whole in Vm output', async () => {
  const vm = await boot(dir);
  expect(await vm.waitForExit()).toMatchObject({ status: 0 });
  expect(vm.output.split('\ufffd').length - 1, 'replacement characters in the output').toBe(0);
  for (let i = 0; i < 5; i++) expect(vm.output.includes(`utf8 ${i}: ${LINE}`), `line ${i}`).toBe(true);
});

it('keeps multi-byte characters whole in the CLI echo', () => {
  const result = spawnSync(process.execPath, [join(repositoryRoot, 'packages', 'vmrunner', 'bin', 'uos.js'), 'boot', dir], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout.split('\ufffd').length - 1, 'replacement characters in the output').toBe(0);
  for (let i = 0; i < 5; i++) expect(result.stdout.includes(`utf8 ${i}: ${LINE}`), `line ${i}`).toBe(true);
});
