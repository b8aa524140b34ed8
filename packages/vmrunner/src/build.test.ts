import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UosError } from '@uos/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetworked, needsEval } from './build.js';
import { type Bundle, bundleService, resolveServiceEntry } from './bundle.js';
import { firstMappingPerLine } from './line-map.js';

// Real paths: esbuild reports inputs with symlinks resolved.
const fixtures = realpathSync(fileURLToPath(new URL('../test-fixtures/', import.meta.url)));
const workspacePackages = realpathSync(fileURLToPath(new URL('../../', import.meta.url)));

/** The real path of a workspace package directory, with a trailing separator. */
function workspacePackage(name: string): string {
  const directory = join(workspacePackages, name);
  return (existsSync(directory) ? realpathSync(directory) : directory) + sep;
}

/** Runs and awaits `action`, which must throw or reject with a UosError with `code`; returns that error. */
async function rejection(code: string, action: () => unknown): Promise<UosError> {
  let thrown: unknown;
  try {
    await action();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) expect.fail(`expected a UosError ${code}, but nothing was thrown`);
  if (!UosError.isInstance(thrown)) expect.fail(`expected a UosError ${code}, got ${String(thrown)}`);
  expect(thrown.code).toBe(code);
  return thrown;
}

describe('needsEval', () => {
  it.each([
    ['a direct eval call', 'const x = eval("1 + 1");'],
    ['eval as a value', 'const indirect = eval;\nindirect(code);'],
    ['globalThis.eval', 'globalThis.eval(source);'],
    ['eval after a string on the same line', 'const s = "text"; eval(s);'],
    ['eval after a comment line', '// a comment\neval(s);'],
    ['eval after a block comment', '/* a comment */ eval(s);'],
    ['eval after a URL in a string', 'const url = "http://example.com/"; eval(s);'],
    ['new Function', 'const f = new Function("a", "return a");'],
    ['a Function call', 'const global = Function("return this")();'],
    ['Function followed by a space', 'const f = Function ("x", "return x");'],
    ['Function followed by a line break', 'const f = new Function\n("x", "return x");'],
    ['eval inside a template literal substitution', 'const s = `${eval(code)}`;'],
  ])('finds %s', (_, code) => {
    expect(needsEval(code)).toBe(true);
  });

  it.each([
    ['eval inside a double-quoted string', 'const s = "eval(x)";'],
    ['eval inside a single-quoted string', "const s = 'eval(x)';"],
    ['new Function( inside a string', 'const s = \'new Function("x")\';'],
    ['Function ( inside a string', 'const s = "Function (x)";'],
    ['an escaped quote before eval in a string', 'const s = "say \\"eval(x)\\" twice";'],
    ['eval in a line comment', 'const a = 1; // eval(x)\nconst b = 2;'],
    ['new Function( in a block comment', '/* uses new Function( only in docs */\nconst a = 1;'],
    ['Function ( in a multi-line block comment', '/**\n * Function (anonymous)\n * eval\n */\nconst a = 1;'],
    ["'[Function (anonymous)]'", "const label = '[Function (anonymous)]';"],
    ['"[Function (anonymous)]"', 'return "[Function: " + name + "] [Function (anonymous)]";'],
    ['x.evaluate', 'const result = x.evaluate(y);'],
    ['identifiers that contain eval', 'const evaluation = medieval + retrieval + evalCount;'],
    ['identifiers that contain Function', 'if (isFunction(x)) callFunction(x); const AsyncFunction = 1;'],
    ['typeof x === "function"', 'if (typeof x === "function") x();'],
    ['Function without a call', 'if (x instanceof Function) x();'],
  ])('ignores %s', (_, code) => {
    expect(needsEval(code)).toBe(false);
  });

  // Bug: comments are stripped before strings, so "/*" or "//" inside a string literal starts a
  // "comment" that swallows real code: a real eval is missed and the image gets the engine without eval.
  it('finds eval after a string containing "/*" (a glob) and before a later block comment', () => {
    expect(needsEval('const pattern = "src/*.ts";\neval(code);\n/** docs */\nconst a = 1;')).toBe(true);
  });

  it('finds eval after a string containing "//" on the same line', () => {
    expect(needsEval('if (path.startsWith("//")) return eval(source);')).toBe(true);
  });
});

describe('isNetworked (what --optimize auto builds for speed)', () => {
  it.each([
    [['@uos/kernel', '@uos/statman'], false],
    [['@uos/kernel', '@uos/net'], true],
    [['@uos/kernel', '@uos/hw', '@uos/driver-virtionet'], true],
    [['@uos/kernel', '@uos/driver-vmxnet3'], true],
    [['@uos/kernel', '@uos/hw'], false],
    [['my-service', 'network-utils'], false],
  ])('%j -> %s', (names, expected) => {
    expect(isNetworked(names.map((name) => ({ name })))).toBe(expected);
  });
});

describe('resolveServiceEntry', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'uos-service-entry-test-'));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function serviceDirectory(name: string, files: Record<string, string>): string {
    const directory = join(root, name);
    for (const [file, contents] of Object.entries(files)) {
      mkdirSync(dirname(join(directory, file)), { recursive: true });
      writeFileSync(join(directory, file), contents);
    }
    mkdirSync(directory, { recursive: true });
    return directory;
  }

  it('uses package.json "uos.entry" before any candidate', () => {
    const directory = serviceDirectory('manifest-entry', {
      'package.json': JSON.stringify({ name: 'manifest-entry', uos: { entry: 'lib/main.ts' } }),
      'lib/main.ts': '',
      'service.ts': '',
    });
    expect(resolveServiceEntry(directory)).toBe(join(directory, 'lib', 'main.ts'));
  });

  it('reports a "uos.entry" that does not exist', async () => {
    const directory = serviceDirectory('missing-manifest-entry', {
      'package.json': JSON.stringify({ name: 'missing-manifest-entry', uos: { entry: 'lib/nowhere.ts' } }),
      'service.ts': '',
    });
    const error = await rejection('service-not-found', () => resolveServiceEntry(directory));
    expect(error.message).toContain('"uos.entry" names lib/nowhere.ts, which does not exist');
  });

  it('falls back to the candidates when package.json has no "uos.entry"', () => {
    const directory = serviceDirectory('manifest-without-entry', {
      'package.json': JSON.stringify({ name: 'manifest-without-entry', uos: {} }),
      'src/index.ts': '',
    });
    expect(resolveServiceEntry(directory)).toBe(join(directory, 'src', 'index.ts'));
  });

  it('tries the candidates in order: service.ts, src/service.ts, src/index.ts, index.ts, then JavaScript', async () => {
    const order = ['service.ts', 'src/service.ts', 'src/index.ts', 'index.ts', 'service.js', 'src/index.js', 'index.js'];
    const directory = serviceDirectory('all-candidates', Object.fromEntries(order.map((file) => [file, ''])));
    for (const candidate of order) {
      expect(resolveServiceEntry(directory)).toBe(join(directory, ...candidate.split('/')));
      rmSync(join(directory, candidate));
    }
    await rejection('service-not-found', () => resolveServiceEntry(directory));
  });

  it('prefers service.ts over src/index.ts', () => {
    const directory = serviceDirectory('service-and-index', { 'src/index.ts': '', 'service.ts': '' });
    expect(resolveServiceEntry(directory)).toBe(join(directory, 'service.ts'));
  });

  it('reports a missing directory', async () => {
    const missing = join(root, 'no-such-service');
    const error = await rejection('service-not-found', () => resolveServiceEntry(missing));
    expect(error.message).toContain(`no service directory at ${missing}`);
  });

  it('reports a directory without an entry, listing the candidates', async () => {
    const directory = serviceDirectory('empty', { 'README.md': '# nothing to run' });
    const error = await rejection('service-not-found', () => resolveServiceEntry(directory));
    expect(error.message).toContain(`no service entry in ${directory}`);
    expect(error.message).toContain('service.ts, src/service.ts, src/index.ts, index.ts');
    expect(error.message).toContain('"uos": { "entry"');
  });
});

/** The bundle's inputs as absolute paths (the metafile names them relative to the working directory). */
function inputPaths(bundle: Bundle): string[] {
  return Object.keys(bundle.metafile.inputs).map((input) => resolve(process.cwd(), input));
}

describe('bundleService', () => {
  it('fails when a side-effect import of a driver marked "sideEffects": false would be dropped', async () => {
    const error = await rejection('bundle-failed', () => bundleService(join(fixtures, 'dropped-driver')));
    expect(error.message).toContain('sideEffects');
    expect(error.message).toContain("import 'fake-driver'");
    expect(error.message).toMatch(/dropped-driver[/\\]service\.ts:1:\d+: /);
    expect(error.message).toContain('node_modules/fake-driver/index.js');
  });

  describe('a driver that lists its entry in "sideEffects"', () => {
    let bundle: Bundle;
    const directory = join(fixtures, 'kept-driver');

    beforeAll(async () => {
      bundle = await bundleService(directory);
    });

    it('bundles the service from its entry', () => {
      expect(bundle.entry).toBe(join(directory, 'service.ts'));
      expect(inputPaths(bundle)).toContain(join(directory, 'service.ts'));
    });

    it("keeps the driver's code in the bundle and in metafile.inputs", () => {
      const driver = join(directory, 'node_modules', 'fake-driver', 'index.js');
      expect(inputPaths(bundle)).toContain(driver);
      expect(bundle.code).toContain('globalThis.fakeDriverRegistered = "kept-driver-marker"');
      expect(bundle.packages).toContainEqual({ name: 'fake-driver', version: '2.0.0', bytes: expect.any(Number) });
      expect(bundle.packages.find((p) => p.name === 'fake-driver')!.bytes).toBeGreaterThan(0);
    });

    it('runs the driver before the service starts', () => {
      const driverAt = bundle.code.indexOf('fakeDriverRegistered');
      const startAt = bundle.code.lastIndexOf('startService(');
      expect(driverAt).toBeGreaterThan(0);
      expect(startAt).toBeGreaterThan(driverAt);
    });

    it('has a source map whose line for the driver statement points at the driver file', () => {
      const lines = firstMappingPerLine(bundle.sourceMap);
      const generatedLine = bundle.code.split('\n').findIndex((line) => line.includes('fakeDriverRegistered'));
      const mapping = lines[generatedLine];
      expect(mapping).toBeDefined();
      expect(bundle.sourceMap.sources[mapping!.source]).toBe(join(directory, 'node_modules', 'fake-driver', 'index.js'));
      expect(mapping!.line).toBe(2);
    });
  });

  describe('a service that does not import a library', () => {
    let bundle: Bundle;
    const directory = join(fixtures, 'unused-library');

    beforeAll(async () => {
      bundle = await bundleService(directory);
    });

    it('gets none of the library code', () => {
      const inputs = inputPaths(bundle);
      expect(inputs).toContain(join(directory, 'service.ts'));
      expect(inputs.some((input) => input.endsWith(join('kernel', 'src', 'service.ts')))).toBe(true);
      expect(inputs.filter((input) => input.includes(`${sep}fake-library${sep}`))).toEqual([]);
      expect(bundle.code).not.toContain('unused-library-marker');
      expect(bundle.code).not.toContain('fakeLibraryFunction');
      expect(bundle.packages.map((p) => p.name)).not.toContain('fake-library');
      expect(bundle.code).toContain('unused-library-service-marker');
    });

    it('gets no code of workspace packages the kernel does not import', () => {
      // The kernel imports @uos/x86 and @uos/statman; none of the others may come along.
      const unwanted = ['hw', 'net', 'vmrunner', 'driver-virtionet', 'driver-vmxnet3'].map(workspacePackage);
      const inputs = inputPaths(bundle);
      expect(inputs.some((input) => input.startsWith(workspacePackage('kernel')))).toBe(true);
      for (const input of inputs) {
        expect(
          unwanted.some((prefix) => input.startsWith(prefix) && !input.startsWith(fixtures)),
          input,
        ).toBe(false);
      }
    });
  });

  describe("a dependency's globals (uos.inject)", () => {
    it('come into the bundle where the service names them, and only those', async () => {
      const bundle = await bundleService(join(fixtures, 'web-globals'));
      expect(bundle.code).toContain('widget-global-marker');
      expect(bundle.code).toContain('has-own-marker');
      expect(bundle.code).not.toContain('gadget-global-marker');
      expect(bundle.code).not.toMatch(/\bObject\.hasOwn\b/);
    });

    it('leave a service that names none of them untouched', async () => {
      const bundle = await bundleService(join(fixtures, 'unused-library'));
      expect(bundle.code).not.toContain('global-marker');
    });
  });
});
