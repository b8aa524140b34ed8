/**
 * @uos/vmrunner: builds uOS images and runs them in QEMU, for the `uos` CLI and for tests.
 *
 * `buildImage` bundles a service with esbuild (its import graph decides what the image holds; a
 * side-effect import esbuild would drop fails the build), compiles the bundle to QuickJS bytecode with
 * the WebAssembly build of the image's engine (@uos/x86-platform), and joins bytecode, native symbols and
 * the JS-to-TS line map to the prebuilt platform ELF as one extra load segment. `Vm` boots an image in QEMU with the serial
 * console on pipes: wait for a line, type into it, expect an exit status, and query or steer QEMU itself
 * through its QMP socket (`vm.qmp`, `vm.monitor`); QEMU is always ended. A VM started with `profile`
 * runs the guest's stack sampler from boot to exit; `vm.profile()` reads its samples back from the
 * guest's RAM, and `resolveProfile`/`toCpuProfile`/`toFolded` turn them into a Chrome DevTools CPU
 * profile or flamegraph input (`uos boot --profile`).
 *
 * Invariants: no C toolchain is needed here; bad input (vm.json, image, missing QEMU) is a `UosError`
 * naming what is wrong; every QEMU this package starts is killed by `kill()`, `withVm`, process exit or a
 * terminating signal (SIGTERM, SIGINT, SIGHUP).
 */
export { buildImage, needsEval, isNetworked } from './build.js';
export type { BuildOptions, BuildResult, EvalMode, OptimizeMode } from './build.js';
export { bundleService, resolveServiceEntry, BUNDLE_NAME } from './bundle.js';
export type { Bundle } from './bundle.js';
export { Vm, withVm, bootService, checkImage, imageInfo } from './vm.js';
export type { VmOptions, VmExit, BootServiceOptions, ImageInfo } from './vm.js';
export { loadVmConfig, validateVmConfig, parseMemory, microvmPcie, MACHINES, ACCELS, NIC_MODELS, DRIVEN_NIC_MODELS } from './vm-config.js';
export type { VmConfig, NetConfig, Machine, Accel } from './vm-config.js';
export { QmpClient, QmpError, QMP_EVENTS_KEPT } from './qmp.js';
export type { QmpGreeting, QmpEvent, QmpConnectOptions } from './qmp.js';
export { qemuArgs, findQemu, probeKvm, shellQuote, DEBUG_EXIT_DEVICE } from './qemu.js';
export { parsePublish, publishPorts, checkHostPort, listenAnnouncer } from './publish.js';
export type { PortForward } from './publish.js';
export { encodePayload, decodePayload, joinImage, extractPayload, PayloadKind } from './payload.js';
export { encodeLineMap, firstMappingPerLine, lookupLineMap } from './line-map.js';
export { encodeSymbols } from './symbols.js';
export { readElf, readSymbols } from './elf.js';
export { findProfileHeader, decodeGuestProfile, keyId, KeyKind } from './profile/guest-buffer.js';
export type { GuestProfile, GuestSample, GuestFunction, SampleKey } from './profile/guest-buffer.js';
export { StackResolver, imageSymbolizer, samplesInWindows } from './profile/stacks.js';
export type { Frame, Symbolizer } from './profile/stacks.js';
export { resolveProfile, toCpuProfile, toFolded, summarize, validateCpuProfile } from './profile/cpu-profile.js';
export type { CpuProfile, CpuProfileNode, ProfileEntry, ResolvedProfile } from './profile/cpu-profile.js';
export { ExitStatus, UosError, describeExitStatus } from '@uos/x86';
