import { UosError, buildImage } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { here } from '../../harness.js';

describe('a side-effect import the bundler would drop', () => {
  it('fails the build with a message that names the import and the fix', async () => {
    const failure = await buildImage({ serviceDir: here(import.meta.url) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(UosError.isInstance(failure)).toBe(true);
    const error = failure as UosError;
    expect(error.code).toBe('bundle-failed');
    expect(error.message).toMatch(/service\.ts:4:\d+: Ignoring this import because .* was marked as having no side effects/);
    expect(error.message).toContain("import '@uos/net';");
    expect(error.message).toMatch(/a driver must list its entry file in "sideEffects"/);
  });
});
