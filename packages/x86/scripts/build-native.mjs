#!/usr/bin/env node
// Builds @uos/x86's native platform: the kernel images (multiboot ELF32 and PVH ELF64) and the host
// bytecode compiler (uos-jsc), from the C and assembly in native/, QuickJS from the registry package
// qjsc@0.3.0 (pinned by integrity, sources only, its install script never runs) and Debian's musl libc.a;
// and the same compiler as WebAssembly (uos-jsc.wasm, clang for wasm32 with Debian's wasi-libc), which is
// what `uos build` runs (through @uos/x86-platform): consumers need no native binary; the native uos-jsc
// stays as the reference the byte-identity test compares it with. Outputs go to platform/. Skips the work
// when nothing that goes into the outputs has changed.
import { execFile as execFileCb, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const cacheDir = join(root, '.cache');
const buildDir = join(root, 'build');
const outDir = join(root, 'platform');

export const QUICKJS = {
  package: 'qjsc',
  version: '0.3.0',
  integrity: 'sha512-a7+cU6/IVcZbIejffdt/wZVMX6LL2MDL3HQ9Zb5Gm23G9DvBMS/z9GHFxz39bAvp2PvMOM+ypSOAyokt2DdZ2w==',
  directory: 'package/deps/quickjs_2021_03_27',
  release: '2021-03-27',
  files: [
    'quickjs.c',
    'quickjs.h',
    'quickjs-atom.h',
    'quickjs-opcode.h',
    'libregexp.c',
    'libregexp.h',
    'libregexp-opcode.h',
    'libunicode.c',
    'libunicode.h',
    'libunicode-table.h',
    'cutils.c',
    'cutils.h',
    'libbf.c',
    'libbf.h',
    'list.h',
    'VERSION',
    'LICENSE',
  ],
};
/** The optimisation levels every image is built at: `uos build --optimize size|speed`. */
export const OPTIMIZE = [
  { name: 'size', flags: ['-Oz', '-mstringop-strategy=libcall'], suffix: '' },
  { name: 'speed', flags: ['-O2'], suffix: '-speed' },
];
const QUICKJS_SOURCES = ['quickjs.c', 'libregexp.c', 'libunicode.c', 'cutils.c', 'libbf.c'];
const MUSL_LIB = '/usr/lib/x86_64-linux-musl/libc.a';
const MUSL_INCLUDE = '/usr/include/x86_64-linux-musl';
const WASI_INCLUDE = '/usr/include/wasm32-wasi';
const APT_HINT =
  'install them with: sudo apt-get install gcc nasm binutils musl-dev clang lld wasi-libc libclang-rt-14-dev-wasm32 (or run the README quick start)';

const log = (message) => process.stdout.write(`[@uos/x86] ${message}\n`);
class BuildError extends Error {}

function which(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

function wasmBuiltins() {
  return spawnSync('clang', ['--target=wasm32-wasi', '-print-libgcc-file-name'], { encoding: 'utf8' }).stdout.trim();
}

function checkTools() {
  const missing = ['gcc', 'nasm', 'ld', 'objcopy', 'tar', 'npm', 'clang', 'wasm-ld'].filter((t) => !which(t));
  if (!existsSync(MUSL_LIB) || !existsSync(MUSL_INCLUDE)) missing.push('musl-dev (libc.a)');
  if (!existsSync(join(WASI_INCLUDE, 'stdio.h'))) missing.push('wasi-libc');
  if (which('clang') && !existsSync(wasmBuiltins())) missing.push('libclang-rt-14-dev-wasm32 (compiler-rt for wasm32)');
  if (missing.length) throw new BuildError(`missing build tools: ${missing.join(', ')}; ${APT_HINT}`);
}

async function fetchQuickJs() {
  const dir = join(cacheDir, `quickjs-${QUICKJS.release}`);
  const stamp = join(dir, '.integrity');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === QUICKJS.integrity) return dir;
  log(`fetching QuickJS ${QUICKJS.release} from the npm package ${QUICKJS.package}@${QUICKJS.version}`);
  const work = join(tmpdir(), `uos-quickjs-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const { stdout } = await execFile('npm', ['pack', `${QUICKJS.package}@${QUICKJS.version}`, '--json', '--pack-destination', work], {
      cwd: work,
    });
    const [packed] = JSON.parse(stdout);
    const tarball = join(work, packed.filename);
    const [algorithm, expected] = QUICKJS.integrity.split('-');
    const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
    if (actual !== expected) {
      throw new BuildError(
        `integrity mismatch for ${QUICKJS.package}@${QUICKJS.version}: expected ${QUICKJS.integrity}, got ${algorithm}-${actual}`,
      );
    }
    await execFile('tar', ['-xzf', tarball, '-C', work, ...QUICKJS.files.map((f) => `${QUICKJS.directory}/${f}`)]);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of QUICKJS.files) copyFileSync(join(work, QUICKJS.directory, f), join(dir, f));
    writeFileSync(stamp, QUICKJS.integrity);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

async function gccVersion() {
  const { stdout } = await execFile('gcc', ['--version']);
  return stdout.split('\n')[0];
}

async function pool(tasks, width) {
  const results = [];
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  return results;
}

async function run(command, args, options = {}) {
  try {
    return await execFile(command, args, { maxBuffer: 64 * 1024 * 1024, ...options });
  } catch (error) {
    throw new BuildError(`${command} ${args.join(' ')}\n${error.stderr || error.message}`);
  }
}

async function main() {
  checkTools();
  const quickjsDir = await fetchQuickJs();
  const gccInclude = (await execFile('gcc', ['-print-file-name=include'])).stdout.trim();
  const libgcc = (await execFile('gcc', ['-print-libgcc-file-name'])).stdout.trim();

  // -flto: link-time optimisation across QuickJS and the kernel (about 8 KB smaller at -Os).
  const common = [
    '-std=gnu11',
    '-m64',
    '-march=x86-64',
    '-flto',
    '-fno-pie',
    '-fno-pic',
    '-fno-stack-protector',
    '-fno-asynchronous-unwind-tables',
    '-fno-unwind-tables',
    '-fno-omit-frame-pointer',
    '-ffunction-sections',
    '-fdata-sections',
    '-fno-common',
    '-nostdinc',
    '-isystem',
    gccInclude,
    '-isystem',
    MUSL_INCLUDE,
  ];
  const quickjsDefines = ['-D_GNU_SOURCE', `-DCONFIG_VERSION="${QUICKJS.release}"`, '-DCONFIG_BIGNUM'];
  // Each image is built at two optimisation levels (`uos build --optimize size|speed`): -Os, the smallest,
  // and -O2 for the engine and the kernel's allocator and natives (docs/architecture/image-format.md has
  // the measurements). Both variants share the boot code and everything outside the hot paths.
  // UOS_NATIVE_OPTIMIZE=size (or speed) builds one level only, for quick rebuilds while working on the
  // kernel; `uos build` then refuses the other level, naming it, and the package refuses to be packed.
  const only = process.env.UOS_NATIVE_OPTIMIZE;
  const variants = only ? OPTIMIZE.filter((v) => v.name === only) : OPTIMIZE;
  if (!variants.length) throw new BuildError(`UOS_NATIVE_OPTIMIZE must be one of ${OPTIMIZE.map((v) => v.name).join(', ')}, got "${only}"`);
  const targetQuickjs = (variant) => [...common, ...variant.flags, ...quickjsDefines, '-w'];
  const kernelFlags = [...common, '-Os', '-Wall', '-Wextra', '-Werror', `-I${join(nativeDir, 'include')}`, '-isystem', quickjsDir];
  const kernelFlagsFor = (variant) => kernelFlags.flatMap((f) => (f === '-Os' ? variant.flags : [f]));
  const hostFlags = ['-O2', ...quickjsDefines, '-w', `-I${quickjsDir}`]; // the host compiler: no LTO needed
  // The WebAssembly compiler: the same sources and defines; native/host/wasi/ fills what wasi-libc lacks.
  const wasiDir = join(nativeDir, 'host', 'wasi');
  const wasmFlags = [
    '--target=wasm32-wasi',
    '-O2',
    ...quickjsDefines,
    '-w',
    '-include',
    join(wasiDir, 'quickjs-wasi.h'),
    `-I${wasiDir}`,
    `-I${quickjsDir}`,
  ];

  const inputs = listFiles(nativeDir).sort();
  const hash = createHash('sha256');
  const clang = (await execFile('clang', ['--version'])).stdout.split('\n')[0];
  hash.update(
    JSON.stringify({
      variants,
      targetQuickjs: targetQuickjs(variants[0]),
      kernelFlags,
      hostFlags,
      wasmFlags,
      gcc: await gccVersion(),
      clang,
      integrity: QUICKJS.integrity,
    }),
  );
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const f of inputs) hash.update(relative(root, f)).update(readFileSync(f));
  hash.update(statSync(MUSL_LIB).size.toString());
  const digest = hash.digest('hex');
  const manifestPath = join(outDir, 'manifest.json');
  const ENGINES = [
    ['compact', ''],
    ['full', '-eval'],
  ];
  /** The file name of an image: uos-<boot>[-eval][-speed].elf; the multiboot images' debug twins end in .elf64. */
  const imageName = (boot, engineSuffix, variant, extension = 'elf') => `uos-${boot}${engineSuffix}${variant.suffix}.${extension}`;
  const IMAGES = variants.flatMap((v) => ENGINES.flatMap(([, e]) => [imageName('multiboot', e, v), imageName('pvh', e, v)]));
  const DEBUG = variants.flatMap((v) => ENGINES.map(([, e]) => imageName('multiboot', e, v, 'elf64')));
  const outputs = [...IMAGES, ...DEBUG, 'uos-jsc', 'uos-jsc.wasm'].map((f) => join(outDir, f));
  if (
    !process.argv.includes('--force') &&
    existsSync(manifestPath) &&
    outputs.every(existsSync) &&
    JSON.parse(readFileSync(manifestPath, 'utf8')).inputHash === digest
  ) {
    log('native platform is up to date');
    return;
  }

  const started = Date.now();
  for (const d of ['target', 'host', 'wasm', 'boot', 'kernel']) mkdirSync(join(buildDir, d), { recursive: true });
  const jobs = [];
  const targetObjects = {};
  for (const variant of variants) {
    targetObjects[variant.name] = [];
    mkdirSync(join(buildDir, `target${variant.suffix}`), { recursive: true });
    for (const src of QUICKJS_SOURCES) {
      const obj = join(buildDir, `target${variant.suffix}`, src.replace(/\.c$/, '.o'));
      targetObjects[variant.name].push(obj);
      // quickjs.c goes in through native/engine/quickjs-frames.c, which adds the sampler's read-only accessors.
      const input =
        src === 'quickjs.c'
          ? [join(nativeDir, 'engine', 'quickjs-frames.c'), `-I${quickjsDir}`, `-I${join(nativeDir, 'include')}`]
          : [join(quickjsDir, src)];
      jobs.push(() => run('gcc', [...targetQuickjs(variant), '-c', ...input, '-o', obj]));
    }
  }
  const hostObjects = [];
  for (const src of QUICKJS_SOURCES) {
    const obj = join(buildDir, 'host', src.replace(/\.c$/, '.o'));
    hostObjects.push(obj);
    jobs.push(() => run('gcc', [...hostFlags, '-c', join(quickjsDir, src), '-o', obj]));
  }
  const wasmObjects = [];
  for (const source of [...QUICKJS_SOURCES.map((f) => join(quickjsDir, f)), join(nativeDir, 'host', 'uos-jsc-wasm.c')]) {
    const obj = join(buildDir, 'wasm', `${source.split('/').pop().replace(/\.c$/, '.o')}`);
    wasmObjects.push(obj);
    jobs.push(() => run('clang', [...wasmFlags, '-c', source, '-o', obj]));
  }
  const kernelObjects = {};
  const hostObjectsByEngine = {};
  for (const variant of variants) {
    const dir = join(buildDir, `kernel${variant.suffix}`);
    mkdirSync(dir, { recursive: true });
    const flags = kernelFlagsFor(variant);
    kernelObjects[variant.name] = [];
    hostObjectsByEngine[variant.name] = { full: null, compact: null };
    for (const file of readdirSync(join(nativeDir, 'kernel')).filter((f) => f.endsWith('.c'))) {
      const source = join(nativeDir, 'kernel', file);
      if (file === 'js-host.c') {
        // The QuickJS host runs in plain thread context and may use floating point. It is built twice:
        // the full engine (eval, new Function) and the compact one without the parser.
        for (const engine of ['full', 'compact']) {
          const obj = join(dir, `js-host-${engine}.o`);
          hostObjectsByEngine[variant.name][engine] = obj;
          jobs.push(() => run('gcc', [...flags, `-DUOS_EVAL=${engine === 'full' ? 1 : 0}`, '-c', source, '-o', obj]));
        }
        continue;
      }
      const obj = join(dir, file.replace(/\.c$/, '.o'));
      kernelObjects[variant.name].push(obj);
      // Code that runs in interrupt, exception or syscall context must not touch SSE registers; the other
      // JS natives (js-*.c) run in plain thread context like the host.
      const sse = file.startsWith('js-') ? [] : ['-mgeneral-regs-only'];
      jobs.push(() => run('gcc', [...flags, ...sse, '-c', source, '-o', obj]));
    }
  }
  const asm = {};
  for (const file of readdirSync(join(nativeDir, 'boot')).filter((f) => f.endsWith('.asm'))) {
    const obj = join(buildDir, 'boot', file.replace(/\.asm$/, '.o'));
    asm[file] = obj;
    jobs.push(() => run('nasm', ['-f', 'elf64', '-w+all', join(nativeDir, 'boot', file), '-o', obj]));
  }
  // Biggest first, so the two long QuickJS compiles start at once.
  jobs.sort((a, b) => (b.toString().includes('quickjs') ? 1 : 0) - (a.toString().includes('quickjs') ? 1 : 0));
  log(`compiling ${jobs.length} files`);
  await pool(jobs, Math.max(2, availableParallelism()));

  mkdirSync(outDir, { recursive: true });
  const shared = (variant) => [
    asm['entry.asm'],
    asm['interrupts.asm'],
    asm['stacks.asm'],
    ...kernelObjects[variant.name],
    ...targetObjects[variant.name],
  ];
  // Load addresses stay 4 KiB aligned (linker.ld), but file offsets need only 16: no padding in the file.
  // Linked through gcc so the LTO plugin runs, at the variant's level again for the link-time code generation.
  const link = (variant, output, extra, entry) =>
    run('gcc', [
      '-flto=2',
      ...variant.flags,
      '-nostdlib',
      '-static',
      '-Wl,-z,max-page-size=0x10',
      '-Wl,-z,common-page-size=0x10',
      '-Wl,-z,noexecstack',
      '-Wl,--gc-sections',
      '-Wl,--no-warn-rwx-segments',
      '-Wl,--build-id=none',
      `-Wl,-e,${entry}`,
      `-Wl,-T,${join(nativeDir, 'linker.ld')}`,
      '-o',
      output,
      ...extra,
      ...shared(variant),
      '-Wl,--start-group',
      MUSL_LIB,
      libgcc,
      '-Wl,--end-group',
    ]);
  const links = [];
  for (const variant of variants) {
    for (const [engine, suffix] of ENGINES) {
      const host = hostObjectsByEngine[variant.name][engine];
      // QEMU's multiboot loader refuses ELF64: the multiboot variant ships as ELF32 around the same code.
      const multiboot64 = join(buildDir, imageName('multiboot', suffix, variant, 'elf64'));
      links.push(() =>
        link(variant, multiboot64, [asm['multiboot-header.asm'], host], 'multiboot_entry').then(() =>
          run('objcopy', ['-O', 'elf32-i386', multiboot64, join(buildDir, imageName('multiboot', suffix, variant))]),
        ),
      );
      links.push(() => link(variant, join(buildDir, imageName('pvh', suffix, variant)), [asm['pvh-note.asm'], host], 'pvh_entry'));
    }
  }
  links.push(() =>
    run('gcc', [...hostFlags, join(nativeDir, 'host', 'uos-jsc.c'), ...hostObjects, '-lm', '-lpthread', '-o', join(buildDir, 'uos-jsc')]),
  );
  // A WASI reactor (no main; exports the compile calls), with stack room above QuickJS's 256 KiB limit.
  links.push(() =>
    run('clang', [
      '--target=wasm32-wasi',
      '-mexec-model=reactor',
      '-Wl,-z,stack-size=1048576',
      '-Wl,--strip-debug',
      '-o',
      join(buildDir, 'uos-jsc.wasm'),
      ...wasmObjects,
      '-lm',
    ]),
  );
  // Each link runs two LTO partitions (-flto=2): two links at a time keep a 2-core machine busy.
  await pool(links, Math.max(1, availableParallelism() >> 1));
  // gdb needs ELF64: the multiboot images' 64-bit twins are their debug files.
  for (const f of [...IMAGES, ...DEBUG, 'uos-jsc', 'uos-jsc.wasm']) renameSync(join(buildDir, f), join(outDir, f));

  // The engine in the image and the host compiler must agree: compile a probe to prove the compiler runs.
  const probe = join(buildDir, 'probe.js');
  writeFileSync(probe, 'let x = 1n << 70n; globalThis.y = String(x);\n');
  await run(join(outDir, 'uos-jsc'), [probe, join(buildDir, 'probe.bin')]);

  const size = (f) => statSync(join(outDir, f)).size;
  const manifest = {
    inputHash: digest,
    quickjs: { release: QUICKJS.release, from: `${QUICKJS.package}@${QUICKJS.version}`, integrity: QUICKJS.integrity, bignum: true },
    // Keyed by engine, `-speed` for the -O2 variant (compact, full, compact-speed, full-speed).
    images: Object.fromEntries(
      variants.flatMap((v) =>
        ENGINES.map(([engine, e]) => [`${engine}${v.suffix}`, { multiboot: imageName('multiboot', e, v), pvh: imageName('pvh', e, v) }]),
      ),
    ),
    debug: Object.fromEntries(
      variants.flatMap((v) =>
        ENGINES.map(([engine, e]) => [
          `${engine}${v.suffix}`,
          { multiboot: imageName('multiboot', e, v, 'elf64'), pvh: imageName('pvh', e, v) },
        ]),
      ),
    ),
    compiler: 'uos-jsc',
    wasmCompiler: 'uos-jsc.wasm',
    sizes: Object.fromEntries(IMAGES.map((f) => [f, size(f)])),
  };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`native platform built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  process.stderr.write(`[@uos/x86] build failed: ${error instanceof BuildError ? error.message : error.stack}\n`);
  process.exit(1);
});
