import { VmRunnerError } from './errors.js';

/** Program header of an ELF file (the fields the image writer reads and patches). */
export interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** Section index. */
  section: number;
}

export interface Elf {
  bytes: Uint8Array;
  is64: boolean;
  programHeaderOffset: number;
  programHeaderSize: number;
  programHeaders: ProgramHeader[];
}

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const STT_NOTYPE = 0;
export const STT_FUNC = 2;
const SHT_SYMTAB = 2;

function fail(message: string): never {
  throw new VmRunnerError('elf-invalid', message);
}

/** Parses the ELF header and program headers of a little-endian x86 ELF32 or ELF64 executable. */
export function readElf(bytes: Uint8Array, what = 'the file'): Elf {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail(`${what} is not an ELF file`);
  }
  const is64 = bytes[4] === 2;
  if (bytes[5] !== 1) fail(`${what} is not little-endian`);
  if (is64 && bytes.length < 64) fail(`${what} is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (o: number): number => (is64 ? Number(view.getBigUint64(o, true)) : view.getUint32(o, true));
  const programHeaderOffset = word(is64 ? 32 : 28);
  const programHeaderSize = view.getUint16(is64 ? 54 : 42, true);
  const count = view.getUint16(is64 ? 56 : 44, true);
  if (programHeaderOffset + count * programHeaderSize > bytes.length) fail(`${what} has program headers past its end`);
  const programHeaders: ProgramHeader[] = [];
  for (let i = 0; i < count; i++) {
    const o = programHeaderOffset + i * programHeaderSize;
    programHeaders.push(
      is64
        ? {
            index: i,
            type: view.getUint32(o, true),
            flags: view.getUint32(o + 4, true),
            offset: word(o + 8),
            vaddr: word(o + 16),
            paddr: word(o + 24),
            filesz: word(o + 32),
            memsz: word(o + 40),
            align: word(o + 48),
          }
        : {
            index: i,
            type: view.getUint32(o, true),
            offset: view.getUint32(o + 4, true),
            vaddr: view.getUint32(o + 8, true),
            paddr: view.getUint32(o + 12, true),
            filesz: view.getUint32(o + 16, true),
            memsz: view.getUint32(o + 20, true),
            flags: view.getUint32(o + 24, true),
            align: view.getUint32(o + 28, true),
          },
    );
  }
  return { bytes, is64, programHeaderOffset, programHeaderSize, programHeaders };
}

/** Writes a program header back (offset, addresses, sizes, alignment). */
export function writeProgramHeader(elf: Elf, header: ProgramHeader): void {
  const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  const o = elf.programHeaderOffset + header.index * elf.programHeaderSize;
  if (elf.is64) {
    view.setUint32(o, header.type, true);
    view.setUint32(o + 4, header.flags, true);
    for (const [at, value] of [
      [8, header.offset],
      [16, header.vaddr],
      [24, header.paddr],
      [32, header.filesz],
      [40, header.memsz],
      [48, header.align],
    ] as const)
      view.setBigUint64(o + at, BigInt(value), true);
  } else {
    for (const [at, value] of [
      [0, header.type],
      [4, header.offset],
      [8, header.vaddr],
      [12, header.paddr],
      [16, header.filesz],
      [20, header.memsz],
      [24, header.flags],
      [28, header.align],
    ] as const)
      view.setUint32(o + at, value, true);
  }
}

/** Drops the section header table from the header (the bytes after the last segment go too). */
export function clearSectionHeaders(elf: Elf): void {
  const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  if (elf.is64) {
    view.setBigUint64(40, 0n, true);
    view.setUint16(60, 0, true);
    view.setUint16(62, 0, true);
  } else {
    view.setUint32(32, 0, true);
    view.setUint16(48, 0, true);
    view.setUint16(50, 0, true);
  }
}

/** The symbols of the ELF's .symtab (empty when the file is stripped). */
export function readSymbols(bytes: Uint8Array): ElfSymbol[] {
  const elf = readElf(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const is64 = elf.is64;
  const word = (o: number): number => (is64 ? Number(view.getBigUint64(o, true)) : view.getUint32(o, true));
  const sectionOffset = word(is64 ? 40 : 32);
  const sectionSize = view.getUint16(is64 ? 58 : 46, true);
  const sectionCount = view.getUint16(is64 ? 60 : 48, true);
  const section = (i: number) => {
    const o = sectionOffset + i * sectionSize;
    return {
      type: view.getUint32(o + 4, true),
      offset: word(o + (is64 ? 24 : 16)),
      size: word(o + (is64 ? 32 : 20)),
      link: view.getUint32(o + (is64 ? 40 : 24), true),
      entrySize: word(o + (is64 ? 56 : 36)),
    };
  };
  const decoder = new TextDecoder();
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const s = section(i);
    if (s.type !== SHT_SYMTAB) continue;
    const strings = section(s.link);
    for (let o = s.offset; o + s.entrySize <= s.offset + s.size; o += s.entrySize) {
      const nameOffset = view.getUint32(o, true);
      const info = is64 ? view.getUint8(o + 4) : view.getUint8(o + 12);
      const value = is64 ? Number(view.getBigUint64(o + 8, true)) : view.getUint32(o + 4, true);
      const size = is64 ? Number(view.getBigUint64(o + 16, true)) : view.getUint32(o + 8, true);
      const sectionIndex = is64 ? view.getUint16(o + 6, true) : view.getUint16(o + 14, true);
      let end = strings.offset + nameOffset;
      while (end < bytes.length && bytes[end] !== 0) end++;
      const name = decoder.decode(bytes.subarray(strings.offset + nameOffset, end));
      symbols.push({ name, value, size, type: info & 0xf, section: sectionIndex });
    }
  }
  return symbols;
}
