import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LineMapping, type SourceMapV3, encodeLineMap, firstMappingPerLine, lookupLineMap, readLineMap } from './line-map.js';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** One source-map VLQ number: sign in the lowest bit, 5 bits per base64 digit, bit 6 = continuation. */
function encodeVlq(value: number): string {
  let remaining = value < 0 ? -value * 2 + 1 : value * 2;
  let out = '';
  do {
    let digit = remaining % 32;
    remaining = Math.floor(remaining / 32);
    if (remaining > 0) digit += 32;
    out += BASE64[digit]!;
  } while (remaining > 0);
  return out;
}

/**
 * A segment with absolute values: [generated column] or [generated column, source, original line (0-based),
 * original column] or the same plus a name index.
 */
type Segment = readonly number[];

/** Encodes generated lines of absolute segments as a source map "mappings" string (with relative fields). */
function encodeMappings(lines: readonly (readonly Segment[])[]): string {
  const previous = [0, 0, 0, 0, 0];
  return lines
    .map((segments) => {
      previous[0] = 0; // the generated column restarts on every line
      return segments
        .map((segment) =>
          segment
            .map((value, field) => {
              const delta = value - previous[field]!;
              previous[field] = value;
              return encodeVlq(delta);
            })
            .join(''),
        )
        .join(',');
    })
    .join(';');
}

function sourceMap(mappings: string, sources = ['a.ts', 'b.ts', 'c.ts']): SourceMapV3 {
  return { version: 3, sources, mappings };
}

describe('the VLQ encoder used by these tests', () => {
  it('matches known source map encodings', () => {
    expect([0, 1, -1, 15, 16, -16, 1000].map(encodeVlq)).toEqual(['A', 'C', 'D', 'e', 'gB', 'hB', 'w+B']);
    expect(
      encodeMappings([
        [[0, 0, 0, 0]],
        [
          [2, 0, 1, 2],
          [9, 1, 0, 0],
        ],
      ]),
    ).toBe('AAAA;EACE,OCDF');
  });
});

describe('firstMappingPerLine', () => {
  it('reads a hand-written mappings string', () => {
    // Line 1: a.ts:1; line 2: a.ts:2; line 3: b.ts:1 (source +1, line -1).
    expect(firstMappingPerLine(sourceMap('AAAA;AACA;ACDA'))).toEqual([
      { source: 0, line: 1 },
      { source: 0, line: 2 },
      { source: 1, line: 1 },
    ]);
  });

  it('takes the first segment that has a source on every generated line', () => {
    const lines: Segment[][] = [
      [
        [0, 0, 4, 0],
        [10, 1, 20, 3],
        [15, 2, 7, 0],
      ],
      [
        [4, 1, 2, 0],
        [8, 0, 30, 0],
      ],
      [[0, 2, 100, 5, 0]],
    ];
    expect(firstMappingPerLine(sourceMap(encodeMappings(lines)))).toEqual([
      { source: 0, line: 5 },
      { source: 1, line: 3 },
      { source: 2, line: 101 },
    ]);
  });

  it('leaves empty lines unmapped and keeps the state across them', () => {
    const lines: Segment[][] = [[[0, 1, 9, 0]], [], [], [[2, 1, 10, 0]], []];
    const mappings = encodeMappings(lines);
    expect(mappings).toBe('ACSA;;;EACA;');
    expect(firstMappingPerLine(sourceMap(mappings))).toEqual([
      { source: 1, line: 10 },
      undefined,
      undefined,
      { source: 1, line: 11 },
      undefined,
    ]);
  });

  it('skips 1-field segments, which have no source', () => {
    const lines: Segment[][] = [
      [[0], [3, 2, 6, 0]],
      [[0], [5], [7]],
      [[1], [4, 0, 1, 0], [9]],
    ];
    expect(firstMappingPerLine(sourceMap(encodeMappings(lines)))).toEqual([{ source: 2, line: 7 }, undefined, { source: 0, line: 2 }]);
  });

  it('follows large and negative deltas (multi-digit VLQs)', () => {
    const lines: Segment[][] = [[[0, 2, 5000, 40]], [[0, 0, 12, 0]], [[100, 2, 70000, 9]], [[3, 1, 0, 0]]];
    expect(firstMappingPerLine(sourceMap(encodeMappings(lines)))).toEqual([
      { source: 2, line: 5001 },
      { source: 0, line: 13 },
      { source: 2, line: 70001 },
      { source: 1, line: 1 },
    ]);
  });

  it('returns one entry per generated line', () => {
    expect(firstMappingPerLine(sourceMap(''))).toEqual([undefined]);
    expect(firstMappingPerLine(sourceMap(';;'))).toEqual([undefined, undefined, undefined]);
  });

  it('rejects characters that are not base64 VLQ digits', () => {
    expect(() => firstMappingPerLine(sourceMap('AA*A'))).toThrow(/invalid base64 VLQ digit '\*'/);
  });
});

/** The line-map stream decoded the way native/kernel/js-stack-map.c does (shifts, zigzag), for comparison. */
function lookupLikeKernel(map: Uint8Array, line: number): { source: string; line: number } | undefined {
  const header = new DataView(map.buffer, map.byteOffset, map.byteLength);
  const field = (index: number) => header.getUint32(index * 4, true);
  if (field(0) !== 1 || line < 1 || line > field(3)) return undefined;
  let at = field(5);
  const readVarint = (): number => {
    let value = 0n;
    for (let shift = 0n; at < map.length && shift < 64n; shift += 7n) {
      const byte = map[at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    return Number((value >> 1n) ^ -(value & 1n));
  };
  let source = 0;
  let original = 0;
  for (let i = 1; i <= line; i++) {
    source += readVarint();
    original += readVarint();
  }
  if (source <= 0 || source > field(2)) return undefined;
  const nameAt = header.getUint32(field(4) + (source - 1) * 4, true);
  const end = map.indexOf(0, nameAt);
  return { source: new TextDecoder().decode(map.subarray(nameAt, end)), line: original };
}

function readString(map: Uint8Array, at: number): string {
  return new TextDecoder().decode(map.subarray(at, map.indexOf(0, at)));
}

describe('encodeLineMap / lookupLineMap', () => {
  const sources = ['src/index.ts', '@uos/kernel/src/service.ts', 'src/ñandú.ts'];
  const lines: (LineMapping | undefined)[] = [
    { source: 0, line: 1 },
    undefined,
    { source: 1, line: 300 },
    { source: 1, line: 5 },
    { source: 0, line: 2 },
    undefined,
    undefined,
    { source: 2, line: 100_000 },
    { source: 2, line: 99_999 },
    { source: 0, line: 128 },
    undefined,
  ];

  it('writes the header, the generated name and the source names', () => {
    const map = encodeLineMap('service.js', sources, lines);
    const header = new DataView(map.buffer);
    expect(header.getUint32(0, true)).toBe(1);
    expect(readString(map, header.getUint32(4, true))).toBe('service.js');
    expect(header.getUint32(8, true)).toBe(sources.length);
    expect(header.getUint32(12, true)).toBe(lines.length);
    const sourcesAt = header.getUint32(16, true);
    expect(sourcesAt).toBeGreaterThanOrEqual(24);
    expect(sources.map((_, i) => readString(map, header.getUint32(sourcesAt + i * 4, true)))).toEqual(sources);
    expect(header.getUint32(20, true)).toBeLessThan(map.length);
  });

  it('round-trips every line, including unmapped lines', () => {
    const map = encodeLineMap('service.js', sources, lines);
    lines.forEach((mapping, i) => {
      const expected = mapping && { source: sources[mapping.source]!, line: mapping.line };
      expect(lookupLineMap(map, i + 1), `line ${i + 1}`).toEqual(expected);
      expect(lookupLikeKernel(map, i + 1), `line ${i + 1} read like the kernel`).toEqual(expected);
    });
  });

  it('returns undefined for lines outside the bundle', () => {
    const map = encodeLineMap('service.js', sources, lines);
    for (const line of [0, -1, lines.length + 1, 10_000]) expect(lookupLineMap(map, line), `line ${line}`).toBeUndefined();
    expect(lookupLineMap(encodeLineMap('service.js', [], []), 1)).toBeUndefined();
  });

  it('encodes small deltas in one byte and larger ones in two or three (zigzag varints)', () => {
    const streamLength = (mapped: (LineMapping | undefined)[]) => {
      const map = encodeLineMap('x', ['a', 'b'], mapped);
      return map.length - new DataView(map.buffer).getUint32(20, true);
    };
    expect(streamLength([{ source: 0, line: 63 }])).toBe(2); // zigzag(63) = 126
    expect(streamLength([{ source: 0, line: 64 }])).toBe(3); // zigzag(64) = 128
    expect(streamLength([{ source: 0, line: 200 }])).toBe(3);
    expect(
      streamLength([
        { source: 0, line: 200 },
        { source: 0, line: 1 },
      ]),
    ).toBe(6); // -199: two bytes
    expect(streamLength([{ source: 0, line: 100_000 }])).toBe(4);
    expect(streamLength([undefined, undefined])).toBe(4);
    // An unmapped line repeats the previous values (zero deltas), so the next mapped line stays cheap.
    expect(streamLength([{ source: 0, line: 200 }, undefined, { source: 0, line: 201 }])).toBe(7);
  });

  it('maps every line of a long bundle (lines > 127 and > 16383)', () => {
    const longSources = ['one.ts', 'two.ts', 'three.ts'];
    const long = Array.from({ length: 20_000 }, (_, i): LineMapping | undefined =>
      i % 7 === 3 ? undefined : { source: (i * 5) % 3, line: ((i * 7919) % 30_000) + 1 },
    );
    const map = encodeLineMap('service.js', longSources, long);
    for (const line of [1, 2, 4, 127, 128, 129, 1000, 16_383, 16_384, 16_385, 19_999, 20_000]) {
      const mapping = long[line - 1];
      const expected = mapping && { source: longSources[mapping.source]!, line: mapping.line };
      expect(lookupLineMap(map, line), `line ${line}`).toEqual(expected);
      expect(lookupLikeKernel(map, line), `line ${line} read like the kernel`).toEqual(expected);
    }
    expect(lookupLineMap(map, 20_001)).toBeUndefined();
  });

  it('reads a map that is a view into a larger buffer (as extracted from a payload)', () => {
    const map = encodeLineMap('service.js', sources, lines);
    const larger = new Uint8Array(map.length + 13);
    larger.set(map, 5);
    const inner = larger.subarray(5, 5 + map.length);
    expect(lookupLineMap(inner, 3)).toEqual({ source: '@uos/kernel/src/service.ts', line: 300 });
    expect(lookupLineMap(inner, 8)).toEqual({ source: 'src/ñandú.ts', line: 100_000 });
  });

  it('round-trips the lines firstMappingPerLine reads from a source map', () => {
    const segments: Segment[][] = [[[0, 0, 0, 0]], [], [[0], [2, 1, 40, 0]], [[0, 0, 3, 0]], [[1]]];
    const mapped = firstMappingPerLine(sourceMap(encodeMappings(segments), ['a.ts', 'b.ts']));
    const map = encodeLineMap('service.js', ['a.ts', 'b.ts'], mapped);
    expect([1, 2, 3, 4, 5].map((line) => lookupLineMap(map, line))).toEqual([
      { source: 'a.ts', line: 1 },
      undefined,
      { source: 'b.ts', line: 41 },
      { source: 'a.ts', line: 4 },
      undefined,
    ]);
  });
});

describe('a line map of an esbuild bundle', () => {
  let directory: string;

  const greetSource = [
    '// Greeting helpers.',
    'export interface Greeting { text: string }',
    '',
    'export function greet(name: string): Greeting {',
    '  const text: string = `hello ${name}`;',
    '  return { text };',
    '}',
    '',
  ].join('\n');
  const mainSource = [
    "import { greet } from './greet';",
    '',
    'type Unused = { x: number };',
    '',
    "const target: string = 'world';",
    'const greeting = greet(target);',
    'console.log(greeting.text.toUpperCase());',
    '',
  ].join('\n');

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'uos-line-map-test-'));
    writeFileSync(join(directory, 'greet.ts'), greetSource);
    writeFileSync(join(directory, 'main.ts'), mainSource);
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('maps bundle lines back to the TypeScript file and line', async () => {
    const result = await build({
      entryPoints: [join(directory, 'main.ts')],
      outfile: join(directory, 'out', 'bundle.js'),
      bundle: true,
      format: 'iife',
      sourcemap: 'external',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
    const rawMap = JSON.parse(result.outputFiles.find((f) => f.path.endsWith('.js.map'))!.text) as SourceMapV3;
    expect(rawMap.sources).toEqual(['../greet.ts', '../main.ts']);
    const map = encodeLineMap('bundle.js', rawMap.sources, firstMappingPerLine(rawMap));
    const generatedLines = code.split('\n');

    const lineOf = (needle: string): number => {
      const index = generatedLines.findIndex((line) => line.includes(needle));
      expect(index, `the bundle contains ${needle}`).toBeGreaterThanOrEqual(0);
      return index + 1;
    };
    expect(lookupLineMap(map, lineOf('hello ${name}'))).toEqual({ source: '../greet.ts', line: 5 });
    expect(lookupLineMap(map, lineOf('return { text }'))).toEqual({ source: '../greet.ts', line: 6 });
    expect(lookupLineMap(map, lineOf('"world"'))).toEqual({ source: '../main.ts', line: 5 });
    expect(lookupLineMap(map, lineOf('greet(target)'))).toEqual({ source: '../main.ts', line: 6 });
    expect(lookupLineMap(map, lineOf('console.log'))).toEqual({ source: '../main.ts', line: 7 });
    // The IIFE wrapper line has no source.
    expect(lookupLineMap(map, lineOf('(() => {'))).toBeUndefined();
  });
});

describe('readLineMap', () => {
  it('answers every line as lookupLineMap does', () => {
    const lines: (LineMapping | undefined)[] = [];
    for (let i = 0; i < 300; i++) lines.push(i % 7 === 3 ? undefined : { source: i % 3, line: 1 + ((i * 37) % 500) });
    const map = encodeLineMap('bundle.js', ['a.ts', 'b/c.ts', '@uos/kernel/src/d.ts'], lines);
    const read = readLineMap(map);
    for (let line = 0; line <= 302; line++) expect(read(line)).toEqual(lookupLineMap(map, line));
  });
});
