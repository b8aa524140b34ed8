/**
 * @uos/x86-platform: the prebuilt x86-64 platform of uOS as data, and the QuickJS bytecode compiler as
 * WebAssembly: what `uos build` (@uos/vmrunner) joins a service with. Services never import it.
 *
 * `platform/` holds the platform ELFs (multiboot and PVH, each with the compact engine and the full one
 * that can eval, each compiled for size (-Os) and for speed (-O2)) and `uos-jsc.wasm`, built in the uOS repository from `@uos/x86`'s native sources; nothing
 * here compiles C, and the compiler runs wherever Node 20 runs.
 *
 * Invariants: a missing or broken file is an `X86PlatformError` that names the file and what to do; the
 * compiler's bytecode is byte-identical to the native host build of the image's engine (tested in the
 * repository against every example and integration service).
 */
export { loadPlatform, platformDirectory, platformRemedy, variantKey, OPTIMIZE_LEVELS } from './platform.js';
export type { BootProtocol, Engine, Optimize, Platform, PlatformManifest } from './platform.js';
export { loadCompiler } from './compiler.js';
export type { BytecodeCompiler, CompileOptions, CompileResult } from './compiler.js';
export { X86PlatformError } from './errors.js';
export type { X86PlatformErrorCode } from './errors.js';
