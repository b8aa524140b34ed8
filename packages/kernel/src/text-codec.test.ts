import { describe, expect, it } from 'vitest';
import { TextDecoder as UosTextDecoder, TextEncoder as UosTextEncoder } from './text-codec.js';

// Node's own implementations are the reference. They exist at run time but ES2020's lib does not declare them.
interface ReferenceDecoder {
  readonly encoding: string;
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
interface ReferenceEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
const reference = globalThis as unknown as {
  TextDecoder: new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) => ReferenceDecoder;
  TextEncoder: new () => ReferenceEncoder;
};
const NodeTextDecoder = reference.TextDecoder;
const NodeTextEncoder = reference.TextEncoder;

/** A 32-bit linear congruential generator (Numerical Recipes constants), so runs are reproducible. */
function createRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 0x1_0000_0000) * limit);
  };
}

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

function hex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Code units as hex, so failures show exactly which U+FFFD or surrogate differs. */
function units(s: string): string {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i).toString(16).padStart(4, '0'));
  return out.join(' ');
}

function uosDecode(data: Uint8Array, options?: { fatal?: boolean; ignoreBOM?: boolean }): string {
  return new UosTextDecoder('utf-8', options).decode(data);
}

function nodeDecode(data: Uint8Array, options?: { fatal?: boolean; ignoreBOM?: boolean }): string {
  return new NodeTextDecoder('utf-8', options).decode(data);
}

/** Decodes `chunks` as one stream, then flushes. */
function streamDecode(decoder: { decode(input?: Uint8Array, options?: { stream?: boolean }): string }, chunks: Uint8Array[]): string {
  let text = '';
  for (const chunk of chunks) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** The decoded string, or the name of the error thrown. */
function outcome(decode: () => string): string {
  try {
    return `ok:${units(decode())}`;
  } catch (error) {
    return `throws:${(error as Error).name}`;
  }
}

const encodeReference = (s: string): Uint8Array => new NodeTextEncoder().encode(s);

describe('TextEncoder', () => {
  const encoder = new UosTextEncoder();

  it('reports utf-8 and encodes nothing by default', () => {
    expect(encoder.encoding).toBe('utf-8');
    expect(encoder.encode()).toEqual(new Uint8Array(0));
    expect(encoder.encode('')).toEqual(new Uint8Array(0));
    expect(encoder.encode()).toBeInstanceOf(Uint8Array);
  });

  it('encodes ASCII byte for byte', () => {
    let ascii = '';
    for (let c = 0; c < 0x80; c++) ascii += String.fromCharCode(c);
    const out = encoder.encode(ascii);
    expect(out.length).toBe(0x80);
    for (let c = 0; c < 0x80; c++) expect(out[c]).toBe(c);
  });

  it.each([
    ['U+0080', '\u0080', [0xc2, 0x80]],
    ['U+00E9', '\u00e9', [0xc3, 0xa9]],
    ['U+07FF', '\u07ff', [0xdf, 0xbf]],
    ['U+0800', '\u0800', [0xe0, 0xa0, 0x80]],
    ['U+20AC', '\u20ac', [0xe2, 0x82, 0xac]],
    ['U+D7FF', '\ud7ff', [0xed, 0x9f, 0xbf]],
    ['U+E000', '\ue000', [0xee, 0x80, 0x80]],
    ['U+FEFF', '\ufeff', [0xef, 0xbb, 0xbf]],
    ['U+FFFF', '\uffff', [0xef, 0xbf, 0xbf]],
    ['U+10000', '\u{10000}', [0xf0, 0x90, 0x80, 0x80]],
    ['U+1F600', '\u{1f600}', [0xf0, 0x9f, 0x98, 0x80]],
    ['U+10FFFF', '\u{10ffff}', [0xf4, 0x8f, 0xbf, 0xbf]],
  ])('encodes %s', (_name, text, expected) => {
    expect(hex(encoder.encode(text))).toBe(hex(bytes(...expected)));
    expect(hex(encoder.encode(text))).toBe(hex(encodeReference(text)));
  });

  it.each([
    ['a lone high surrogate', '\ud800', [0xef, 0xbf, 0xbd]],
    ['a lone low surrogate', '\udc00', [0xef, 0xbf, 0xbd]],
    ['a high surrogate before ASCII', '\udbffa', [0xef, 0xbf, 0xbd, 0x61]],
    ['a high surrogate at the end', 'a\ud83d', [0x61, 0xef, 0xbf, 0xbd]],
    ['a reversed pair', '\ude00\ud83d', [0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd]],
    ['two high surrogates then a low one', '\ud83d\ud83d\ude00', [0xef, 0xbf, 0xbd, 0xf0, 0x9f, 0x98, 0x80]],
    ['a pair', '\ud83d\ude00', [0xf0, 0x9f, 0x98, 0x80]],
  ])('encodes %s as the standard says', (_name, text, expected) => {
    expect(hex(encoder.encode(text))).toBe(hex(bytes(...expected)));
    expect(hex(encoder.encode(text))).toBe(hex(encodeReference(text)));
  });

  it('encodes mixed text like Node', () => {
    const text = 'héllo, wörld — €100 😀 𝄞 日本語 \u0000\u007f\u0080\u07ff\u0800\uffff';
    expect(hex(encoder.encode(text))).toBe(hex(encodeReference(text)));
  });
});

describe('TextEncoder.encodeInto', () => {
  const encoder = new UosTextEncoder();
  const nodeEncoder = new NodeTextEncoder();

  it('encodes everything when there is room', () => {
    const destination = new Uint8Array(16);
    expect(encoder.encodeInto('a€😀', destination)).toEqual({ read: 4, written: 8 });
    expect(hex(destination.subarray(0, 8))).toBe('61 e2 82 ac f0 9f 98 80');
    expect(destination[8]).toBe(0);
  });

  it('never splits a code point when the destination is too small', () => {
    expect(encoder.encodeInto('😀', new Uint8Array(3))).toEqual({ read: 0, written: 0 });
    expect(encoder.encodeInto('a😀', new Uint8Array(4))).toEqual({ read: 1, written: 1 });
    expect(encoder.encodeInto('€', new Uint8Array(2))).toEqual({ read: 0, written: 0 });
    expect(encoder.encodeInto('é', new Uint8Array(1))).toEqual({ read: 0, written: 0 });
    expect(encoder.encodeInto('\ud800', new Uint8Array(2))).toEqual({ read: 0, written: 0 });
    expect(encoder.encodeInto('abc', new Uint8Array(0))).toEqual({ read: 0, written: 0 });
    // A later, smaller character does not fit in after a skipped larger one either: encoding stops.
    expect(encoder.encodeInto('😀a', new Uint8Array(3))).toEqual({ read: 0, written: 0 });
  });

  it('counts UTF-16 code units in read, and lone surrogates as one unit, three bytes', () => {
    const destination = new Uint8Array(32);
    expect(encoder.encodeInto('\ud800x\udc00', destination)).toEqual({ read: 3, written: 7 });
    expect(hex(destination.subarray(0, 7))).toBe('ef bf bd 78 ef bf bd');
    expect(encoder.encodeInto('😀😀', destination)).toEqual({ read: 4, written: 8 });
  });

  it('matches Node for every destination size', () => {
    const text = 'aé€😀\ud800b\udfff😀𝄞z';
    const full = encoder.encode(text);
    for (let size = 0; size <= full.length + 2; size++) {
      const mine = new Uint8Array(size + 4).fill(0xaa);
      const theirs = new Uint8Array(size + 4).fill(0xaa);
      const result = encoder.encodeInto(text, mine.subarray(2, 2 + size));
      expect(result).toEqual(nodeEncoder.encodeInto(text, theirs.subarray(2, 2 + size)));
      expect(hex(mine)).toBe(hex(theirs));
      // What was written is exactly the encoding of what was read, and nothing outside the window moved.
      expect(hex(mine.subarray(2, 2 + result.written))).toBe(hex(encoder.encode(text.slice(0, result.read))));
      expect(mine[0]).toBe(0xaa);
      expect(mine[size + 2]).toBe(0xaa);
    }
  });

  it('writes through subarrays at an offset', () => {
    const buffer = new Uint8Array(10);
    const result = encoder.encodeInto('hé', buffer.subarray(5));
    expect(result).toEqual({ read: 2, written: 3 });
    expect(hex(buffer)).toBe('00 00 00 00 00 68 c3 a9 00 00');
  });

  it('rejects destinations that are not Uint8Array', () => {
    expect(() => encoder.encodeInto('a', new Uint16Array(4) as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('TextDecoder basics', () => {
  it('has the standard properties and defaults', () => {
    const decoder = new UosTextDecoder();
    expect(decoder.encoding).toBe('utf-8');
    expect(decoder.fatal).toBe(false);
    expect(decoder.ignoreBOM).toBe(false);
    const strict = new UosTextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    expect(strict.fatal).toBe(true);
    expect(strict.ignoreBOM).toBe(true);
    expect(new UosTextDecoder(undefined, {}).encoding).toBe('utf-8');
  });

  it('decodes nothing to the empty string', () => {
    const decoder = new UosTextDecoder();
    expect(decoder.decode()).toBe('');
    expect(decoder.decode(new Uint8Array(0))).toBe('');
    expect(decoder.decode(undefined, { stream: true })).toBe('');
  });

  it('decodes ASCII, including long runs and every byte value below 0x80', () => {
    const all = new Uint8Array(0x80 * 100);
    for (let i = 0; i < all.length; i++) all[i] = i & 0x7f;
    expect(uosDecode(all)).toBe(nodeDecode(all));
    expect(uosDecode(bytes(0x68, 0x69))).toBe('hi');
  });

  it.each([
    ['2-byte', 'é', [0xc3, 0xa9]],
    ['2-byte upper bound', '\u07ff', [0xdf, 0xbf]],
    ['3-byte', '€', [0xe2, 0x82, 0xac]],
    ['3-byte lower bound', '\u0800', [0xe0, 0xa0, 0x80]],
    ['3-byte below the surrogates', '\ud7ff', [0xed, 0x9f, 0xbf]],
    ['3-byte above the surrogates', '\ue000', [0xee, 0x80, 0x80]],
    ['3-byte upper bound', '\uffff', [0xef, 0xbf, 0xbf]],
    ['4-byte', '😀', [0xf0, 0x9f, 0x98, 0x80]],
    ['4-byte lower bound', '\u{10000}', [0xf0, 0x90, 0x80, 0x80]],
    ['4-byte upper bound', '\u{10ffff}', [0xf4, 0x8f, 0xbf, 0xbf]],
  ])('decodes a %s code point', (_name, text, encoded) => {
    expect(uosDecode(bytes(...encoded))).toBe(text);
    expect(uosDecode(bytes(0x61, ...encoded, 0x62))).toBe(`a${text}b`);
    expect(uosDecode(bytes(...encoded), { fatal: true })).toBe(text);
  });

  it('round-trips mixed text with Node', () => {
    const text = 'héllo, wörld — €100 😀 𝄞 日本語 \u0000\u007f\u0080\u07ff\u0800\uffff\u{10ffff}';
    const encoded = encodeReference(text);
    expect(uosDecode(encoded)).toBe(text);
    expect(uosDecode(encoded)).toBe(nodeDecode(encoded));
  });

  it('is usable again after a fatal error', () => {
    const decoder = new UosTextDecoder('utf-8', { fatal: true });
    expect(() => decoder.decode(bytes(0x61, 0xff))).toThrow(TypeError);
    expect(decoder.decode(bytes(0x62))).toBe('b');
    expect(() => decoder.decode(bytes(0xe2, 0x82), { stream: true })).not.toThrow();
    expect(() => decoder.decode(bytes(0x41), { stream: true })).toThrow(TypeError);
    // The failed stream is forgotten: no pending bytes, and a BOM is again at the start of a stream.
    expect(decoder.decode(bytes(0xef, 0xbb, 0xbf, 0x63))).toBe('c');
  });
});

describe('TextDecoder invalid input', () => {
  const R = '\ufffd';
  // Each case: the bytes, and the exact output of the standard's decoder (maximal subpart replacement).
  const cases: [string, number[], string][] = [
    ['a lone continuation byte', [0x80], R],
    ['the last continuation byte', [0xbf], R],
    ['continuation bytes after ASCII', [0x61, 0x80, 0xbf, 0x62], `a${R}${R}b`],
    ['a continuation byte after a complete sequence', [0xc3, 0xa9, 0xa9], `é${R}`],
    ['overlong 2-byte NUL (C0 80)', [0xc0, 0x80], R + R],
    ['overlong 2-byte (C1 BF)', [0xc1, 0xbf], R + R],
    ['overlong 3-byte NUL (E0 80 80)', [0xe0, 0x80, 0x80], R + R + R],
    ['overlong 3-byte (E0 9F BF)', [0xe0, 0x9f, 0xbf], R + R + R],
    ['overlong 4-byte NUL (F0 80 80 80)', [0xf0, 0x80, 0x80, 0x80], R + R + R + R],
    ['overlong 4-byte (F0 8F BF BF)', [0xf0, 0x8f, 0xbf, 0xbf], R + R + R + R],
    ['the first surrogate (ED A0 80)', [0xed, 0xa0, 0x80], R + R + R],
    ['the last surrogate (ED BF BF)', [0xed, 0xbf, 0xbf], R + R + R],
    ['a CESU-8 pair', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], R.repeat(6)],
    ['U+110000 (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80], R + R + R + R],
    ['F5 lead', [0xf5, 0x80, 0x80, 0x80], R + R + R + R],
    ['F7 BF BF BF', [0xf7, 0xbf, 0xbf, 0xbf], R + R + R + R],
    ['5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80], R.repeat(5)],
    ['6-byte form', [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80], R.repeat(6)],
    ['FE and FF', [0xfe, 0xff, 0x61], `${R}${R}a`],
    ['a truncated 2-byte sequence at the end', [0x61, 0xc3], `a${R}`],
    ['a truncated 3-byte sequence at the end (1 of 3)', [0xe2], R],
    ['a truncated 3-byte sequence at the end (2 of 3)', [0xe2, 0x82], R],
    ['a truncated 4-byte sequence at the end (1 of 4)', [0xf0], R],
    ['a truncated 4-byte sequence at the end (2 of 4)', [0xf0, 0x9f], R],
    ['a truncated 4-byte sequence at the end (3 of 4)', [0xf0, 0x9f, 0x98], R],
    ['a truncated 2-byte sequence before ASCII', [0xc3, 0x41], `${R}A`],
    ['a truncated 3-byte sequence before ASCII', [0xe2, 0x82, 0x41], `${R}A`],
    ['a truncated 4-byte sequence before ASCII', [0xf0, 0x9f, 0x98, 0x41], `${R}A`],
    ['a truncated sequence before another lead', [0xe2, 0x82, 0xe2, 0x82, 0xac], `${R}€`],
    ['a truncated 4-byte sequence before a 4-byte one', [0xf0, 0x9f, 0xf0, 0x9f, 0x98, 0x80], `${R}😀`],
    ['a lead byte followed by a lead byte', [0xc3, 0xc3, 0xa9], `${R}é`],
    ['E0 with a bad second byte then a continuation', [0xe0, 0x80, 0xaf], R + R + R],
    ['ED with a bad second byte (past 9F)', [0xed, 0xa0], R + R],
    ['F4 with a bad second byte (past 8F)', [0xf4, 0x90], R + R],
    ['F0 with a bad second byte (below 90)', [0xf0, 0x8f], R + R],
    ['a bad third byte in a 4-byte sequence', [0xf0, 0x9f, 0x41, 0x80], `${R}A${R}`],
    ['a bad fourth byte in a 4-byte sequence', [0xf0, 0x9f, 0x98, 0xc3, 0xa9], `${R}é`],
    [
      'everything at once',
      [0xc0, 0x80, 0xe0, 0x80, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xf0, 0x9f, 0x98, 0x41],
      `${R.repeat(13)}A`,
    ],
  ];

  it.each(cases)('replaces %s exactly like the standard (and Node)', (_name, encoded, expected) => {
    const data = bytes(...encoded);
    expect(units(uosDecode(data))).toBe(units(expected));
    expect(units(uosDecode(data))).toBe(units(nodeDecode(data)));
  });

  it.each(cases)('throws a TypeError when fatal for %s', (_name, encoded) => {
    const data = bytes(...encoded);
    expect(() => uosDecode(data, { fatal: true })).toThrow(TypeError);
    expect(() => nodeDecode(data, { fatal: true })).toThrow(TypeError);
  });

  it('throws when fatal for a sequence left incomplete at the end of a stream, not before', () => {
    const decoder = new UosTextDecoder('utf-8', { fatal: true });
    expect(decoder.decode(bytes(0x61, 0xf0, 0x9f), { stream: true })).toBe('a');
    expect(decoder.decode(bytes(0x98), { stream: true })).toBe('');
    expect(() => decoder.decode()).toThrow(TypeError);
  });

  it('replaces a sequence left incomplete at the end of a stream once', () => {
    const decoder = new UosTextDecoder();
    expect(decoder.decode(bytes(0x61, 0xf0, 0x9f, 0x98), { stream: true })).toBe('a');
    expect(decoder.decode()).toBe(R);
    expect(decoder.decode(bytes(0x62))).toBe('b');
  });
});

describe('TextDecoder byte order mark', () => {
  const BOM = [0xef, 0xbb, 0xbf];

  it('strips one BOM at the start unless ignoreBOM', () => {
    expect(uosDecode(bytes(...BOM, 0x61))).toBe('a');
    expect(uosDecode(bytes(...BOM))).toBe('');
    expect(uosDecode(bytes(...BOM, 0x61), { ignoreBOM: true })).toBe('\ufeffa');
    expect(uosDecode(bytes(...BOM, ...BOM, 0x61))).toBe('\ufeffa');
    expect(uosDecode(bytes(0x61, ...BOM))).toBe('a\ufeff');
    for (const data of [bytes(...BOM, 0x61), bytes(...BOM, ...BOM), bytes(0x61, ...BOM), bytes(...BOM)]) {
      expect(uosDecode(data)).toBe(nodeDecode(data));
      expect(uosDecode(data, { ignoreBOM: true })).toBe(nodeDecode(data, { ignoreBOM: true }));
    }
  });

  it('does not treat a BOM after an error as the start of the stream', () => {
    expect(uosDecode(bytes(0xff, ...BOM))).toBe('\ufffd\ufeff');
    expect(uosDecode(bytes(0xef, 0xbb, ...BOM))).toBe('\ufffd\ufeff');
  });

  it('strips a BOM split over streamed calls', () => {
    const decoder = new UosTextDecoder();
    expect(decoder.decode(bytes(0xef), { stream: true })).toBe('');
    expect(decoder.decode(bytes(0xbb), { stream: true })).toBe('');
    expect(decoder.decode(bytes(0xbf), { stream: true })).toBe('');
    expect(decoder.decode(bytes(0x61), { stream: true })).toBe('a');
    expect(decoder.decode(bytes(...BOM))).toBe('\ufeff');
  });

  it('keeps a BOM that arrives after text in a stream, and strips it again in the next stream', () => {
    const decoder = new UosTextDecoder();
    expect(decoder.decode(bytes(0x61), { stream: true })).toBe('a');
    expect(decoder.decode(bytes(...BOM, 0x62), { stream: true })).toBe('\ufeffb');
    expect(decoder.decode()).toBe('');
    expect(decoder.decode(bytes(...BOM, 0x63))).toBe('c');
    expect(decoder.decode(bytes(...BOM, 0x64))).toBe('d');
  });

  it('strips a BOM after empty streamed calls', () => {
    const decoder = new UosTextDecoder();
    expect(decoder.decode(new Uint8Array(0), { stream: true })).toBe('');
    expect(decoder.decode(bytes(...BOM, 0x61), { stream: true })).toBe('a');
    expect(decoder.decode(bytes(...BOM), { stream: true })).toBe('\ufeff');
  });

  it('keeps every BOM with ignoreBOM, streamed too', () => {
    const decoder = new UosTextDecoder('utf-8', { ignoreBOM: true });
    expect(decoder.decode(bytes(0xef, 0xbb), { stream: true })).toBe('');
    expect(decoder.decode(bytes(0xbf, 0x61), { stream: true })).toBe('\ufeffa');
    expect(decoder.decode(bytes(...BOM))).toBe('\ufeff');
  });

  it('agrees with Node for a BOM at every split of a short stream', () => {
    const data = bytes(...BOM, ...BOM, 0xc3, 0xa9, ...BOM);
    for (const ignoreBOM of [false, true]) {
      for (let a = 0; a <= data.length; a++) {
        for (let b = a; b <= data.length; b++) {
          const chunks = [data.subarray(0, a), data.subarray(a, b), data.subarray(b)];
          const mine = streamDecode(new UosTextDecoder('utf-8', { ignoreBOM }), chunks);
          expect(units(mine)).toBe(units(streamDecode(new NodeTextDecoder('utf-8', { ignoreBOM }), chunks)));
          expect(units(mine)).toBe(units(nodeDecode(data, { ignoreBOM })));
        }
      }
    }
  });
});

describe('TextDecoder streaming', () => {
  const text = 'a\u00e9\u20ac\u{1f600}b\u07ff\u0800\u{10ffff}\uffff\u0080z';
  const encoded = encodeReference(text);

  it('decodes across every pair of split points (three calls)', () => {
    const decoder = new UosTextDecoder();
    for (let a = 0; a <= encoded.length; a++) {
      for (let b = a; b <= encoded.length; b++) {
        const chunks = [encoded.subarray(0, a), encoded.subarray(a, b), encoded.subarray(b)];
        // The same decoder throughout: each flush must leave it ready for the next stream.
        expect(streamDecode(decoder, chunks)).toBe(text);
      }
    }
  });

  it('decodes one byte at a time', () => {
    const chunks = Array.from(encoded, (byte) => bytes(byte));
    expect(streamDecode(new UosTextDecoder('utf-8', { fatal: true }), chunks)).toBe(text);
  });

  it('decodes a 4-byte sequence split over three calls', () => {
    const decoder = new UosTextDecoder('utf-8', { fatal: true });
    expect(decoder.decode(bytes(0x61, 0xf0), { stream: true })).toBe('a');
    expect(decoder.decode(bytes(0x9f, 0x98), { stream: true })).toBe('');
    expect(decoder.decode(bytes(0x80, 0x62), { stream: true })).toBe('\u{1f600}b');
    expect(decoder.decode()).toBe('');
  });

  it('returns only whole code points from each call', () => {
    const decoder = new UosTextDecoder();
    const pieces: string[] = [];
    for (const byte of encoded) pieces.push(decoder.decode(bytes(byte), { stream: true }));
    pieces.push(decoder.decode());
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      const first = piece.charCodeAt(0);
      const last = piece.charCodeAt(piece.length - 1);
      expect(first >= 0xdc00 && first <= 0xdfff).toBe(false);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
    }
    expect(pieces.join('')).toBe(text);
  });

  it('replaces invalid bytes split across calls like the whole input', () => {
    const invalid = bytes(0xe0, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0xf0, 0x9f, 0x98, 0xc3, 0x41, 0xf0, 0x9f);
    const whole = nodeDecode(invalid);
    for (let a = 0; a <= invalid.length; a++) {
      for (let b = a; b <= invalid.length; b++) {
        const chunks = [invalid.subarray(0, a), invalid.subarray(a, b), invalid.subarray(b)];
        expect(units(streamDecode(new UosTextDecoder(), chunks))).toBe(units(whole));
      }
    }
  });
});

describe('TextDecoder input types', () => {
  const text = 'hé€😀!?';
  const encoded = encodeReference(text);

  /** An ArrayBuffer holding `encoded` at `offset`, surrounded by bytes that would decode to garbage. */
  function padded(offset: number, after: number): ArrayBuffer {
    const buffer = new ArrayBuffer(offset + encoded.length + after);
    const view = new Uint8Array(buffer);
    view.fill(0xff);
    view.set(encoded, offset);
    return buffer;
  }

  it('reads an ArrayBuffer', () => {
    expect(new UosTextDecoder().decode(padded(0, 0))).toBe(text);
  });

  it('reads a Uint8Array over part of a buffer', () => {
    const buffer = padded(5, 7);
    expect(new UosTextDecoder().decode(new Uint8Array(buffer, 5, encoded.length))).toBe(text);
    expect(new UosTextDecoder().decode(new Uint8Array(buffer).subarray(5, 5 + encoded.length))).toBe(text);
  });

  it('reads a DataView by its byte offset and length', () => {
    const view = new DataView(padded(3, 9), 3, encoded.length);
    expect(new UosTextDecoder().decode(view)).toBe(text);
    expect(new UosTextDecoder().decode(view)).toBe(new NodeTextDecoder().decode(view));
  });

  it('reads the bytes of wider typed arrays', () => {
    // 12 bytes of text at offset 4: fits Uint16Array, Int32Array and Float32Array exactly (length 12 / size).
    expect(encoded.length).toBe(12);
    const buffer = padded(4, 4);
    expect(new UosTextDecoder().decode(new Uint16Array(buffer, 4, 6))).toBe(text);
    expect(new UosTextDecoder().decode(new Int32Array(buffer, 4, 3))).toBe(text);
    expect(new UosTextDecoder().decode(new Float32Array(buffer, 4, 3))).toBe(text);
    expect(new UosTextDecoder().decode(new Int8Array(buffer, 4, 12))).toBe(text);
    expect(new UosTextDecoder().decode(new Uint8ClampedArray(buffer, 4, 12))).toBe(text);
    const float64 = new Float64Array(padded(8, 4), 8, 2);
    expect(new UosTextDecoder().decode(float64)).toBe(new NodeTextDecoder().decode(float64));
  });

  it('rejects anything else', () => {
    const decoder = new UosTextDecoder();
    expect(() => decoder.decode([0x61] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => decoder.decode('a' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('TextDecoder labels', () => {
  it.each([
    'utf-8',
    'utf8',
    'unicode-1-1-utf-8',
    'unicode11utf8',
    'unicode20utf8',
    'x-unicode20utf8',
    'UTF-8',
    'Utf8',
    'UNICODE-1-1-UTF-8',
    '  utf-8  ',
    '\t\n\f\r UTF-8\r\n',
  ])('accepts %j', (label) => {
    expect(new UosTextDecoder(label).encoding).toBe('utf-8');
    expect(new NodeTextDecoder(label).encoding).toBe('utf-8');
  });

  it.each([
    'utf-16le',
    'utf-16',
    'latin1',
    'iso-8859-1',
    'windows-1252',
    'ascii',
    'replacement',
    '',
    'utf-8x',
    'utf 8',
    '\u00a0utf-8',
    'utf-8\u000b',
    'utf\u20138',
  ])('rejects %j with a RangeError', (label) => {
    expect(() => new UosTextDecoder(label)).toThrow(RangeError);
    expect(() => new UosTextDecoder(label)).toThrow(`"${label}"`);
    expect(() => new UosTextDecoder(label)).toThrow(/only UTF-8 is supported in uOS/);
  });
});

describe('differential tests against Node', () => {
  /** Bytes that are mostly valid UTF-8 with near-valid and invalid sequences mixed in. */
  function randomBytes(random: (limit: number) => number): Uint8Array {
    const out: number[] = [];
    const target = random(4) === 0 ? random(200) : random(24);
    const boundaries = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    const continuation = (): number => 0x80 + random(0x40);
    while (out.length < target) {
      const kind = random(16);
      if (kind < 4) {
        out.push(random(0x80));
      } else if (kind < 10) {
        // A valid code point from a random size class.
        const size = 1 + random(4);
        let cp: number;
        if (size === 1) cp = random(0x80);
        else if (size === 2) cp = 0x80 + random(0x800 - 0x80);
        else if (size === 3) {
          cp = 0x800 + random(0x10000 - 0x800);
          if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfeff;
        } else cp = 0x10000 + random(0x110000 - 0x10000);
        for (const b of encodeReference(String.fromCodePoint(cp))) out.push(b);
      } else if (kind < 13) {
        // A near-valid sequence: a lead byte with the wrong number of continuation bytes, or a boundary second byte.
        const lead = [0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xf7, 0xf8, 0xff][random(16)]!;
        out.push(lead);
        if (random(2) === 0) out.push(boundaries[random(boundaries.length)]!);
        const more = random(4);
        for (let k = 0; k < more; k++) out.push(continuation());
      } else if (kind < 15) {
        out.push(boundaries[random(boundaries.length)]!);
      } else {
        out.push(random(256));
      }
    }
    return new Uint8Array(out);
  }

  /** Splits `data` into random chunks, empty ones included. */
  function randomChunks(random: (limit: number) => number, data: Uint8Array): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    let at = 0;
    while (at < data.length) {
      const size = random(5) === 0 ? 0 : 1 + random(6);
      chunks.push(data.subarray(at, Math.min(data.length, at + size)));
      at += size;
    }
    return chunks;
  }

  it('decodes 5000 random byte arrays like Node, whole and streamed, fatal and not', () => {
    const random = createRandom(0x5eed);
    let invalid = 0;
    for (let n = 0; n < 5000; n++) {
      const data = randomBytes(random);
      const expected = nodeDecode(data);
      const label = `case ${n}: ${hex(data)}`;
      expect(units(uosDecode(data)), label).toBe(units(expected));
      expect(
        outcome(() => uosDecode(data, { fatal: true })),
        label,
      ).toBe(outcome(() => nodeDecode(data, { fatal: true })));
      const chunks = randomChunks(random, data);
      const streamed = streamDecode(new UosTextDecoder(), chunks);
      expect(units(streamed), label).toBe(units(streamDecode(new NodeTextDecoder(), chunks)));
      expect(units(streamed), label).toBe(units(expected));
      if (expected.indexOf('\ufffd') !== -1) invalid++;
    }
    // The generator must exercise both sides.
    expect(invalid).toBeGreaterThan(1000);
    expect(invalid).toBeLessThan(4500);
  });

  it('decodes random inputs with a BOM in front like Node, streamed', () => {
    const random = createRandom(0xb0b);
    for (let n = 0; n < 500; n++) {
      const rest = randomBytes(random);
      const data = new Uint8Array(3 + rest.length);
      data.set([0xef, 0xbb, 0xbf]);
      data.set(rest, 3);
      const ignoreBOM = random(2) === 0;
      const chunks = randomChunks(random, data);
      const label = `case ${n}: ${hex(data)}`;
      const expected = nodeDecode(data, { ignoreBOM });
      expect(units(uosDecode(data, { ignoreBOM })), label).toBe(units(expected));
      expect(units(streamDecode(new UosTextDecoder('utf-8', { ignoreBOM }), chunks)), label).toBe(units(expected));
    }
  });

  it('encodes 5000 random strings like Node, lone surrogates included', () => {
    const random = createRandom(0xc0ffee);
    const encoder = new UosTextEncoder();
    const nodeEncoder = new NodeTextEncoder();
    for (let n = 0; n < 5000; n++) {
      const length = random(4) === 0 ? random(200) : random(16);
      const codes: number[] = [];
      for (let k = 0; k < length; k++) {
        const kind = random(10);
        if (kind < 3) codes.push(random(0x80));
        else if (kind < 5) codes.push(0x80 + random(0x800 - 0x80));
        else if (kind < 7)
          codes.push(0x800 + random(0x10000 - 0x800)); // lone surrogates included
        else if (kind < 9) {
          const cp = 0x10000 + random(0x100000);
          codes.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else codes.push(0xd800 + random(0x800)); // a lone surrogate, high or low
      }
      const text = String.fromCharCode(...codes);
      const label = `case ${n}: ${units(text)}`;
      const expected = nodeEncoder.encode(text);
      expect(hex(encoder.encode(text)), label).toBe(hex(expected));
      const size = random(expected.length + 2);
      const mine = new Uint8Array(size);
      const theirs = new Uint8Array(size);
      expect(encoder.encodeInto(text, mine), label).toEqual(nodeEncoder.encodeInto(text, theirs));
      expect(hex(mine), label).toBe(hex(theirs));
    }
  });
});

describe('large input', () => {
  it('round-trips 1 MiB of mixed text, whole and in 64 KiB streamed chunks', () => {
    const random = createRandom(42);
    const pieces = ['The quick brown fox jumps over the lazy dog. ', 'é', 'ß', '€', '日本語', '😀', '𝄞', '\n', '{"k":[1,2,3]}'];
    const parts: string[] = [];
    let length = 0;
    while (length < 1 << 20) {
      const piece = pieces[random(pieces.length)]!;
      parts.push(piece);
      length += encodeReference(piece).length;
    }
    const text = parts.join('');
    const encoded = new UosTextEncoder().encode(text);
    expect(encoded.length).toBeGreaterThanOrEqual(1 << 20);
    const expected = encodeReference(text);
    expect(encoded.length).toBe(expected.length);
    let firstDifference = -1;
    for (let i = 0; i < expected.length && firstDifference < 0; i++) if (encoded[i] !== expected[i]) firstDifference = i;
    expect(firstDifference).toBe(-1);
    const decoded = new UosTextDecoder('utf-8', { fatal: true }).decode(encoded);
    expect(decoded.length).toBe(text.length);
    expect(decoded === text).toBe(true);

    const decoder = new UosTextDecoder();
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < encoded.length; at += 65_536 + 3) chunks.push(encoded.subarray(at, at + 65_536 + 3));
    expect(streamDecode(decoder, chunks) === text).toBe(true);
  });

  it('decodes 1 MiB of pure ASCII', () => {
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = 0x20 + (i % 95);
    const decoded = new UosTextDecoder().decode(data);
    expect(decoded.length).toBe(data.length);
    expect(decoded === new NodeTextDecoder().decode(data)).toBe(true);
  });
});
