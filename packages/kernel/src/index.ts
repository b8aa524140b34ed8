/**
 * @uos/kernel: the service lifecycle and the event loop of a uOS image.
 *
 * A service module does `export default service({ start(args) { … }, stop() { … } })`. At boot the kernel
 * installs the globals services expect (console, setTimeout/setInterval, queueMicrotask, performance),
 * calls start with the kernel command line, then runs one event loop: deferred interrupt handlers, due
 * timers, promise jobs after every callback, and `hlt` until the next interrupt or deadline (no periodic
 * tick). console output goes to stdout, stdout to the serial console.
 *
 * Invariants: nothing here runs at import time except `@uos/kernel/globals`; an uncaught exception or
 * unhandled rejection ends the service with a panic report (TypeScript file:line) and a non-zero exit
 * status; when nothing keeps the service alive, its stop hook runs and the VM powers off with status 0.
 */
export { service, isService, parseArgs, startService } from './service.js';
export type { Service, ServiceDefinition } from './service.js';
export { os } from './os.js';
export { timers } from './timers.js';
export type { TimerId } from './timers.js';
export { EventLoop, eventLoop } from './event-loop.js';
export type { EventLoopHost, InterruptHandler } from './event-loop.js';
export { TimerQueue } from './timer-queue.js';
export type { Clock, TimerCallback } from './timer-queue.js';
export { format, inspect } from './inspect.js';
export type { InspectOptions } from './inspect.js';
export { panic } from './panic.js';
export type { StdoutWriter } from './stdout.js';
export { UosError } from '@uos/x86';

/** The globals a uOS image provides (TypeScript's ES2020 library declares none of them). */
declare global {
  interface Console {
    log(...data: unknown[]): void;
    info(...data: unknown[]): void;
    debug(...data: unknown[]): void;
    warn(...data: unknown[]): void;
    error(...data: unknown[]): void;
    trace(...data: unknown[]): void;
    assert(condition?: unknown, ...data: unknown[]): void;
    count(label?: string): void;
  }
  var console: Console;
  function setTimeout(handler: (...args: any[]) => void, ms?: number, ...args: any[]): number;
  function setInterval(handler: (...args: any[]) => void, ms?: number, ...args: any[]): number;
  function setImmediate(handler: (...args: any[]) => void, ...args: any[]): number;
  function clearTimeout(handle?: number): void;
  function clearInterval(handle?: number): void;
  function clearImmediate(handle?: number): void;
  function queueMicrotask(callback: () => void): void;
  interface Performance {
    readonly timeOrigin: number;
    now(): number;
  }
  var performance: Performance;
}
