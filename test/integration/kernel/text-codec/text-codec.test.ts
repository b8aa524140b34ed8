import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

describe('TextEncoder and TextDecoder in the image', () => {
  it('agree with the portable codec on thousands of random inputs, whole and streamed', async () => {
    const vm = await boot(here(import.meta.url));
    await vm.expectExit(ExitStatus.ok, 120_000);
    expect(vm.output).toContain('text-codec: 3000 cases, 0 mismatches; bom stripped true; utf-8');
  });
});
