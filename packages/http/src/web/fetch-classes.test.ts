/**
 * Headers, Request, Response and their bodies, checked against the Fetch standard's behaviour (and Node's
 * undici where both exist).
 */
import { describe, expect, it } from 'vitest';
import { AbortController, AbortSignal } from './abort.js';
import { Blob, File } from './blob.js';
import { FormData } from './form-data.js';
import { Headers } from './headers.js';
import { Request } from './request.js';
import { Response } from './response.js';
import { ReadableStream } from './streams.js';
import { utf8Encode } from './text.js';
import { URLSearchParams } from './url/url-search-params.js';

const NodeHeaders = (globalThis as unknown as { Headers: new (init?: unknown) => Iterable<[string, string]> }).Headers;

async function read(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!stream) return '<null>';
  const reader = stream.getReader();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += String.fromCharCode(...value);
  }
}

describe('Headers', () => {
  it('combines, sorts and lowercases as undici does', () => {
    const init: [string, string][] = [
      ['X-B', ' two '],
      ['x-a', '1'],
      ['X-B', 'three'],
      ['Set-Cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['Accept', '\t*/*'],
    ];
    expect([...new Headers(init)]).toEqual([...new NodeHeaders(init)]);
    const headers = new Headers(init);
    expect(headers.get('x-b')).toBe('two, three');
    expect(headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    headers.set('X-B', 'one');
    expect(headers.get('x-b')).toBe('one');
    headers.delete('SET-COOKIE');
    expect(headers.has('set-cookie')).toBe(false);
    expect(headers.get('missing')).toBeNull();
  });

  it('takes records, pairs and other Headers, and refuses invalid names and values', () => {
    expect(new Headers({ A: '1' }).get('a')).toBe('1');
    expect(new Headers(new Headers([['b', '2']])).get('B')).toBe('2');
    expect(() => new Headers({ 'bad name': 'x' })).toThrow(TypeError);
    expect(() => new Headers({ a: 'line\nbreak' })).toThrow(TypeError);
    expect(() => new Headers({ a: '\u0100' })).toThrow(TypeError);
    expect(() => new Headers([['a']] as unknown as [string, string][])).toThrow(TypeError);
    const keys: string[] = [];
    new Headers({ b: '2', a: '1' }).forEach((_value, key) => keys.push(key));
    expect(keys).toEqual(['a', 'b']);
  });

  it('is immutable when guarded so', () => {
    const headers = Response.error().headers;
    expect(() => headers.set('a', 'b')).toThrow(TypeError);
  });
});

describe('Response', () => {
  it('implies Content-Type from its body, and reads it once', async () => {
    const response = new Response('héllo');
    expect(response.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.bodyUsed).toBe(false);
    expect(await response.text()).toBe('héllo');
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    expect(new Response(new URLSearchParams('a=1')).headers.get('content-type')).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(new Response(new Blob(['x'], { type: 'image/png' })).headers.get('content-type')).toBe('image/png');
    expect(new Response(new Uint8Array([1])).headers.get('content-type')).toBeNull();
    expect(new Response('x', { headers: { 'content-type': 'text/html' } }).headers.get('content-type')).toBe('text/html');
  });

  it('checks status and statusText, and refuses a body for null-body statuses', () => {
    expect(() => new Response(null, { status: 199 })).toThrow(RangeError);
    expect(() => new Response(null, { status: 600 })).toThrow(RangeError);
    expect(() => new Response('x', { status: 204 })).toThrow(TypeError);
    expect(() => new Response(null, { statusText: 'bad\nline' })).toThrow(TypeError);
    expect(new Response(null, { status: 404, statusText: 'Nope' }).statusText).toBe('Nope');
  });

  it('has json, redirect and error', async () => {
    const json = Response.json({ a: [1] }, { status: 201 });
    expect(json.status).toBe(201);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(await json.json()).toEqual({ a: [1] });
    expect(Response.json(1, { headers: { 'content-type': 'application/x' } }).headers.get('content-type')).toBe('application/x');
    const redirect = Response.redirect('http://example.com/a b', 307);
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toBe('http://example.com/a%20b');
    expect(() => Response.redirect('http://x', 200)).toThrow(RangeError);
    expect(Response.error().type).toBe('error');
    expect(Response.error().status).toBe(0);
  });

  it('gives its body as a stream that a new Response takes back as bytes', async () => {
    const original = new Response('streamed');
    const stream = original.body!;
    const rewrapped = new Response(stream, original);
    expect(rewrapped._source).toBeInstanceOf(Uint8Array);
    expect(await rewrapped.text()).toBe('streamed');
    expect(await read(new Response('via stream').body)).toBe('via stream');
    expect(new Response(null).body).toBeNull();
  });

  it('reads stream bodies, and clones any body', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(utf8Encode('a'));
        controller.enqueue(utf8Encode('b'));
        controller.close();
      },
    });
    const response = new Response(stream, { status: 202, headers: { 'x-a': '1' } });
    const copy = response.clone();
    expect(copy.status).toBe(202);
    expect(copy.headers.get('x-a')).toBe('1');
    expect(await response.text()).toBe('ab');
    expect(await copy.text()).toBe('ab');
    const text = new Response('t');
    expect(await text.clone().text()).toBe('t');
    expect(await text.arrayBuffer()).toEqual(utf8Encode('t').buffer);
  });

  it('turns bodies into Blob and FormData', async () => {
    const blob = await new Response('xyz', { headers: { 'content-type': 'text/x' } }).blob();
    expect(blob.type).toBe('text/x');
    expect(await blob.text()).toBe('xyz');
    const form = await new Response('a=1&b=%20two+three', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData();
    expect([...form]).toEqual([
      ['a', '1'],
      ['b', ' two three'],
    ]);
  });
});

describe('Request', () => {
  it('parses its URL, normalizes the method and takes a body', async () => {
    const request = new Request('HTTP://Example.COM/a/../b?c', { method: 'post', body: 'payload', headers: { 'x-a': '1' } });
    expect(request.url).toBe('http://example.com/b?c');
    expect(request.method).toBe('POST');
    expect(request.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
    expect(await request.text()).toBe('payload');
    expect(new Request('http://a/', { method: 'patch' }).method).toBe('patch');
  });

  it('refuses relative URLs, forbidden methods and bodies on GET', () => {
    expect(() => new Request('/relative')).toThrow(TypeError);
    expect(() => new Request('http://a/', { method: 'CONNECT' })).toThrow(TypeError);
    expect(() => new Request('http://a/', { method: 'bad method' })).toThrow(TypeError);
    expect(() => new Request('http://a/', { body: 'x' })).toThrow(TypeError);
    expect(() => new Request('http://user:pass@a/')).toThrow(TypeError);
  });

  it('copies another Request, taking over its body', async () => {
    const first = new Request('http://a/x', { method: 'PUT', body: 'data', headers: { 'x-a': '1' } });
    const second = new Request(first, { headers: { 'x-b': '2' } });
    expect(second.method).toBe('PUT');
    expect(second.headers.get('x-a')).toBeNull();
    expect(second.headers.get('x-b')).toBe('2');
    expect(first.bodyUsed).toBe(true);
    expect(await second.text()).toBe('data');
  });

  it('makes incoming requests without copying, with headers and signal on demand', async () => {
    const incoming = Request._incoming('GET', 'http://h/p', ['Host', 'h', 'X-Multi', 'a', 'x-multi', 'b'], null);
    expect(incoming._headers).toBeNull();
    expect(incoming.headers.get('x-multi')).toBe('a, b');
    expect(incoming.body).toBeNull();
    expect(await incoming.text()).toBe('');
    expect(incoming.signal.aborted).toBe(false);
    incoming._abort();
    expect(incoming.signal.aborted).toBe(true);
    expect((incoming.signal.reason as Error).name).toBe('AbortError');
  });

  it('follows a given signal', () => {
    const controller = new AbortController();
    const request = new Request('http://a/', { signal: controller.signal });
    controller.abort('why');
    expect(request.signal.aborted).toBe(true);
    expect(request.signal.reason).toBe('why');
  });
});

describe('Blob, File and FormData', () => {
  it('join parts, slice and stream', async () => {
    const blob = new Blob(['ab', utf8Encode('cd'), new Blob(['é'])], { type: 'Text/Plain' });
    expect(blob.size).toBe(6);
    expect(blob.type).toBe('text/plain');
    expect(await blob.slice(1, -2).text()).toBe('bcd');
    expect(await blob.slice(-2).text()).toBe('é');
    expect(await read(blob.stream())).toBe('abcd\xc3\xa9');
    const file = new File(['x'], 'x.txt', { type: 'text/plain', lastModified: 5 });
    expect([file.name, file.lastModified, file.size]).toEqual(['x.txt', 5, 1]);
  });

  it('round-trips multipart/form-data with fields and files', async () => {
    const form = new FormData();
    form.append('name', 'value with "quotes"');
    form.append('upload', new Blob(['file\r\ncontent'], { type: 'text/plain' }), 'notes.txt');
    form.append('name', 'second');
    const response = new Response(form);
    const type = response.headers.get('content-type')!;
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    const parsed = await new Response(await response.arrayBuffer(), { headers: { 'content-type': type } }).formData();
    expect(parsed.getAll('name')).toEqual(['value with "quotes"', 'second']);
    const upload = parsed.get('upload') as File;
    expect(upload.name).toBe('notes.txt');
    expect(await upload.text()).toBe('file\r\ncontent');
    // And undici reads what we wrote.
    type NodeForm = { getAll(n: string): unknown[]; get(n: string): { text(): Promise<string> } };
    const NodeResponse = (globalThis as unknown as { Response: new (body: unknown, init: unknown) => { formData(): Promise<NodeForm> } })
      .Response;
    const encoded = new Response(form);
    const nodeForm = await new NodeResponse(await encoded.arrayBuffer(), {
      headers: { 'content-type': encoded.headers.get('content-type') },
    }).formData();
    expect(nodeForm.getAll('name')).toEqual(['value with "quotes"', 'second']);
    expect(await nodeForm.get('upload').text()).toBe('file\r\ncontent');
  });
});

describe('AbortSignal', () => {
  it('aborts once, tells listeners and onabort, and has abort/any', () => {
    const controller = new AbortController();
    const events: string[] = [];
    controller.signal.onabort = () => events.push('onabort');
    controller.signal.addEventListener('abort', () => events.push('listener'), { once: true });
    controller.abort();
    controller.abort();
    expect(events).toEqual(['onabort', 'listener']);
    expect(() => controller.signal.throwIfAborted()).toThrow();
    expect(AbortSignal.abort('r').reason).toBe('r');
    const a = new AbortController();
    const any = AbortSignal.any([a.signal, new AbortController().signal]);
    a.abort('first');
    expect(any.reason).toBe('first');
  });
});

describe('TextEncoderStream and TextDecoderStream', () => {
  it('encode and decode across chunk boundaries', async () => {
    const { TextDecoderStream, TextEncoderStream } = await import('./text-streams.js');
    const source = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('héllo \ud83d');
        controller.enqueue('\ude00!');
        controller.close();
      },
    });
    const decoded = source.pipeThrough(new TextEncoderStream()).pipeThrough(new TextDecoderStream());
    let text = '';
    const reader = decoded.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toBe('héllo 😀!');
  });
});
