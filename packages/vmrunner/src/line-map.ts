/**
 * The JS line map joined to the image (payload section 3, read by native/kernel/js-stack-map.c). QuickJS
 * reports stack frames as bundle file:line (no columns), so the map keeps, for each line of the bundle,
 * the TypeScript source and line of its first mapped segment:
 *   u32 version = 1, u32 generated_name (offset of a NUL-terminated string), u32 source_count,
 *   u32 line_count, u32 sources (offset of source_count u32 string offsets), u32 lines (offset of the
 *   stream), then for every bundle line two zigzag varints: source index + 1 (0 = unmapped) and the
 *   original 1-based line, each as a delta from the previous line's values.
 */

export interface SourceMapV3 {
  version: number;
  sources: string[];
  mappings: string;
}

export interface LineMapping {
  /** Index into sources. */
  source: number;
  /** 1-based line in the source. */
  line: number;
}

import { pushVarint, readVarint } from './varint.js';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((c, i) => [c, i]));

/** Decodes one source-map VLQ segment into its fields. */
function decodeSegment(segment: string): number[] {
  const fields: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of segment) {
    const digit = BASE64_VALUE.get(c);
    if (digit === undefined) throw new Error(`invalid base64 VLQ digit '${c}' in source map`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
    } else {
      fields.push(value & 1 ? -Math.floor(value / 2) : Math.floor(value / 2));
      value = 0;
      shift = 0;
    }
  }
  return fields;
}

/** For each generated line (index 0 = line 1), the first segment that has a source, if any. */
export function firstMappingPerLine(map: SourceMapV3): (LineMapping | undefined)[] {
  const lines: (LineMapping | undefined)[] = [];
  let source = 0;
  let originalLine = 0;
  for (const line of map.mappings.split(';')) {
    let first: LineMapping | undefined;
    if (line) {
      for (const segment of line.split(',')) {
        const f = decodeSegment(segment);
        if (f.length < 4) continue;
        source += f[1]!;
        originalLine += f[2]!;
        first ??= { source, line: originalLine + 1 };
      }
    }
    lines.push(first);
  }
  return lines;
}

function pushSigned(out: number[], value: number): void {
  pushVarint(out, value < 0 ? -value * 2 - 1 : value * 2); // zigzag
}

export function encodeLineMap(generatedName: string, sources: readonly string[], lines: readonly (LineMapping | undefined)[]): Uint8Array {
  const encoder = new TextEncoder();
  const strings: number[] = [];
  const addString = (s: string): number => {
    const at = strings.length;
    strings.push(...encoder.encode(s), 0);
    return at;
  };
  const nameAt = addString(generatedName);
  const sourceAts = sources.map(addString);
  const stream: number[] = [];
  let previousSource = 0;
  let previousLine = 0;
  for (const mapping of lines) {
    const source = mapping ? mapping.source + 1 : 0;
    const line = mapping ? mapping.line : previousLine;
    pushSigned(stream, source - previousSource);
    pushSigned(stream, line - previousLine);
    previousSource = source;
    previousLine = line;
  }
  const headerSize = 24;
  const sourcesAt = headerSize;
  const stringsAt = sourcesAt + sources.length * 4;
  const streamAt = stringsAt + strings.length;
  const out = new Uint8Array(streamAt + stream.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 1, true);
  view.setUint32(4, stringsAt + nameAt, true);
  view.setUint32(8, sources.length, true);
  view.setUint32(12, lines.length, true);
  view.setUint32(16, sourcesAt, true);
  view.setUint32(20, streamAt, true);
  sourceAts.forEach((at, i) => view.setUint32(sourcesAt + i * 4, stringsAt + at, true));
  out.set(strings, stringsAt);
  out.set(stream, streamAt);
  return out;
}

/** Reads a line map back: what the kernel does on a panic (used by tests and host-side tools). */
export function lookupLineMap(map: Uint8Array, line: number): { source: string; line: number } | undefined {
  const view = new DataView(map.buffer, map.byteOffset, map.byteLength);
  const sourceCount = view.getUint32(8, true);
  const lineCount = view.getUint32(12, true);
  if (line < 1 || line > lineCount) return undefined;
  const readString = (at: number): string => {
    let end = at;
    while (end < map.length && map[end] !== 0) end++;
    return new TextDecoder().decode(map.subarray(at, end));
  };
  let p = view.getUint32(20, true);
  const next = (): number => {
    const { value, next: after } = readVarint(map, p);
    p = after;
    return value % 2 ? -(value + 1) / 2 : value / 2;
  };
  let source = 0;
  let original = 0;
  for (let i = 1; i <= line; i++) {
    source += next();
    original += next();
  }
  if (source <= 0 || source > sourceCount) return undefined;
  return { source: readString(view.getUint32(view.getUint32(16, true) + (source - 1) * 4, true)), line: original };
}

/** Decodes a whole line map once, for many lookups (the profiler maps every function it saw). */
export function readLineMap(map: Uint8Array): (line: number) => { source: string; line: number } | undefined {
  const view = new DataView(map.buffer, map.byteOffset, map.byteLength);
  const sourceCount = view.getUint32(8, true);
  const lineCount = view.getUint32(12, true);
  const readString = (at: number): string => {
    let end = at;
    while (end < map.length && map[end] !== 0) end++;
    return new TextDecoder().decode(map.subarray(at, end));
  };
  const sourcesAt = view.getUint32(16, true);
  const sources = Array.from({ length: sourceCount }, (_, i) => readString(view.getUint32(sourcesAt + i * 4, true)));
  const sourceOf = new Int32Array(lineCount + 1);
  const lineOf = new Int32Array(lineCount + 1);
  let p = view.getUint32(20, true);
  let source = 0;
  let original = 0;
  for (let i = 1; i <= lineCount; i++) {
    for (const which of [0, 1]) {
      const { value, next } = readVarint(map, p);
      p = next;
      const delta = value % 2 ? -(value + 1) / 2 : value / 2;
      if (which === 0) source += delta;
      else original += delta;
    }
    sourceOf[i] = source;
    lineOf[i] = original;
  }
  return (line) => {
    if (!(line >= 1 && line <= lineCount)) return undefined;
    const s = sourceOf[line]!;
    return s >= 1 && s <= sourceCount ? { source: sources[s - 1]!, line: lineOf[line]! } : undefined;
  };
}
