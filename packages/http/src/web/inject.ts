/**
 * The web-standard globals of a uOS image. `uos build` hands this module to esbuild's `inject` (the
 * package.json field "uos": { "inject": [...] } names it): wherever a bundle names one of these as a free
 * identifier (`new Response(...)`, `typeof ReadableStream`, `Object.hasOwn`, `crypto.subtle`), esbuild
 * imports it from here instead, and what the bundle never names is never in the image. Nothing is put on
 * globalThis, so `globalThis.Request` stays undefined.
 */
export { AbortController, AbortSignal } from './abort.js';
export { atob, btoa } from './base64.js';
export { Blob, File } from './blob.js';
export { DOMException } from './dom-exception.js';
export { Event, EventTarget } from './events.js';
export { FormData } from './form-data.js';
export { Headers } from './headers.js';
export { Request } from './request.js';
export { Response } from './response.js';
export {
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
  ReadableByteStreamController,
  ReadableStream,
  ReadableStreamBYOBReader,
  ReadableStreamBYOBRequest,
  ReadableStreamDefaultController,
  ReadableStreamDefaultReader,
  TransformStream,
  TransformStreamDefaultController,
  WritableStream,
  WritableStreamDefaultController,
  WritableStreamDefaultWriter,
} from './streams.js';
export { structuredClone } from './structured-clone.js';
export { TextDecoderStream, TextEncoderStream } from './text-streams.js';
export { WebSocket, fetch, navigator } from './platform.js';
export { URL } from './url/url.js';
export { URLSearchParams } from './url/url-search-params.js';
import { hasOwn } from './builtins.js';
import { subtle } from './subtle.js';
export { hasOwn as 'Object.hasOwn', subtle as 'crypto.subtle' };
