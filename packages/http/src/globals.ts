/**
 * `@uos/http/globals`: the TypeScript declarations of the web-standard globals a uOS image gets from
 * @uos/http (Request, Response, Headers, URL, streams, ...). Opt-in, as `@uos/kernel/globals` is: a
 * service's tsconfig lists `"types": ["@uos/kernel/globals", "@uos/http/globals"]` (or a file says
 * `/// <reference types="@uos/http/globals" />`), while Node-side tests keep `@types/node`. The shapes are
 * lib.dom.d.ts's (interfaces and `var`s, no imports), so a project with the DOM library too sees one
 * declaration. At run time this module is empty: `uos build` injects the classes from `@uos/http/web`.
 */
export {};

declare global {
  type HeadersInit = [string, string][] | Record<string, string> | Headers;
  interface Headers {
    append(name: string, value: string): void;
    delete(name: string): void;
    get(name: string): string | null;
    getSetCookie(): string[];
    has(name: string): boolean;
    set(name: string, value: string): void;
    forEach(callbackfn: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void;
    entries(): IterableIterator<[string, string]>;
    keys(): IterableIterator<string>;
    values(): IterableIterator<string>;
    [Symbol.iterator](): IterableIterator<[string, string]>;
  }
  var Headers: { prototype: Headers; new (init?: HeadersInit): Headers };

  type BodyInit = ReadableStream | Blob | ArrayBuffer | ArrayBufferView | FormData | URLSearchParams | string;
  interface Body {
    readonly body: ReadableStream<Uint8Array> | null;
    readonly bodyUsed: boolean;
    arrayBuffer(): Promise<ArrayBuffer>;
    blob(): Promise<Blob>;
    bytes(): Promise<Uint8Array>;
    formData(): Promise<FormData>;
    // biome-ignore lint/suspicious/noExplicitAny: the signature lib.dom declares
    json(): Promise<any>;
    text(): Promise<string>;
  }

  type RequestInfo = Request | string;
  interface RequestInit {
    body?: BodyInit | null;
    cache?: string;
    credentials?: string;
    duplex?: 'half';
    headers?: HeadersInit;
    integrity?: string;
    keepalive?: boolean;
    method?: string;
    mode?: string;
    redirect?: 'error' | 'follow' | 'manual';
    referrer?: string;
    referrerPolicy?: string;
    signal?: AbortSignal | null;
    window?: null;
  }
  interface Request extends Body {
    readonly cache: string;
    readonly credentials: string;
    readonly destination: string;
    readonly headers: Headers;
    readonly integrity: string;
    readonly keepalive: boolean;
    readonly method: string;
    readonly mode: string;
    readonly redirect: string;
    readonly referrer: string;
    readonly referrerPolicy: string;
    readonly signal: AbortSignal;
    readonly url: string;
    clone(): Request;
  }
  var Request: { prototype: Request; new (input: RequestInfo | URL, init?: RequestInit): Request };

  interface ResponseInit {
    headers?: HeadersInit;
    status?: number;
    statusText?: string;
  }
  type ResponseType = 'basic' | 'cors' | 'default' | 'error' | 'opaque' | 'opaqueredirect';
  interface Response extends Body {
    readonly headers: Headers;
    readonly ok: boolean;
    readonly redirected: boolean;
    readonly status: number;
    readonly statusText: string;
    readonly type: ResponseType;
    readonly url: string;
    clone(): Response;
  }
  var Response: {
    prototype: Response;
    new (body?: BodyInit | null, init?: ResponseInit): Response;
    error(): Response;
    json(data: unknown, init?: ResponseInit): Response;
    redirect(url: string | URL, status?: number): Response;
  };

  interface URL {
    hash: string;
    host: string;
    hostname: string;
    href: string;
    toString(): string;
    readonly origin: string;
    password: string;
    pathname: string;
    port: string;
    protocol: string;
    search: string;
    readonly searchParams: URLSearchParams;
    username: string;
    toJSON(): string;
  }
  var URL: {
    prototype: URL;
    new (url: string | URL, base?: string | URL): URL;
    canParse(url: string | URL, base?: string | URL): boolean;
    parse(url: string | URL, base?: string | URL): URL | null;
  };
  interface URLSearchParams {
    readonly size: number;
    append(name: string, value: string): void;
    delete(name: string, value?: string): void;
    get(name: string): string | null;
    getAll(name: string): string[];
    has(name: string, value?: string): boolean;
    set(name: string, value: string): void;
    sort(): void;
    toString(): string;
    forEach(callbackfn: (value: string, key: string, parent: URLSearchParams) => void, thisArg?: unknown): void;
    entries(): IterableIterator<[string, string]>;
    keys(): IterableIterator<string>;
    values(): IterableIterator<string>;
    [Symbol.iterator](): IterableIterator<[string, string]>;
  }
  var URLSearchParams: {
    prototype: URLSearchParams;
    new (init?: string[][] | Record<string, string> | string | URLSearchParams): URLSearchParams;
  };

  type BlobPart = ArrayBuffer | ArrayBufferView | Blob | string;
  interface BlobPropertyBag {
    endings?: 'native' | 'transparent';
    type?: string;
  }
  interface Blob {
    readonly size: number;
    readonly type: string;
    arrayBuffer(): Promise<ArrayBuffer>;
    bytes(): Promise<Uint8Array>;
    slice(start?: number, end?: number, contentType?: string): Blob;
    stream(): ReadableStream<Uint8Array>;
    text(): Promise<string>;
  }
  var Blob: { prototype: Blob; new (blobParts?: BlobPart[], options?: BlobPropertyBag): Blob };
  interface FilePropertyBag extends BlobPropertyBag {
    lastModified?: number;
  }
  interface File extends Blob {
    readonly lastModified: number;
    readonly name: string;
  }
  var File: { prototype: File; new (fileBits: BlobPart[], fileName: string, options?: FilePropertyBag): File };
  type FormDataEntryValue = File | string;
  interface FormData {
    append(name: string, value: string | Blob, fileName?: string): void;
    delete(name: string): void;
    get(name: string): FormDataEntryValue | null;
    getAll(name: string): FormDataEntryValue[];
    has(name: string): boolean;
    set(name: string, value: string | Blob, fileName?: string): void;
    forEach(callbackfn: (value: FormDataEntryValue, key: string, parent: FormData) => void, thisArg?: unknown): void;
    entries(): IterableIterator<[string, FormDataEntryValue]>;
    keys(): IterableIterator<string>;
    values(): IterableIterator<FormDataEntryValue>;
    [Symbol.iterator](): IterableIterator<[string, FormDataEntryValue]>;
  }
  var FormData: { prototype: FormData; new (): FormData };

  interface EventInit {
    bubbles?: boolean;
    cancelable?: boolean;
    composed?: boolean;
  }
  interface Event {
    readonly bubbles: boolean;
    readonly cancelable: boolean;
    readonly composed: boolean;
    readonly currentTarget: EventTarget | null;
    readonly defaultPrevented: boolean;
    readonly isTrusted: boolean;
    readonly target: EventTarget | null;
    readonly timeStamp: number;
    readonly type: string;
    preventDefault(): void;
    stopImmediatePropagation(): void;
    stopPropagation(): void;
  }
  var Event: { prototype: Event; new (type: string, eventInitDict?: EventInit): Event };
  type EventListenerOrEventListenerObject = ((evt: Event) => void) | { handleEvent(object: Event): void };
  interface AddEventListenerOptions {
    capture?: boolean;
    once?: boolean;
    passive?: boolean;
    signal?: AbortSignal;
  }
  interface EventTarget {
    addEventListener(type: string, callback: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void;
    dispatchEvent(event: Event): boolean;
    removeEventListener(type: string, callback: EventListenerOrEventListenerObject | null, options?: { capture?: boolean } | boolean): void;
  }
  var EventTarget: { prototype: EventTarget; new (): EventTarget };
  interface AbortSignal extends EventTarget {
    readonly aborted: boolean;
    // biome-ignore lint/suspicious/noExplicitAny: the signature lib.dom declares
    onabort: ((this: AbortSignal, ev: Event) => any) | null;
    // biome-ignore lint/suspicious/noExplicitAny: the signature lib.dom declares
    readonly reason: any;
    throwIfAborted(): void;
  }
  var AbortSignal: {
    prototype: AbortSignal;
    new (): AbortSignal;
    abort(reason?: unknown): AbortSignal;
    any(signals: AbortSignal[]): AbortSignal;
    timeout(milliseconds: number): AbortSignal;
  };
  interface AbortController {
    readonly signal: AbortSignal;
    abort(reason?: unknown): void;
  }
  var AbortController: { prototype: AbortController; new (): AbortController };
  interface DOMException extends Error {
    readonly code: number;
    readonly message: string;
    readonly name: string;
  }
  var DOMException: { prototype: DOMException; new (message?: string, name?: string): DOMException };

  interface QueuingStrategy<T = unknown> {
    highWaterMark?: number;
    size?: (chunk: T) => number;
  }
  interface ReadableStreamReadDoneResult<T> {
    done: true;
    value?: T;
  }
  interface ReadableStreamReadValueResult<T> {
    done: false;
    value: T;
  }
  type ReadableStreamReadResult<T> = ReadableStreamReadValueResult<T> | ReadableStreamReadDoneResult<T>;
  interface ReadableStreamDefaultController<R = unknown> {
    readonly desiredSize: number | null;
    close(): void;
    enqueue(chunk?: R): void;
    error(e?: unknown): void;
  }
  interface UnderlyingDefaultSource<R = unknown> {
    cancel?: (reason?: unknown) => void | PromiseLike<void>;
    pull?: (controller: ReadableStreamDefaultController<R>) => void | PromiseLike<void>;
    start?: (controller: ReadableStreamDefaultController<R>) => unknown;
    type?: undefined;
  }
  interface ReadableStreamDefaultReader<R = unknown> {
    readonly closed: Promise<undefined>;
    cancel(reason?: unknown): Promise<void>;
    read(): Promise<ReadableStreamReadResult<R>>;
    releaseLock(): void;
  }
  interface StreamPipeOptions {
    preventAbort?: boolean;
    preventCancel?: boolean;
    preventClose?: boolean;
    signal?: AbortSignal;
  }
  interface ReadableWritablePair<R = unknown, W = unknown> {
    readable: ReadableStream<R>;
    writable: WritableStream<W>;
  }
  interface ReadableStream<R = unknown> {
    readonly locked: boolean;
    cancel(reason?: unknown): Promise<void>;
    getReader(): ReadableStreamDefaultReader<R>;
    pipeThrough<T>(transform: ReadableWritablePair<T, R>, options?: StreamPipeOptions): ReadableStream<T>;
    pipeTo(destination: WritableStream<R>, options?: StreamPipeOptions): Promise<void>;
    tee(): [ReadableStream<R>, ReadableStream<R>];
    values(options?: { preventCancel?: boolean }): AsyncIterableIterator<R>;
    [Symbol.asyncIterator](options?: { preventCancel?: boolean }): AsyncIterableIterator<R>;
  }
  var ReadableStream: {
    prototype: ReadableStream;
    new <R = unknown>(underlyingSource?: UnderlyingDefaultSource<R>, strategy?: QueuingStrategy<R>): ReadableStream<R>;
  };
  interface WritableStreamDefaultController {
    readonly signal: AbortSignal;
    error(e?: unknown): void;
  }
  interface UnderlyingSink<W = unknown> {
    abort?: (reason?: unknown) => void | PromiseLike<void>;
    close?: () => void | PromiseLike<void>;
    start?: (controller: WritableStreamDefaultController) => unknown;
    write?: (chunk: W, controller: WritableStreamDefaultController) => void | PromiseLike<void>;
  }
  interface WritableStreamDefaultWriter<W = unknown> {
    readonly closed: Promise<undefined>;
    readonly desiredSize: number | null;
    readonly ready: Promise<undefined>;
    abort(reason?: unknown): Promise<void>;
    close(): Promise<void>;
    releaseLock(): void;
    write(chunk?: W): Promise<void>;
  }
  interface WritableStream<W = unknown> {
    readonly locked: boolean;
    abort(reason?: unknown): Promise<void>;
    close(): Promise<void>;
    getWriter(): WritableStreamDefaultWriter<W>;
  }
  var WritableStream: {
    prototype: WritableStream;
    new <W = unknown>(underlyingSink?: UnderlyingSink<W>, strategy?: QueuingStrategy<W>): WritableStream<W>;
  };
  interface TransformStreamDefaultController<O = unknown> {
    readonly desiredSize: number | null;
    enqueue(chunk?: O): void;
    error(reason?: unknown): void;
    terminate(): void;
  }
  interface Transformer<I = unknown, O = unknown> {
    flush?: (controller: TransformStreamDefaultController<O>) => void | PromiseLike<void>;
    start?: (controller: TransformStreamDefaultController<O>) => unknown;
    transform?: (chunk: I, controller: TransformStreamDefaultController<O>) => void | PromiseLike<void>;
  }
  interface TransformStream<I = unknown, O = unknown> {
    readonly readable: ReadableStream<O>;
    readonly writable: WritableStream<I>;
  }
  var TransformStream: {
    prototype: TransformStream;
    new <I = unknown, O = unknown>(
      transformer?: Transformer<I, O>,
      writableStrategy?: QueuingStrategy<I>,
      readableStrategy?: QueuingStrategy<O>,
    ): TransformStream<I, O>;
  };

  interface TextEncoderStream extends TransformStream<string, Uint8Array> {
    readonly encoding: string;
  }
  var TextEncoderStream: { prototype: TextEncoderStream; new (): TextEncoderStream };
  interface TextDecoderStream extends TransformStream<Uint8Array, string> {
    readonly encoding: string;
    readonly fatal: boolean;
    readonly ignoreBOM: boolean;
  }
  var TextDecoderStream: {
    prototype: TextDecoderStream;
    new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoderStream;
  };
  interface Navigator {
    readonly userAgent: string;
  }
  var navigator: Navigator;

  /** Rejects: uOS has no HTTP client yet. */
  function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /**
   * Throws when constructed: uOS has no WebSocket yet. Declared (as lib.dom does) so that libraries whose
   * declarations name it (Hono's client) type-check.
   */
  interface WebSocket {}
  var WebSocket: {
    prototype: WebSocket;
    new (url: string | URL, protocols?: string | string[]): WebSocket;
    readonly CONNECTING: 0;
    readonly OPEN: 1;
    readonly CLOSING: 2;
    readonly CLOSED: 3;
  };
  function atob(data: string): string;
  function btoa(data: string): string;
  function structuredClone<T = unknown>(value: T, options?: { transfer?: unknown[] }): T;

  type AlgorithmIdentifier = string | { name: string };
  type BufferSource = ArrayBufferView | ArrayBuffer;
  interface SubtleCrypto {
    digest(algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>;
  }
  interface Crypto {
    readonly subtle: SubtleCrypto;
  }

  interface ObjectConstructor {
    hasOwn(o: object, v: PropertyKey): boolean;
  }
  interface Array<T> {
    at(index: number): T | undefined;
    findLast(predicate: (value: T, index: number, array: T[]) => unknown, thisArg?: unknown): T | undefined;
    findLastIndex(predicate: (value: T, index: number, array: T[]) => unknown, thisArg?: unknown): number;
    toReversed(): T[];
    toSorted(compareFn?: (a: T, b: T) => number): T[];
    toSpliced(start: number, deleteCount?: number, ...items: T[]): T[];
    with(index: number, value: T): T[];
  }
  interface ReadonlyArray<T> {
    at(index: number): T | undefined;
  }
  interface String {
    at(index: number): string | undefined;
    /** ES2021, which QuickJS 2021-03-27 has natively (ES2020's library does not declare it). */
    replaceAll(searchValue: string | RegExp, replaceValue: string | ((substring: string, ...args: unknown[]) => string)): string;
  }
  interface Uint8Array {
    at(index: number): number | undefined;
  }
}
