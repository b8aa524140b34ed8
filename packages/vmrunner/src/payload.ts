import { PT_LOAD, type ProgramHeader, clearSectionHeaders, readElf, writeProgramHeader } from './elf.js';
import { VmRunnerError } from './errors.js';

/**
 * The payload `uos build` joins to the platform ELF (read by native/kernel/payload.c):
 *   header  { char magic[8] = "UOSPAYLD"; u32 version = 1; u32 header_size; u32 total_size; u32 count }
 *   entries { u32 kind; u32 offset; u32 length; u32 reserved }[count]   (offsets from the header)
 */
export const PAYLOAD_MAGIC = 'UOSPAYLD';
export const PayloadKind = { bytecode: 1, symbols: 2, lineMap: 3, info: 4, assets: 5 } as const;
export type PayloadKind = (typeof PayloadKind)[keyof typeof PayloadKind];

const HEADER_SIZE = 24;
const ENTRY_SIZE = 16;

export interface PayloadSection {
  kind: PayloadKind;
  data: Uint8Array;
}

export function encodePayload(sections: readonly PayloadSection[]): Uint8Array {
  const tableEnd = HEADER_SIZE + sections.length * ENTRY_SIZE;
  let offset = tableEnd;
  const placed = sections.map((s) => {
    offset = (offset + 7) & ~7;
    const at = offset;
    offset += s.data.length;
    return { ...s, at };
  });
  const out = new Uint8Array(offset);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(PAYLOAD_MAGIC), 0);
  view.setUint32(8, 1, true);
  view.setUint32(12, HEADER_SIZE, true);
  view.setUint32(16, out.length, true);
  view.setUint32(20, sections.length, true);
  placed.forEach((s, i) => {
    const e = HEADER_SIZE + i * ENTRY_SIZE;
    view.setUint32(e, s.kind, true);
    view.setUint32(e + 4, s.at, true);
    view.setUint32(e + 8, s.data.length, true);
    out.set(s.data, s.at);
  });
  return out;
}

/** Reads a payload back (tests, `uos` diagnostics). */
export function decodePayload(bytes: Uint8Array): PayloadSection[] {
  if (bytes.length < HEADER_SIZE || new TextDecoder().decode(bytes.subarray(0, 8)) !== PAYLOAD_MAGIC) {
    throw new VmRunnerError('payload-invalid', 'no uOS payload header');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== 1) throw new VmRunnerError('payload-invalid', `payload version ${view.getUint32(8, true)} is not 1`);
  const total = view.getUint32(16, true);
  const count = view.getUint32(20, true);
  if (total > bytes.length || HEADER_SIZE + count * ENTRY_SIZE > total) throw new VmRunnerError('payload-invalid', 'payload truncated');
  const sections: PayloadSection[] = [];
  for (let i = 0; i < count; i++) {
    const e = HEADER_SIZE + i * ENTRY_SIZE;
    const at = view.getUint32(e + 4, true);
    const length = view.getUint32(e + 8, true);
    if (at + length > total) throw new VmRunnerError('payload-invalid', `payload section ${i} lies outside the payload`);
    sections.push({ kind: view.getUint32(e, true) as PayloadKind, data: bytes.subarray(at, at + length) });
  }
  return sections;
}

function findPayloadSegment(bytes: Uint8Array, headers: ProgramHeader[]): ProgramHeader | undefined {
  const magic = new TextEncoder().encode(PAYLOAD_MAGIC);
  return headers.find((h) => h.type === PT_LOAD && h.filesz >= magic.length && magic.every((b, i) => bytes[h.offset + i] === b));
}

/**
 * Joins a payload to a platform ELF: copies the loadable part of the platform (section headers, symbols
 * and debug data stay behind), appends the payload and points the payload segment at it. The segment's
 * load address does not move, so the kernel finds it at __payload_start.
 */
export function joinImage(platform: Uint8Array, payload: Uint8Array): Uint8Array {
  const elf = readElf(platform, 'the platform image');
  const segment = findPayloadSegment(platform, elf.programHeaders);
  if (!segment) throw new VmRunnerError('platform-invalid', 'the platform image has no payload segment (is it a uOS platform ELF?)');
  const kept = Math.max(
    elf.programHeaderOffset + elf.programHeaders.length * elf.programHeaderSize,
    ...elf.programHeaders.filter((h) => h !== segment && h.filesz > 0).map((h) => h.offset + h.filesz),
  );
  const alignment = 16;
  const payloadOffset = Math.ceil(kept / alignment) * alignment;
  const out = new Uint8Array(payloadOffset + payload.length);
  out.set(platform.subarray(0, kept), 0);
  out.set(payload, payloadOffset);
  const image = readElf(out, 'the image');
  clearSectionHeaders(image);
  writeProgramHeader(image, { ...segment, offset: payloadOffset, filesz: payload.length, memsz: payload.length, align: alignment });
  return out;
}

/** The payload inside a built image, or undefined when the image carries none. */
export function extractPayload(image: Uint8Array): PayloadSection[] | undefined {
  const elf = readElf(image);
  const segment = findPayloadSegment(image, elf.programHeaders);
  if (!segment) return undefined;
  return decodePayload(image.subarray(segment.offset, segment.offset + segment.filesz));
}
