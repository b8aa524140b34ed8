/**
 * The packages as a stranger gets them: packed tarballs installed into a fresh project outside the
 * monorepo, with gcc, cc, clang, nasm, as and ld shadowed by tripwires. The project type-checks strictly
 * against the published declarations (Bundler and NodeNext for the service, NodeNext with @types/node for
 * Node-side code), builds and boots hello on pc and microvm with the `uos` CLI, echoes TCP over
 * virtio-net, and serves HTTP from a Hono app on @uos/http in 16 MiB (Hono from the registry), reached
 * through `uos boot --publish`; `create-uos` scaffolds a project that passes its own test. No compiler is called.
 * Skips (with the reason) only without pnpm or QEMU, or when the registry is unreachable and pnpm's store
 * lacks a third-party package.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsumerMachine,
  consumerMachine,
  install,
  missingPrerequisite,
  repositoryVersion,
  runCommand,
  tarballOverrides,
} from './project.js';
import { ECHO_SERVICE, HELLO_SERVICE, HTTP_SERVICE, NODE_SIDE, serviceTsconfig } from './sources.js';

const prerequisite = missingPrerequisite();
if (prerequisite) console.warn(`consumer test skipped: ${prerequisite}`);

let machine: ConsumerMachine;
let project: string;
/** Set when the install could not reach the registry for a package pnpm's store lacks: the tests skip. */
let offline: string | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** Every file under `dir` whose name matches (symbolic links are not followed: pnpm links packages twice). */
function find(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return [];
    if (stat.isDirectory()) return find(path, pattern);
    return pattern.test(entry) ? [path] : [];
  });
}

describe.skipIf(prerequisite !== undefined)('a consumer project from the packed tarballs', () => {
  beforeAll(async () => {
    machine = await consumerMachine();
    project = join(machine.root, 'project');
    mkdirSync(join(project, 'services', 'hello'), { recursive: true });
    mkdirSync(join(project, 'services', 'echo'), { recursive: true });
    mkdirSync(join(project, 'services', 'http'), { recursive: true });
    mkdirSync(join(project, 'test'), { recursive: true });
    const file = (name: string) => `file:${machine.tarballs.get(name)}`;
    // What the README's install line gives: the four service packages, the runner, and a type checker;
    // and for the HTTP example, @uos/http and Hono (from the registry).
    const manifest = {
      name: 'uos-consumer',
      version: '1.0.0',
      private: true,
      type: 'module',
      dependencies: {
        '@uos/kernel': file('@uos/kernel'),
        '@uos/hw': file('@uos/hw'),
        '@uos/driver-virtionet': file('@uos/driver-virtionet'),
        '@uos/net': file('@uos/net'),
        '@uos/http': file('@uos/http'),
        hono: repositoryVersion('hono'),
      },
      devDependencies: {
        '@uos/vmrunner': file('@uos/vmrunner'),
        typescript: repositoryVersion('typescript'),
        '@types/node': repositoryVersion('@types/node'),
      },
      pnpm: { overrides: tarballOverrides(machine), onlyBuiltDependencies: ['esbuild'] },
    };
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(project, 'services', 'hello', 'service.ts'), HELLO_SERVICE);
    writeFileSync(join(project, 'services', 'echo', 'service.ts'), ECHO_SERVICE);
    writeFileSync(join(project, 'services', 'http', 'service.ts'), HTTP_SERVICE);
    writeFileSync(join(project, 'test', 'node-side.ts'), NODE_SIDE);
    writeFileSync(join(project, 'tsconfig.json'), serviceTsconfig('Bundler'));
    writeFileSync(join(project, 'tsconfig.nodenext.json'), serviceTsconfig('NodeNext'));
    writeFileSync(
      join(project, 'tsconfig.test.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        include: ['test'],
      }),
    );
    const installed = await install(machine, project);
    if (installed.offline) offline = `pnpm install could not reach the npm registry for a package its store lacks:\n${installed.stderr}`;
    else if (installed.code !== 0) throw new Error(`pnpm install failed (${installed.code}):\n${installed.stdout}\n${installed.stderr}`);
  }, 600_000);

  afterAll(() => {
    if (machine && !process.env.UOS_KEEP_CONSUMER) rmSync(machine.root, { recursive: true, force: true });
  });

  const uos = (args: string[], timeoutMs = 120_000) =>
    machine.run(join(project, 'node_modules', '.bin', 'uos'), args, { cwd: project, timeoutMs });

  it('installs what a consumer needs and nothing to build', ({ skip }) => {
    if (offline) skip(offline);
    const modules = join(project, 'node_modules', '.pnpm');
    expect(find(modules, /^uos-jsc\.wasm$/)).toHaveLength(1);
    expect(find(modules, /\.(c|h|asm|elf64)$|^uos-jsc$|^\.build-stamp$|^build-native\.mjs$/).filter((f) => f.includes('@uos+'))).toEqual(
      [],
    );
    expect(machine.tripwireCalls()).toEqual([]);
  });

  it('type-checks strictly against the published declarations: Bundler, NodeNext, and Node-side code', async ({ skip }) => {
    if (offline) skip(offline);
    const tsc = join(project, 'node_modules', '.bin', 'tsc');
    for (const config of ['tsconfig.json', 'tsconfig.nodenext.json', 'tsconfig.test.json']) {
      const result = await machine.run(tsc, ['-p', config], { cwd: project });
      expect(result.stdout + result.stderr, config).toBe('');
      expect(result.code, config).toBe(0);
    }
  });

  for (const machineType of ['pc', 'microvm'] as const) {
    it(`builds and boots hello on ${machineType} with the uos CLI`, async ({ skip }) => {
      if (offline) skip(offline);
      const result = await uos(['boot', 'services/hello', '--machine', machineType, '--timeout', '60']);
      expect(result.stdout).toMatch(/uos: built .*hello(\.pvh)?\.elf/);
      expect(result.stdout).toContain('hello from a consumer: ✓ 2 NIC-less');
      expect(result.code, result.stderr).toBe(0);
    });
  }

  it.for(['pc', 'microvm'] as const)('echoes TCP over virtio-net on %s', async (kind, { skip }) => {
    if (offline) skip(offline);
    const port = await freePort();
    writeFileSync(
      join(project, 'services', 'echo', 'vm.json'),
      JSON.stringify({ machine: kind, net: [{ device: 'virtio-net-pci', backend: 'user', name: `hostfwd=tcp:127.0.0.1:${port}-:7` }] }),
    );
    let listening: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      listening = resolve;
    });
    const booting = machine.run(join(project, 'node_modules', '.bin', 'uos'), ['boot', 'services/echo', '--timeout', '90'], {
      cwd: project,
      timeoutMs: 150_000,
      onStdout: (stdout) => {
        if (/echo: listening on/.test(stdout)) listening();
      },
    });
    const outcome = await Promise.race([ready.then(() => 'listening' as const), booting]);
    if (outcome !== 'listening') expect.fail(`the echo service never listened:\n${outcome.stdout}\n${outcome.stderr}`);
    const payload = randomBytes(200_000);
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = createConnection({ host: '127.0.0.1', port }, () => socket.end(payload));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
    const result = await booting;
    expect(echoed.length).toBe(payload.length);
    expect(echoed.equals(payload)).toBe(true);
    expect(result.stdout).toMatch(/echo: listening on \d+\.\d+\.\d+\.\d+:7/);
    expect(result.stdout).toContain('echo: connection closed (normal)');
    expect(result.code, result.stderr).toBe(0);
  });

  it.for(['pc', 'microvm'] as const)('serves HTTP from a Hono app on @uos/http in 16 MiB on %s', async (kind, { skip }) => {
    if (offline) skip(offline);
    const port = await freePort();
    writeFileSync(
      join(project, 'services', 'http', 'vm.json'),
      JSON.stringify({
        machine: kind,
        mem: '16M',
        net: [{ device: 'virtio-net-pci', backend: 'user' }],
      }),
    );
    let listening: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      listening = resolve;
    });
    const booting = machine.run(
      join(project, 'node_modules', '.bin', 'uos'),
      ['boot', 'services/http', '--publish', `${port}:80`, '--timeout', '90'],
      {
        cwd: project,
        timeoutMs: 150_000,
        onStdout: (stdout) => {
          if (/http: listening on/.test(stdout)) listening();
        },
      },
    );
    const outcome = await Promise.race([ready.then(() => 'listening' as const), booting]);
    if (outcome !== 'listening') expect.fail(`the HTTP service never listened:\n${outcome.stdout}\n${outcome.stderr}`);
    const base = `http://127.0.0.1:${port}`;
    const home = await fetch(`${base}/`, { signal: AbortSignal.timeout(30_000) });
    const homeText = await home.text();
    const hello = await fetch(`${base}/hello/consumer`, { signal: AbortSignal.timeout(30_000) });
    const helloJson = await hello.json();
    const bye = await fetch(`${base}/bye`, { signal: AbortSignal.timeout(30_000) });
    const byeText = await bye.text();
    const result = await booting;
    expect([home.status, homeText]).toEqual([200, 'Hello from Hono in a consumer image']);
    expect(home.headers.get('date')).toMatch(/ GMT$/);
    expect([hello.status, hello.headers.get('content-type'), helloJson]).toEqual([
      200,
      'application/json',
      { hello: 'consumer', at: '/hello/consumer' },
    ]);
    expect([bye.status, byeText]).toEqual([200, 'bye']);
    expect(result.stdout).toMatch(/uos:\s+hono@\d/);
    expect(result.stdout).toMatch(/http: listening on http:\/\/\d+\.\d+\.\d+\.\d+:80\//);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('called no compiler, linker or assembler', ({ skip }) => {
    if (offline) skip(offline);
    expect(machine.tripwireCalls()).toEqual([]);
  });

  describe('create-uos', () => {
    let scaffold: string;

    it('scaffolds a project that installs, type-checks and passes its own test', async ({ skip }) => {
      if (offline) skip(offline);
      const packed = machine.tarballs.get('create-uos');
      if (!packed) expect.fail('create-uos was not packed');
      const unpacked = join(machine.root, 'create-uos');
      mkdirSync(unpacked);
      expect((await runCommand('tar', ['-xzf', packed, '-C', unpacked], { env: machine.env })).code).toBe(0);
      // What `pnpm create uos my-service` runs, once create-uos is on the registry.
      const created = await machine.run(process.execPath, [join(unpacked, 'package', 'bin', 'create-uos.js'), 'my-service'], {
        cwd: machine.root,
      });
      expect(created.stdout).toContain('my-service is ready');
      expect(created.code, created.stderr).toBe(0);
      scaffold = join(machine.root, 'my-service');
      // The registry's part: the @uos packages come from the tarballs.
      const manifestPath = join(scaffold, 'package.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      manifest.pnpm = { ...manifest.pnpm, overrides: tarballOverrides(machine) };
      writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));

      const installed = await install(machine, scaffold);
      if (installed.offline) skip(`pnpm install could not reach the npm registry: ${installed.stderr}`);
      expect(installed.code, installed.stderr).toBe(0);
      const typecheck = await machine.run('pnpm', ['run', 'typecheck'], { cwd: scaffold });
      expect(typecheck.code, typecheck.stdout + typecheck.stderr).toBe(0);
      const tested = await machine.run('pnpm', ['test'], { cwd: scaffold, timeoutMs: 240_000 });
      expect(tested.code, tested.stdout + tested.stderr).toBe(0);
      expect(tested.stdout).toMatch(/1 passed/);
      expect(machine.tripwireCalls()).toEqual([]);
    }, 600_000);
  });
});
