import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UosError } from '@uos/errors';
import { platformDirectory } from '@uos/x86/platform';
import { describe, expect, it } from 'vitest';
import { PT_LOAD, STT_FUNC, STT_NOTYPE, readElf, readSymbols } from './elf.js';
import { PayloadKind, type PayloadSection, decodePayload, encodePayload, extractPayload, joinImage } from './payload.js';

const HEADER_SIZE = 24;
const ENTRY_SIZE = 16;
const MAGIC = new TextEncoder().encode('UOSPAYLD');

/** Reads a platform ELF built by `pnpm --filter @uos/x86 build`; fails with a hint when it is missing. */
function readPlatform(file: string): Uint8Array {
  const path = join(platformDirectory, file);
  if (!existsSync(path)) {
    throw new Error(`the native platform is not built: ${path} is missing; run \`pnpm --filter @uos/x86 build\``);
  }
  return new Uint8Array(readFileSync(path));
}

/** Runs `action`, which must throw a UosError with `code`, and returns that error. */
function uosError(code: string, action: () => unknown): UosError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) expect.fail(`expected a UosError ${code}, but nothing was thrown`);
  if (!UosError.isInstance(thrown)) expect.fail(`expected a UosError ${code}, got ${String(thrown)}`);
  expect(thrown.code).toBe(code);
  return thrown;
}

function bytesOf(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function startsWithMagic(bytes: Uint8Array, at: number): boolean {
  return MAGIC.every((b, i) => bytes[at + i] === b);
}

/** Comparable form of decoded sections (the data of decoded sections are views into the payload). */
function plain(sections: readonly PayloadSection[]): { kind: number; data: number[] }[] {
  return sections.map((s) => ({ kind: s.kind, data: Array.from(s.data) }));
}

const sampleSections: PayloadSection[] = [
  { kind: PayloadKind.bytecode, data: bytesOf(5, 1) },
  { kind: PayloadKind.symbols, data: bytesOf(0, 2) },
  { kind: PayloadKind.lineMap, data: bytesOf(13, 3) },
  { kind: PayloadKind.info, data: new TextEncoder().encode('{"service":"test"}') },
];

describe('encodePayload / decodePayload', () => {
  it('round-trips sections of every kind, in order', () => {
    const decoded = decodePayload(encodePayload(sampleSections));
    expect(plain(decoded)).toEqual(plain(sampleSections));
    expect(decoded.map((s) => s.kind)).toEqual([1, 2, 3, 4]);
  });

  it('writes the header: magic, version 1, header size, total size and count', () => {
    const payload = encodePayload(sampleSections);
    const header = view(payload);
    expect(new TextDecoder().decode(payload.subarray(0, 8))).toBe('UOSPAYLD');
    expect(header.getUint32(8, true)).toBe(1);
    expect(header.getUint32(12, true)).toBe(HEADER_SIZE);
    expect(header.getUint32(16, true)).toBe(payload.length);
    expect(header.getUint32(20, true)).toBe(sampleSections.length);
  });

  it('places every section after the table at an 8-byte aligned offset, without overlap', () => {
    const payload = encodePayload(sampleSections);
    const header = view(payload);
    let previousEnd = HEADER_SIZE + sampleSections.length * ENTRY_SIZE;
    sampleSections.forEach((section, i) => {
      const entry = HEADER_SIZE + i * ENTRY_SIZE;
      const offset = header.getUint32(entry + 4, true);
      const length = header.getUint32(entry + 8, true);
      expect(header.getUint32(entry, true)).toBe(section.kind);
      expect(offset % 8, `section ${i} offset ${offset}`).toBe(0);
      expect(offset).toBeGreaterThanOrEqual(previousEnd);
      expect(offset - previousEnd).toBeLessThan(8);
      expect(length).toBe(section.data.length);
      expect(header.getUint32(entry + 12, true), 'reserved').toBe(0);
      expect(Array.from(payload.subarray(offset, offset + length))).toEqual(Array.from(section.data));
      previousEnd = offset + length;
    });
    expect(payload.length).toBe(previousEnd);
  });

  it('encodes an empty payload as a bare header', () => {
    const payload = encodePayload([]);
    expect(payload.length).toBe(HEADER_SIZE);
    expect(view(payload).getUint32(20, true)).toBe(0);
    expect(decodePayload(payload)).toEqual([]);
  });

  it('decodes a payload that is a view into a larger buffer', () => {
    const payload = encodePayload(sampleSections);
    const larger = new Uint8Array(payload.length + 11);
    larger.fill(0xee);
    larger.set(payload, 3);
    expect(plain(decodePayload(larger.subarray(3, 3 + payload.length)))).toEqual(plain(sampleSections));
  });

  it('accepts trailing bytes after the payload', () => {
    const payload = encodePayload(sampleSections);
    const padded = new Uint8Array(payload.length + 100);
    padded.set(payload);
    expect(plain(decodePayload(padded))).toEqual(plain(sampleSections));
  });

  it('rejects bytes without the magic', () => {
    const payload = encodePayload(sampleSections);
    payload[7] = 'X'.charCodeAt(0);
    expect(uosError('payload-invalid', () => decodePayload(payload)).message).toContain('no uOS payload header');
  });

  it('rejects bytes shorter than the header', () => {
    uosError('payload-invalid', () => decodePayload(encodePayload([]).subarray(0, HEADER_SIZE - 1)));
    uosError('payload-invalid', () => decodePayload(new Uint8Array(0)));
  });

  it('rejects a payload cut short of its total size', () => {
    const payload = encodePayload(sampleSections);
    expect(uosError('payload-invalid', () => decodePayload(payload.subarray(0, payload.length - 1))).message).toContain('truncated');
  });

  it('rejects a section table that does not fit in the payload', () => {
    const payload = encodePayload(sampleSections);
    view(payload).setUint32(20, 1000, true);
    expect(uosError('payload-invalid', () => decodePayload(payload)).message).toContain('truncated');
  });

  it('rejects a section that lies outside the payload', () => {
    const payload = encodePayload(sampleSections);
    const lastEntry = HEADER_SIZE + 3 * ENTRY_SIZE;
    view(payload).setUint32(lastEntry + 8, sampleSections[3]!.data.length + 1, true);
    expect(uosError('payload-invalid', () => decodePayload(payload)).message).toContain('section 3 lies outside the payload');

    const moved = encodePayload(sampleSections);
    view(moved).setUint32(HEADER_SIZE + 4, moved.length, true);
    expect(uosError('payload-invalid', () => decodePayload(moved)).message).toContain('section 0 lies outside the payload');
  });
});

interface Field {
  at: number;
  size: 2 | 4 | 8;
}

/** e_shoff, e_shnum and e_shstrndx of an ELF32 or ELF64 header. */
function sectionHeaderFields(is64: boolean): { offset: Field; count: Field; names: Field } {
  return is64
    ? { offset: { at: 40, size: 8 }, count: { at: 60, size: 2 }, names: { at: 62, size: 2 } }
    : { offset: { at: 32, size: 4 }, count: { at: 48, size: 2 }, names: { at: 50, size: 2 } };
}

function readField(bytes: Uint8Array, field: Field): number {
  const data = view(bytes);
  if (field.size === 2) return data.getUint16(field.at, true);
  if (field.size === 4) return data.getUint32(field.at, true);
  return Number(data.getBigUint64(field.at, true));
}

const platforms = [
  { file: 'uos-multiboot.elf', is64: false, elfHeaderSize: 52 },
  { file: 'uos-pvh.elf', is64: true, elfHeaderSize: 64 },
];

describe.each(platforms)('joinImage on the platform $file', ({ file, is64, elfHeaderSize }) => {
  const sections: PayloadSection[] = [
    { kind: PayloadKind.bytecode, data: bytesOf(1001, 7) },
    { kind: PayloadKind.lineMap, data: bytesOf(77, 8) },
    { kind: PayloadKind.info, data: new TextEncoder().encode('{"service":"join-test"}') },
    { kind: PayloadKind.symbols, data: bytesOf(33, 9) },
  ];
  const payload = encodePayload(sections);

  function joinPlatform(): { platform: Uint8Array; image: Uint8Array } {
    const platform = readPlatform(file);
    return { platform, image: joinImage(platform, payload) };
  }

  function payloadSegmentIndex(bytes: Uint8Array): number {
    const matches = readElf(bytes).programHeaders.filter((h) => h.type === PT_LOAD && h.filesz >= 8 && startsWithMagic(bytes, h.offset));
    expect(matches, 'exactly one PT_LOAD starts with UOSPAYLD').toHaveLength(1);
    return matches[0]!.index;
  }

  it(`is ${is64 ? 'an ELF64' : 'an ELF32'} with a payload placeholder segment`, () => {
    const platform = readPlatform(file);
    const elf = readElf(platform);
    expect(elf.is64).toBe(is64);
    const placeholder = elf.programHeaders[payloadSegmentIndex(platform)]!;
    // The placeholder the platform carries alone: version 1, no sections.
    expect(plain(decodePayload(platform.subarray(placeholder.offset, placeholder.offset + placeholder.filesz)))).toEqual([]);
    expect(extractPayload(platform)).toEqual([]);
  });

  it('produces a valid ELF of the same class with the same program header table', () => {
    const { platform, image } = joinPlatform();
    const before = readElf(platform);
    const after = readElf(image);
    expect(after.is64).toBe(is64);
    expect(after.programHeaderOffset).toBe(before.programHeaderOffset);
    expect(after.programHeaderSize).toBe(before.programHeaderSize);
    expect(after.programHeaders).toHaveLength(before.programHeaders.length);
  });

  it('points the payload segment at the appended payload, keeping its load address', () => {
    const { platform, image } = joinPlatform();
    const index = payloadSegmentIndex(platform);
    expect(payloadSegmentIndex(image)).toBe(index);
    const before = readElf(platform).programHeaders[index]!;
    const after = readElf(image).programHeaders[index]!;
    expect(after.type).toBe(PT_LOAD);
    expect(after.vaddr).toBe(before.vaddr);
    expect(after.paddr).toBe(before.paddr);
    expect(after.flags).toBe(before.flags);
    expect(after.offset % 16).toBe(0);
    expect(after.filesz).toBe(payload.length);
    expect(after.memsz).toBe(payload.length);
    expect(after.offset + after.filesz).toBe(image.length);
    // A loader needs offset ≡ vaddr (mod align).
    expect(after.offset % after.align).toBe(after.vaddr % after.align);
    expect(Array.from(image.subarray(after.offset))).toEqual(Array.from(payload));
  });

  it('carries a payload extractPayload reads back', () => {
    const { image } = joinPlatform();
    const extracted = extractPayload(image);
    expect(extracted).toBeDefined();
    expect(plain(extracted!)).toEqual(plain(sections));
  });

  it('clears the section header table from the ELF header', () => {
    const { platform, image } = joinPlatform();
    const fields = sectionHeaderFields(is64);
    // The platform has section headers (symbols), so clearing them is a change.
    expect(readField(platform, fields.offset)).toBeGreaterThan(0);
    expect(readField(platform, fields.count)).toBeGreaterThan(0);
    expect(readField(image, fields.offset)).toBe(0);
    expect(readField(image, fields.count)).toBe(0);
    expect(readField(image, fields.names)).toBe(0);
    expect(readSymbols(image)).toEqual([]);
  });

  it('keeps the rest of the ELF header', () => {
    const { platform, image } = joinPlatform();
    const fields = sectionHeaderFields(is64);
    const cleared = new Set<number>();
    for (const field of [fields.offset, fields.count, fields.names]) {
      for (let i = 0; i < field.size; i++) cleared.add(field.at + i);
    }
    for (let i = 0; i < elfHeaderSize; i++) {
      if (!cleared.has(i)) expect(image[i], `ELF header byte ${i}`).toBe(platform[i]);
    }
  });

  it('drops the symbols and section headers, so it is smaller than platform plus payload', () => {
    const { platform, image } = joinPlatform();
    expect(image.length).toBeLessThan(platform.length + payload.length);
    const loadedEnd = Math.max(
      ...readElf(platform)
        .programHeaders.filter((h) => h.index !== payloadSegmentIndex(platform) && h.filesz > 0)
        .map((h) => h.offset + h.filesz),
    );
    expect(image.length).toBeLessThan(loadedEnd + 16 + payload.length);
  });

  it('keeps every other segment header and its bytes unchanged', () => {
    const { platform, image } = joinPlatform();
    const index = payloadSegmentIndex(platform);
    const before = readElf(platform).programHeaders;
    const after = readElf(image).programHeaders;
    const others = before.filter((h) => h.index !== index);
    expect(others.filter((h) => h.type === PT_LOAD && h.filesz > 0).length).toBeGreaterThanOrEqual(2);
    for (const header of others) {
      expect(after[header.index], `program header ${header.index}`).toEqual(header);
      const original = platform.subarray(header.offset, header.offset + header.filesz);
      const copied = image.subarray(header.offset, header.offset + header.filesz);
      expect(Buffer.from(copied).equals(Buffer.from(original)), `bytes of segment ${header.index}`).toBe(true);
    }
  });

  it('does not modify the platform bytes it is given', () => {
    const platform = readPlatform(file);
    const copy = platform.slice();
    joinImage(platform, payload);
    expect(Buffer.from(platform).equals(Buffer.from(copy))).toBe(true);
  });

  it('joins an empty payload and a payload of odd length', () => {
    const platform = readPlatform(file);
    expect(extractPayload(joinImage(platform, encodePayload([])))).toEqual([]);
    const odd = [{ kind: PayloadKind.bytecode, data: bytesOf(3, 4) }];
    expect(plain(extractPayload(joinImage(platform, encodePayload(odd)))!)).toEqual(plain(odd));
  });

  it('rejects an ELF without a payload segment', () => {
    const platform = readPlatform(file);
    const segment = readElf(platform).programHeaders[payloadSegmentIndex(platform)]!;
    const withoutPayload = platform.slice();
    withoutPayload.fill(0, segment.offset, segment.offset + 8);
    const error = uosError('platform-invalid', () => joinImage(withoutPayload, payload));
    expect(error.message).toContain('no payload segment');
    expect(extractPayload(withoutPayload)).toBeUndefined();
  });
});

interface SyntheticSegment {
  bytes: Uint8Array;
  vaddr: number;
  /** Defaults to bytes.length; larger for a segment with zero-filled memory (.bss). */
  memsz?: number;
}

/**
 * A minimal little-endian ELF executable: header, program headers, the segments one after another at
 * 16-byte aligned offsets, then `trailer` (standing in for symbols and section headers, which e_shoff
 * points at).
 */
function syntheticElf(is64: boolean, segments: readonly SyntheticSegment[], trailer: Uint8Array): Uint8Array {
  const headerSize = is64 ? 64 : 52;
  const entrySize = is64 ? 56 : 32;
  let offset = headerSize + segments.length * entrySize;
  const placed = segments.map((segment) => {
    offset = Math.ceil(offset / 16) * 16;
    const at = offset;
    offset += segment.bytes.length;
    return { ...segment, at };
  });
  const trailerAt = offset;
  const bytes = new Uint8Array(trailerAt + trailer.length);
  const data = view(bytes);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1], 0);
  data.setUint16(16, 2, true); // ET_EXEC
  data.setUint16(18, is64 ? 62 : 3, true);
  data.setUint32(20, 1, true);
  if (is64) {
    data.setBigUint64(24, 0x100000n, true);
    data.setBigUint64(32, BigInt(headerSize), true);
    data.setBigUint64(40, BigInt(trailerAt), true);
    data.setUint16(52, headerSize, true);
    data.setUint16(54, entrySize, true);
    data.setUint16(56, segments.length, true);
    data.setUint16(58, 64, true);
    data.setUint16(60, 3, true);
    data.setUint16(62, 2, true);
  } else {
    data.setUint32(24, 0x100000, true);
    data.setUint32(28, headerSize, true);
    data.setUint32(32, trailerAt, true);
    data.setUint16(40, headerSize, true);
    data.setUint16(42, entrySize, true);
    data.setUint16(44, segments.length, true);
    data.setUint16(46, 40, true);
    data.setUint16(48, 3, true);
    data.setUint16(50, 2, true);
  }
  placed.forEach((segment, i) => {
    const o = headerSize + i * entrySize;
    const memsz = segment.memsz ?? segment.bytes.length;
    if (is64) {
      data.setUint32(o, PT_LOAD, true);
      data.setUint32(o + 4, 4, true);
      data.setBigUint64(o + 8, BigInt(segment.at), true);
      data.setBigUint64(o + 16, BigInt(segment.vaddr), true);
      data.setBigUint64(o + 24, BigInt(segment.vaddr), true);
      data.setBigUint64(o + 32, BigInt(segment.bytes.length), true);
      data.setBigUint64(o + 40, BigInt(memsz), true);
      data.setBigUint64(o + 48, 16n, true);
    } else {
      for (const [at, value] of [
        [0, PT_LOAD],
        [4, segment.at],
        [8, segment.vaddr],
        [12, segment.vaddr],
        [16, segment.bytes.length],
        [20, memsz],
        [24, 4],
        [28, 16],
      ] as const)
        data.setUint32(o + at, value, true);
    }
    bytes.set(segment.bytes, segment.at);
  });
  bytes.set(trailer, trailerAt);
  return bytes;
}

describe.each([
  { name: 'ELF32', is64: false },
  { name: 'ELF64', is64: true },
])('joinImage on a synthetic $name', ({ is64 }) => {
  const text = bytesOf(301, 5).map((b) => b | 1); // no zero bytes, so a lost byte shows
  const data = bytesOf(57, 6).map((b) => b | 1);
  const placeholder = encodePayload([]);
  const trailer = new Uint8Array(100).fill(0xcc);
  const payload = encodePayload([{ kind: PayloadKind.bytecode, data: bytesOf(45, 10) }]);

  it.each([
    ['last in the file', [0, 1, 2]],
    ['between the other segments', [0, 2, 1]],
    ['first in the file', [2, 0, 1]],
  ])('keeps every byte of the other segments with the placeholder %s', (_, order) => {
    const segments: SyntheticSegment[] = [
      { bytes: text, vaddr: 0x100000 },
      { bytes: data, vaddr: 0x180000, memsz: 0x4000 },
      { bytes: placeholder, vaddr: 0x200000 },
    ];
    const platform = syntheticElf(
      is64,
      order.map((i) => segments[i]!),
      trailer,
    );
    const image = joinImage(platform, payload);
    const before = readElf(platform).programHeaders;
    const after = readElf(image).programHeaders;
    const payloadIndex = order.indexOf(2);
    for (const header of before.filter((h) => h.index !== payloadIndex)) {
      expect(after[header.index]).toEqual(header);
      const original = platform.subarray(header.offset, header.offset + header.filesz);
      expect(Buffer.from(image.subarray(header.offset, header.offset + header.filesz)).equals(Buffer.from(original))).toBe(true);
    }
    const segment = after[payloadIndex]!;
    expect(segment.vaddr).toBe(0x200000);
    expect(segment.offset % 16).toBe(0);
    expect(segment.offset + segment.filesz).toBe(image.length);
    const loadedEnd = Math.max(...before.filter((h) => h.index !== payloadIndex).map((h) => h.offset + h.filesz));
    expect(segment.offset).toBe(Math.ceil(loadedEnd / 16) * 16);
    expect(image.includes(0xcc), 'the trailer is dropped').toBe(false);
    expect(plain(extractPayload(image)!)).toEqual(plain(decodePayload(payload)));
  });
});

describe('joinImage input checks', () => {
  it('rejects bytes that are not an ELF', () => {
    const text = new TextEncoder().encode('#!/bin/sh\necho this is a shell script, not an ELF platform image\n');
    expect(uosError('elf-invalid', () => joinImage(text, encodePayload([]))).message).toContain('the platform image is not an ELF file');
    uosError('elf-invalid', () => joinImage(new Uint8Array(0), encodePayload([])));
    uosError('elf-invalid', () => joinImage(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), encodePayload([])));
  });

  it('rejects a big-endian ELF', () => {
    const platform = readPlatform('uos-pvh.elf').slice();
    platform[5] = 2;
    expect(uosError('elf-invalid', () => joinImage(platform, encodePayload([]))).message).toContain('not little-endian');
  });
});

describe.each(platforms)('readSymbols on the platform $file', ({ file }) => {
  it('finds the kernel layout and function symbols', () => {
    const symbols = readSymbols(readPlatform(file));
    const find = (name: string) => {
      const found = symbols.find((s) => s.name === name);
      if (!found) expect.fail(`${file} has no symbol ${name}`);
      return found;
    };
    const kernelStart = find('__kernel_start');
    const textEnd = find('__text_end');
    expect(kernelStart.value).toBe(0x100000);
    expect(kernelStart.type).toBe(STT_NOTYPE);
    expect(textEnd.type).toBe(STT_NOTYPE);
    expect(textEnd.value % 4096).toBe(0);
    for (const name of ['kernel_entry', 'js_run', 'JS_CallInternal']) {
      const symbol = find(name);
      expect(symbol.type, name).toBe(STT_FUNC);
      expect(symbol.size, name).toBeGreaterThan(0);
      expect(symbol.value, name).toBeGreaterThanOrEqual(kernelStart.value);
      expect(symbol.value + symbol.size, name).toBeLessThanOrEqual(textEnd.value);
    }
    // The payload segment loads at __payload_start.
    const platform = readPlatform(file);
    const segment = readElf(platform).programHeaders.find((h) => h.type === PT_LOAD && startsWithMagic(platform, h.offset));
    expect(find('__payload_start').value).toBe(segment?.vaddr);
  });
});
