/**
 * @uos/kernel: the service lifecycle and the event loop of a uOS image.
 *
 * A service module does `export default service({ start(args) { … }, stop() { … } })`. At boot the kernel
 * installs the globals services expect (console, setTimeout/setInterval, queueMicrotask, performance,
 * TextEncoder/TextDecoder, crypto.getRandomValues), calls start with the kernel command line, then runs
 * one event loop: deferred interrupt handlers (`irq.subscribe`), due timers, promise jobs after every
 * callback, and `hlt` until the next interrupt or deadline (no periodic tick). console output goes to
 * stdout; stdout goes to the serial console and to an in-memory ring (`os.log`).
 *
 * Invariants: nothing here runs at import time except `@uos/kernel/globals`; an interrupt handler in
 * native code only marks its vector pending, and one raised while its subscribers run is seen on the next
 * turn; an uncaught exception or unhandled rejection ends the service with a panic report (TypeScript
 * file:line), the panic hooks and the panic action; when nothing keeps the service alive, its stop hook
 * runs and the VM powers off with status 0. `profiler` samples where the CPU is (a timer interrupt that
 * ticks only while it runs) for `profiler.top(n)` and `uos boot --profile`.
 */
export { service, isService, parseArgs, startService } from './service.js';
export type { Service, ServiceDefinition } from './service.js';
export { os } from './os.js';
export type { HeapUsage, PanicAction, PanicHook, PanicInfo } from './os.js';
export { irq } from './irq.js';
export { profiler, DEFAULT_PROFILER_HZ, MAX_PROFILER_HZ } from './profiler.js';
export type { ProfilerEntry, ProfilerStatus } from './profiler.js';
export { rng, crypto } from './random.js';
export type { IntegerTypedArray } from './random.js';
export { stdin } from './console-input.js';
export type { InputListener } from './console-input.js';
export { LogRing } from './log-ring.js';
/** The portable UTF-8 codec (the image's globals use the native one); for code that also runs in Node. */
export { TextEncoder, TextDecoder } from './text-codec.js';
export type { TextDecodeOptions, TextDecoderOptions, TextEncoderEncodeIntoResult } from './text-codec.js';
export { timers } from './timers.js';
export type { TimerId } from './timers.js';
export { EventLoop, eventLoop } from './event-loop.js';
export type { EventLoopHost, InterruptHandler } from './event-loop.js';
export { TimerQueue } from './timer-queue.js';
export type { Clock, TimerCallback, TimerCounters } from './timer-queue.js';
export { KernelStat } from './stat-names.js';
export { setDeviceBinder, pciAddress, pciClassName } from './devices.js';
export type { DeviceBinder, PciFunctionInfo } from './devices.js';
export { format, inspect } from './inspect.js';
export type { InspectOptions } from './inspect.js';
export { panic } from './panic.js';
export type { StdoutWriter } from './stdout.js';
export { UosError } from '@uos/errors';
export { KernelError } from './errors.js';
export type { KernelErrorCode } from './errors.js';
