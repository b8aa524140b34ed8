// `uos build` warns when a bundle uses a web global uOS does not provide, naming the global, the module and
// what to do; feature tests (`typeof X`), locals and properties of the same name are not uses.
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { bundleService } from './bundle.js';
import { main } from './cli.js';
import { UNSUPPORTED_GLOBALS, describeUnsupportedGlobal, usesInBundle } from './unsupported-globals.js';

const fixtures = realpathSync(fileURLToPath(new URL('../test-fixtures/', import.meta.url)));
const repository = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'uos-unsupported-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('unsupported web globals', () => {
  it('are really absent: neither @uos/http/web nor @uos/kernel/globals provides one', () => {
    const web = readFileSync(join(repository, 'packages/http/src/web/inject.ts'), 'utf8');
    const kernel = readFileSync(join(repository, 'packages/kernel/src/install-globals.ts'), 'utf8');
    for (const name of Object.keys(UNSUPPORTED_GLOBALS)) {
      expect(web, name).not.toMatch(new RegExp(`\\b${name}\\b`));
      expect(kernel, name).not.toMatch(new RegExp(`^\\s+${name}[,:]`, 'm'));
    }
  });

  it('hono/compress: the bundle warns about CompressionStream, naming the Hono module and what to do', async () => {
    const bundle = await bundleService(join(fixtures, 'hono-compress'));
    expect(bundle.warnings).toHaveLength(1);
    const [warning] = bundle.warnings;
    expect(warning).toMatch(/^warning: hono\/dist\/middleware\/compress\/index\.js uses CompressionStream, which uOS does not provide/);
    expect(warning).toContain('ReferenceError: CompressionStream is not defined');
    expect(warning).toContain('drop hono/compress');
    // the real bundle is untouched: the global stays free, so feature tests keep working
    expect(bundle.code).toContain('new CompressionStream(');
    expect(bundle.code).not.toContain('__uos_unsupported_');
  });

  it('feature tests, locals and properties of the same names are not uses', async () => {
    const bundle = await bundleService(join(fixtures, 'feature-test'));
    expect(bundle.warnings).toEqual([]);
  });

  it('a use through globalThis warns like the bare name; a typeof test of globalThis.X does not', async () => {
    const bundle = await bundleService(join(fixtures, 'global-this'));
    expect(bundle.warnings).toHaveLength(1);
    expect(bundle.warnings[0]).toMatch(/^warning: service\.ts uses WebAssembly, which uOS does not provide/);
    expect(bundle.code).toContain('globalThis.WebAssembly.instantiate(');
  });

  it('a service with no such globals gets no warning', async () => {
    const bundle = await bundleService(join(fixtures, 'web-globals'));
    expect(bundle.warnings).toEqual([]);
  });

  it('usesInBundle: per global and module, typeof-only modules left out', () => {
    const code = [
      'var __uos_unsupported_Worker = void 0;',
      'new __uos_unsupported_Worker("a.js");',
      'if (typeof __uos_unsupported_caches !== "undefined") x();',
      'new __uos_unsupported_Worker2("b.js"); typeof __uos_unsupported_Worker;',
      'indexedDB.open("not a probe");',
    ].join('\n');
    const sources = ['/probe/Worker.js', '/svc/a.ts', '/svc/b.ts'];
    const lines = [
      { source: 0, line: 1 },
      { source: 1, line: 3 },
      { source: 1, line: 4 },
      { source: 2, line: 1 },
      { source: 2, line: 2 },
    ];
    const uses = usesInBundle(code, sources, lines, '/probe', '/svc');
    expect(uses).toEqual([{ global: 'Worker', modules: ['a.ts', 'b.ts'], advice: UNSUPPORTED_GLOBALS.Worker }]);
    expect(describeUnsupportedGlobal(uses[0]!)).toMatch(/^warning: a\.ts, b\.ts use Worker, which uOS does not provide: /);
  });

  it('`uos build` prints the warning on stderr', async () => {
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await main(['build', join(fixtures, 'hono-compress'), '-o', join(scratch, 'hono-compress.elf')])).toBe(0);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(written.join('')).toMatch(
      /^uos: warning: hono\/dist\/middleware\/compress\/index\.js uses CompressionStream, which uOS does not provide/m,
    );
  }, 60_000);
});
