/**
 * The assets `uos build` embeds, read in the guest by @uos/assets: the listing matches the build's, the
 * bytes read back, and a write into the image's read-only pages is a page fault whose report says what
 * happened.
 */
import { ExitStatus } from '@uos/vmrunner';
import { expect, it } from 'vitest';
import { boot, build, here } from '../../harness.js';

const dir = here(import.meta.url);

it('the guest lists and reads the files the build embedded', async () => {
  const result = await build(dir);
  expect(result.assets?.files.map((f) => f.path)).toEqual(['docs/note.txt', 'index.html']);
  const vm = await boot(dir);
  await vm.waitFor('assets: done');
  await vm.expectExit(ExitStatus.ok);
  const listed = vm.output.split('\n').filter((line) => /^assets: \S+ \d+ /.test(line));
  expect(listed).toEqual([
    expect.stringMatching(/^assets: docs\/note\.txt 11 text\/plain; charset=utf-8 "[\w-]{22}" -$/),
    expect.stringMatching(/^assets: index\.html \d+ text\/html; charset=utf-8 "[\w-]{22}" br,gzip$/),
  ]);
}, 120_000);

it('a write into an embedded file is a page fault that names the read-only payload', async () => {
  const vm = await boot(dir, { args: ['write'] });
  await vm.waitFor('assets: writing into the image');
  await vm.expectExit(ExitStatus.cpuExceptionBase + 14);
  expect(vm.output).toContain("the address is in the image's read-only payload");
  expect(vm.output).not.toContain('the write did not fault');
}, 120_000);
