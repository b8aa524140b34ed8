/**
 * The QuickJS bytecode compiler as WebAssembly (platform/uos-jsc.wasm, built from native/host/uos-jsc-wasm.c
 * in @uos/x86 with the same QuickJS sources and defines as the image's engine): runs wherever Node runs, no
 * native binary. The module asks for five WASI calls; a small in-memory shim answers them (a clock, and
 * stderr collected for the error report), so no file, environment or node:wasi is involved.
 *
 * Invariants: the WebAssembly module is compiled once per file and instantiated afresh for every
 * compilation, so a trap or a leak in one never reaches the next; a syntax error in the input is a
 * result, a missing, broken or crashing compiler a thrown `X86PlatformError` naming the file.
 */
import { readFile } from 'node:fs/promises';
import { X86PlatformError } from './errors.js';

export interface CompileOptions {
  /** The file name stack traces and errors show (default `service.js`). */
  filename?: string;
  /** Compile as an ES module instead of a script. */
  module?: boolean;
}

/** The bytecode, or QuickJS's report of what is wrong with the source (message, newline, stack). */
export type CompileResult = { ok: true; bytecode: Uint8Array } | { ok: false; error: string };

// The few WebAssembly calls used here, typed locally: @types/node 20 does not declare the WebAssembly
// namespace, and the DOM library would bring browser globals into Node code.
type WasmModule = object;
type WasmImports = Record<string, Record<string, (...args: never[]) => number>>;
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Module: {
    imports(module: WasmModule): { module: string; name: string; kind: string }[];
    exports(module: WasmModule): { name: string; kind: string }[];
  };
  Instance: new (module: WasmModule, imports: WasmImports) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface CompilerExports {
  memory: WasmMemory;
  _initialize(): void;
  uos_jsc_alloc(size: number): number;
  uos_jsc_free(pointer: number): void;
  uos_jsc_compile(source: number, length: number, filename: number, module: number): number;
  uos_jsc_result(): number;
  uos_jsc_result_length(): number;
}

const EXPORTS = ['memory', '_initialize', 'uos_jsc_alloc', 'uos_jsc_free', 'uos_jsc_compile', 'uos_jsc_result', 'uos_jsc_result_length'];
const WASI = 'wasi_snapshot_preview1';
const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_NOSYS = 52;

/** The WASI calls the compiler makes, answered in memory; `stderr` collects what QuickJS prints. */
function wasiImports(module: WasmModule, memory: () => WasmMemory, stderr: string[]): WasmImports[string] {
  const decoder = new TextDecoder();
  const known: Record<string, (...args: never[]) => number> = {
    clock_time_get(_id: number, _precision: bigint, out: number): number {
      new DataView(memory().buffer).setBigUint64(out, BigInt(Date.now()) * 1_000_000n, true);
      return ERRNO_SUCCESS;
    },
    fd_write(fd: number, iovs: number, count: number, written: number): number {
      const view = new DataView(memory().buffer);
      let total = 0;
      for (let i = 0; i < count; i++) {
        const pointer = view.getUint32(iovs + i * 8, true);
        const length = view.getUint32(iovs + i * 8 + 4, true);
        if (fd === 1 || fd === 2) stderr.push(decoder.decode(new Uint8Array(memory().buffer, pointer, length)));
        total += length;
      }
      view.setUint32(written, total, true);
      return fd === 1 || fd === 2 ? ERRNO_SUCCESS : ERRNO_BADF;
    },
    fd_close: () => ERRNO_BADF,
    fd_fdstat_get: () => ERRNO_BADF,
    fd_seek: () => ERRNO_BADF,
    proc_exit(code: number): never {
      throw new Error(`the compiler exited with status ${code}`);
    },
  };
  const imports: WasmImports[string] = {};
  for (const entry of wasm.Module.imports(module)) {
    if (entry.module === WASI && entry.kind === 'function') imports[entry.name] = known[entry.name] ?? (() => ERRNO_NOSYS);
  }
  return imports;
}

const modules = new Map<string, Promise<WasmModule>>();

async function compileModule(path: string, remedy: string): Promise<WasmModule> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new X86PlatformError('compiler-missing', `the uOS bytecode compiler ${path} is missing; ${remedy}`, { cause: error });
  }
  let module: WasmModule;
  try {
    module = await wasm.compile(bytes);
  } catch (error) {
    throw new X86PlatformError(
      'compiler-invalid',
      `the uOS bytecode compiler ${path} is not a valid WebAssembly module (${(error as Error).message}); ${remedy}`,
      { cause: error },
    );
  }
  const exported = new Set(wasm.Module.exports(module).map((e) => e.name));
  const missing = EXPORTS.filter((name) => !exported.has(name));
  if (missing.length) {
    throw new X86PlatformError(
      'compiler-invalid',
      `the uOS bytecode compiler ${path} lacks the exports ${missing.join(', ')} (a different build?); ${remedy}`,
    );
  }
  return module;
}

/** A loaded compiler: `compile` is synchronous once `loadCompiler` has resolved. */
export interface BytecodeCompiler {
  /** The .wasm file. */
  readonly path: string;
  compile(source: string, options?: CompileOptions): CompileResult;
}

/**
 * Loads the compiler at `path` (compiled once per path and process). `remedy` ends the message of every
 * error about the file: what the user should do about it.
 */
export async function loadCompiler(path: string, remedy = 'reinstall @uos/x86-platform'): Promise<BytecodeCompiler> {
  let pending = modules.get(path);
  if (!pending) {
    pending = compileModule(path, remedy);
    modules.set(path, pending);
    pending.catch(() => modules.delete(path));
  }
  const module = await pending;
  return { path, compile: (source, options) => compileWith(module, path, remedy, source, options ?? {}) };
}

function compileWith(module: WasmModule, path: string, remedy: string, source: string, options: CompileOptions): CompileResult {
  const stderr: string[] = [];
  let exports: CompilerExports | undefined;
  const memory = (): WasmMemory => exports!.memory;
  try {
    const instance = new wasm.Instance(module, { [WASI]: wasiImports(module, memory, stderr) });
    exports = instance.exports as unknown as CompilerExports;
    exports._initialize();
  } catch (error) {
    throw new X86PlatformError(
      'compiler-invalid',
      `the uOS bytecode compiler ${path} does not start: ${(error as Error).message}; ${remedy}`,
      {
        cause: error,
      },
    );
  }
  const encoder = new TextEncoder();
  const copyIn = (text: string): [number, number] => {
    const bytes = encoder.encode(text);
    const pointer = exports!.uos_jsc_alloc(bytes.length + 1) >>> 0;
    if (pointer === 0) throw new RangeError('out of memory');
    const target = new Uint8Array(exports!.memory.buffer, pointer, bytes.length + 1);
    target.set(bytes);
    target[bytes.length] = 0;
    return [pointer, bytes.length];
  };
  let status: number;
  try {
    const [sourcePointer, length] = copyIn(source);
    const [namePointer] = copyIn(options.filename ?? 'service.js');
    status = exports.uos_jsc_compile(sourcePointer, length, namePointer, options.module ? 1 : 0);
  } catch (error) {
    const reason =
      error instanceof RangeError
        ? `it ran out of ${/call stack/i.test(error.message) ? 'stack (the source nests too deeply)' : 'memory'}`
        : `it crashed (${(error as Error).message})`;
    const printed = stderr.join('').trim();
    throw new X86PlatformError(
      'compiler-failed',
      `the uOS bytecode compiler ${path} could not compile the input: ${reason}${printed ? `\n${printed}` : ''}`,
      {
        cause: error,
      },
    );
  }
  if (status === 2) throw new X86PlatformError('compiler-failed', `the uOS bytecode compiler ${path} ran out of memory`);
  const result = new Uint8Array(exports.memory.buffer, exports.uos_jsc_result() >>> 0, exports.uos_jsc_result_length() >>> 0).slice();
  if (status === 0) return { ok: true, bytecode: result };
  const printed = stderr.join('').trim();
  return { ok: false, error: `${new TextDecoder().decode(result).trim()}${printed ? `\n${printed}` : ''}` };
}
