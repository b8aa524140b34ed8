/** atob/btoa, structuredClone, the ES2022+ built-ins and crypto.subtle.digest, against Node's own. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { atob, btoa } from './base64.js';
import { installBuiltins } from './builtins.js';
import { DOMException } from './dom-exception.js';
import { structuredClone } from './structured-clone.js';
import { subtle } from './subtle.js';
import { utf8Encode } from './text.js';

const node = globalThis as unknown as {
  atob(s: string): string;
  btoa(s: string): string;
  crypto: { subtle: { digest(a: string, d: Uint8Array): Promise<ArrayBuffer> } };
};

describe('atob and btoa', () => {
  it('encode and decode as Node does', () => {
    const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    fc.assert(
      fc.property(latin1, (text) => {
        expect(btoa(text)).toBe(node.btoa(text));
        expect(atob(btoa(text))).toBe(text);
      }),
    );
    const base64ish = fc.string({ unit: fc.constantFrom(...'AQab+/=09 \n'), maxLength: 20 });
    fc.assert(
      fc.property(base64ish, (text) => {
        let expected: string | 'error';
        try {
          expected = node.atob(text);
        } catch {
          expected = 'error';
        }
        let actual: string | 'error';
        try {
          actual = atob(text);
        } catch (error) {
          expect((error as DOMException).name).toBe('InvalidCharacterError');
          actual = 'error';
        }
        expect(actual).toBe(expected);
      }),
    );
    expect(() => btoa('\u0100')).toThrow(DOMException);
  });
});

describe('structuredClone', () => {
  it('copies deeply, keeps cycles and shared references, and refuses functions', () => {
    const shared = { n: 1n };
    const value: Record<string, unknown> = {
      a: [1, 'two', shared, shared],
      date: new Date(5),
      map: new Map([[1, { x: 1 }]]),
      set: new Set(['s']),
      bytes: new Uint8Array([1, 2, 3]).subarray(1),
      error: new RangeError('r'),
      regexp: /x/gi,
    };
    value.self = value;
    const copy = structuredClone(value);
    expect(copy).not.toBe(value);
    expect(copy.self).toBe(copy);
    const array = copy.a as unknown[];
    expect(array[2]).toBe(array[3]);
    expect(array[2]).not.toBe(shared);
    expect(copy.date).toEqual(new Date(5));
    expect([...(copy.bytes as Uint8Array)]).toEqual([2, 3]);
    expect(copy.error).toBeInstanceOf(RangeError);
    expect((copy.regexp as RegExp).flags).toBe('gi');
    expect(() => structuredClone({ f() {} })).toThrow(DOMException);
    expect(() => structuredClone(Symbol('s'))).toThrow(DOMException);
  });
});

describe('built-ins', () => {
  it('installs nothing over what the engine has, and what it installs behaves as ES2023 says', () => {
    const arrayProto = Array.prototype as unknown as Record<string, unknown>;
    const saved = arrayProto.at;
    installBuiltins();
    expect(arrayProto.at).toBe(saved);
    // The installed versions are only used where missing; check them directly on a prototype-less copy.
    const proto: Record<string, (...args: unknown[]) => unknown> = {};
    const holder = globalThis as unknown as Record<symbol, boolean>;
    const key = Symbol.for('uos.http.builtins');
    const was = holder[key];
    delete holder[key];
    const originals = new Map<string, PropertyDescriptor | undefined>();
    for (const name of ['at', 'findLast', 'findLastIndex', 'toReversed', 'toSorted', 'toSpliced', 'with']) {
      originals.set(name, Object.getOwnPropertyDescriptor(Array.prototype, name));
      delete (Array.prototype as unknown as Record<string, unknown>)[name];
    }
    try {
      installBuiltins();
      for (const name of originals.keys())
        proto[name] = (Array.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
      const list = [1, 2, 3, 4];
      expect(proto.at!.call(list, -1)).toBe(4);
      expect(proto.at!.call(list, 9)).toBeUndefined();
      expect(proto.findLast!.call(list, (x: unknown) => (x as number) % 2 === 1)).toBe(3);
      expect(proto.findLastIndex!.call(list, (x: unknown) => (x as number) > 9)).toBe(-1);
      expect(proto.toReversed!.call(list)).toEqual([4, 3, 2, 1]);
      expect(proto.toSorted!.call([3, 1, 2])).toEqual([1, 2, 3]);
      expect(proto.toSpliced!.call(list, 1, 2, 'x')).toEqual([1, 'x', 4]);
      expect(proto.with!.call(list, -1, 0)).toEqual([1, 2, 3, 0]);
      expect(list).toEqual([1, 2, 3, 4]);
      expect(Object.getOwnPropertyDescriptor(Array.prototype, 'at')!.enumerable).toBe(false);
    } finally {
      for (const [name, descriptor] of originals) if (descriptor) Object.defineProperty(Array.prototype, name, descriptor);
      holder[key] = was ?? true;
    }
  });
});

describe('crypto.subtle.digest', () => {
  it('gives SHA-1 and SHA-256 as WebCrypto does, and refuses the rest with NotSupportedError', async () => {
    for (const algorithm of ['SHA-1', 'SHA-256']) {
      for (const text of ['', 'abc', 'x'.repeat(1000)]) {
        const data = utf8Encode(text);
        expect(new Uint8Array(await subtle.digest({ name: algorithm }, data))).toEqual(
          new Uint8Array(await node.crypto.subtle.digest(algorithm, data)),
        );
      }
    }
    await expect(subtle.digest('SHA-512', new Uint8Array())).rejects.toMatchObject({ name: 'NotSupportedError' });
    await expect((subtle as unknown as { importKey(): Promise<unknown> }).importKey()).rejects.toMatchObject({ name: 'NotSupportedError' });
  });
});

describe('fetch', () => {
  it('says that there is no HTTP client', async () => {
    const { fetch } = await import('./platform.js');
    await expect(fetch('http://example.com/')).rejects.toThrow(/no HTTP client/);
  });

  it('says that there is no WebSocket', async () => {
    const { WebSocket } = await import('./platform.js');
    expect(() => new WebSocket('ws://example.com/')).toThrow(/new WebSocket\("ws:\/\/example.com\/"\): uOS has no WebSocket/);
    expect(WebSocket.CLOSED).toBe(3);
  });
});
