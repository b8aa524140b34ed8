// The engine's allocator (native/kernel/heap.c) tested on the host: native/test/heap-test.c drives it with
// random allocations, frees and reallocs over fake physical memory and checks alignment, sizes, overlap,
// contents, statistics and that every page comes back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const native = fileURLToPath(new URL('../native/', import.meta.url));
let work: string;
let binary: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'uos-heap-test-'));
  binary = join(work, 'heap-test');
  execFileSync('gcc', [
    '-O2',
    '-g',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-fsanitize=undefined',
    `-I${join(native, 'include')}`,
    join(native, 'test', 'heap-test.c'),
    join(native, 'kernel', 'heap.c'),
    '-o',
    binary,
  ]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('heap (slab allocator behind QuickJS)', () => {
  for (const seed of [1, 42, 20261123]) {
    // A few seconds of CPU each, with UBSan: more than the default 5 s when other tests share the cores.
    it(`keeps every invariant over 60,000 random operations (seed ${seed})`, { timeout: 60_000 }, () => {
      const output = execFileSync(binary, [String(seed), '60000'], { encoding: 'utf8' });
      expect(output).toMatch(/^ok: 60000 operations/);
    });
  }
});
