import { type NativeBindings, native } from '@uos/x86';
import { probeDevices } from './devices.js';
import { eventLoop } from './event-loop.js';
import { panic } from './panic.js';
import { KernelError } from './errors.js';

const serviceMarker = Symbol.for('uos.service');

/** What a service provides: the uOS counterpart of IncludeOS's `Service::start`. */
export interface ServiceDefinition {
  /** Shown in logs. Defaults to the package name `uos build` recorded. */
  name?: string;
  /**
   * Called once at boot with the kernel command line split into words (`uos boot -- args`). The VM keeps
   * running while timers, interrupt subscriptions or handles are pending; when nothing is left, it
   * shuts down. A throw or a rejected promise ends the service with a panic report.
   */
  start(args: readonly string[]): void | Promise<void>;
  /** Called on `os.shutdown()` and when the service runs out of work, before the VM powers off. */
  stop?(): void | Promise<void>;
}

export interface Service extends ServiceDefinition {
  readonly [serviceMarker]: true;
}

/** Declares a service: `export default service({ start(args) { … } })` in the service's entry module. */
export function service(definition: ServiceDefinition): Service {
  if (typeof definition !== 'object' || definition === null || typeof definition.start !== 'function') {
    throw new KernelError('service-invalid', 'service() needs an object with a start(args) function');
  }
  if (definition.stop !== undefined && typeof definition.stop !== 'function') {
    throw new KernelError('service-invalid', 'service(): stop must be a function when given');
  }
  return Object.freeze({ ...definition, [serviceMarker]: true as const });
}

export function isService(value: unknown): value is Service {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[serviceMarker] === true;
}

/** Splits a command line into words; single and double quotes group, backslash escapes. */
export function parseArgs(cmdline: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < cmdline.length; i++) {
    const c = cmdline[i]!;
    if (c === '\\' && i + 1 < cmdline.length && quote !== "'") {
      word += cmdline[++i];
      inWord = true;
      continue;
    }
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      continue;
    }
    word += c;
    inWord = true;
  }
  if (inWord) words.push(word);
  return words;
}

let running: Service | undefined;
let stopping = false;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Runs the service's stop hook (once), then powers off with `status`. */
export function shutdown(status = 0): void {
  if (stopping) return;
  stopping = true;
  const bindings: NativeBindings = native();
  const stop = running?.stop;
  if (!stop) bindings.exit(status);
  const release = eventLoop().hold();
  let result: unknown;
  try {
    result = stop.call(running);
  } catch (error) {
    panic('Uncaught exception in stop():', error);
  }
  if (!isPromiseLike(result)) bindings.exit(status);
  result.then(
    () => {
      release();
      bindings.exit(status);
    },
    (error: unknown) => panic('stop() rejected:', error),
  );
}

/**
 * Starts the service module of this image. `uos build` generates the call; services do not call it.
 * @internal
 */
export function startService(module: { default?: unknown }): void {
  const candidate = module.default;
  if (!isService(candidate)) {
    panic(
      'The service cannot start:',
      new KernelError(
        'service-missing',
        "the service's entry module must `export default service({ start(args) { … } })` using service() from @uos/kernel",
      ),
    );
  }
  running = candidate;
  const bindings: NativeBindings = native();
  const loop = eventLoop();
  loop.onIdle = () => shutdown(0);
  bindings.setEventLoop(() => {
    const deadline = loop.turn();
    return deadline === undefined ? -1 : deadline * 1e6;
  });
  try {
    probeDevices();
  } catch (error) {
    panic('A driver failed while binding its device:', error);
  }
  let result: unknown;
  try {
    result = candidate.start(parseArgs(bindings.cmdline()));
  } catch (error) {
    panic('Uncaught exception in start():', error);
  }
  if (isPromiseLike(result)) result.then(undefined, (error: unknown) => panic('start() rejected:', error));
}
