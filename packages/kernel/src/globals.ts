/**
 * `@uos/kernel/globals`: the globals a uOS image provides, at run time and for TypeScript.
 *
 * At run time: installs console, the timers, queueMicrotask, performance, crypto, TextEncoder and
 * TextDecoder. `uos build` imports this module first in every image, so module-level service code can use
 * them; a service never imports it itself.
 *
 * For TypeScript: the `declare global` block below is the one place uOS declares these globals. It is opt-in,
 * so a project can type-check Node-side tests (with `@types/node`, whose declarations of the same names
 * differ) beside its service: the service's tsconfig lists `"types": ["@uos/kernel/globals"]`, the tests'
 * tsconfig lists `"types": ["node"]`. The declarations are self-contained (interfaces and `var`s, no
 * imports), the shape lib.dom.d.ts uses, so they agree with the DOM library's where both declare a name.
 * Other packages that add globals follow the same pattern (docs/architecture/packages.md).
 */
import { installGlobals } from './install-globals.js';

installGlobals(globalThis);

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
  // biome-ignore lint/suspicious/noExplicitAny: the signature Node and the DOM declare
  function setTimeout(handler: (...args: any[]) => void, ms?: number, ...args: any[]): number;
  // biome-ignore lint/suspicious/noExplicitAny: the signature Node and the DOM declare
  function setInterval(handler: (...args: any[]) => void, ms?: number, ...args: any[]): number;
  // biome-ignore lint/suspicious/noExplicitAny: the signature Node and the DOM declare
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
  interface Crypto {
    getRandomValues<T extends ArrayBufferView | null>(array: T): T;
    randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
  }
  var crypto: Crypto;
  interface TextEncoderEncodeIntoResult {
    read: number;
    written: number;
  }
  interface TextEncoder {
    readonly encoding: string;
    encode(input?: string): Uint8Array;
    encodeInto(source: string, destination: Uint8Array): TextEncoderEncodeIntoResult;
  }
  var TextEncoder: {
    prototype: TextEncoder;
    new (): TextEncoder;
  };
  interface TextDecoderOptions {
    fatal?: boolean;
    ignoreBOM?: boolean;
  }
  interface TextDecodeOptions {
    stream?: boolean;
  }
  interface TextDecoder {
    readonly encoding: string;
    readonly fatal: boolean;
    readonly ignoreBOM: boolean;
    decode(input?: ArrayBuffer | ArrayBufferView, options?: TextDecodeOptions): string;
  }
  var TextDecoder: {
    prototype: TextDecoder;
    new (label?: string, options?: TextDecoderOptions): TextDecoder;
  };
}
