import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { platformDirectory } from '@uos/x86/platform';
import { describe, expect, it } from 'vitest';
import { type ElfSymbol, STT_FUNC, STT_NOTYPE, readSymbols } from './elf.js';
import { decodeSymbols, encodeSymbols } from './symbols.js';

const STT_OBJECT = 1;
const STT_SECTION = 3;
const STT_FILE = 4;

/** symbol_lookup() of native/kernel/panic.c: the last entry whose address <= address, below text end. */
function lookup(blob: Uint8Array, address: number, textEnd: number): { name: string; offset: number } | undefined {
  if (address >= textEnd) return undefined;
  let found: { address: number; name: string } | undefined;
  for (const entry of decodeSymbols(blob)) {
    if (entry.address > address) break;
    found = entry;
  }
  return found && { name: found.name, offset: address - found.address };
}

function symbol(name: string, value: number, type = STT_FUNC, size = 16): ElfSymbol {
  return { name, value, size, type, section: 1 };
}

const textStart = 0x1000;
const textEnd = 0x2000;

describe('encodeSymbols', () => {
  const symbols: ElfSymbol[] = [
    symbol('gamma', 0x1800),
    symbol('alpha', 0x1000),
    symbol('label', 0x1100, STT_NOTYPE),
    symbol('beta', 0x1200),
    symbol('beforeText', 0x0fff),
    symbol('atTextEnd', 0x2000),
    symbol('afterText', 0x3000),
    symbol('anObject', 0x1300, STT_OBJECT),
    symbol('.text', 0x1000, STT_SECTION),
    symbol('kernel.c', 0, STT_FILE),
    symbol('', 0x1400),
    symbol('.Llocal', 0x1500, STT_NOTYPE),
    symbol('lastByte', 0x1fff),
  ];

  it('keeps FUNC and NOTYPE symbols in [textStart, textEnd), sorted by address', () => {
    const entries = decodeSymbols(encodeSymbols(symbols, textStart, textEnd));
    expect(entries.map((e) => [e.address, e.name])).toEqual([
      [0x1000, 'alpha'],
      [0x1100, 'label'],
      [0x1200, 'beta'],
      [0x1800, 'gamma'],
      [0x1fff, 'lastByte'],
    ]);
  });

  it('lays out the count, the token table, then address deltas and front-coded NUL-terminated names', () => {
    const blob = encodeSymbols(
      [symbol('js_array_push', 0x1000), symbol('js_array_pop', 0x1090), symbol('kernel', 0x1200)],
      textStart,
      textEnd,
    );
    expect(Array.from(blob)).toEqual([
      3,
      0,
      0,
      0,
      0, // no pair occurs three times: no tokens
      0x80,
      0x20,
      0,
      ...new TextEncoder().encode('js_array_push'),
      0, // 0x1000 as a varint, nothing shared
      0x90,
      0x01,
      10,
      ...new TextEncoder().encode('op'),
      0, // +0x90, "js_array_p" shared
      0xf0,
      0x02,
      0,
      ...new TextEncoder().encode('kernel'),
      0, // +0x170
    ]);
    expect(decodeSymbols(blob)).toEqual([
      { address: 0x1000, name: 'js_array_push' },
      { address: 0x1090, name: 'js_array_pop' },
      { address: 0x1200, name: 'kernel' },
    ]);
  });

  it('byte-pair encodes frequent pairs into tokens, and decodes them back', () => {
    const names = ['js_map_get', 'js_map_set', 'lre_exec', 'js_map_delete', 'js_string_get', 'lre_compile', 'js_string_set', 'zz_map_x'];
    const blob = encodeSymbols(
      names.map((name, i) => symbol(name, 0x1000 + i * 0x10)),
      textStart,
      textEnd,
    );
    const tokenCount = blob[4]!;
    expect(tokenCount).toBeGreaterThan(0);
    for (let i = 0; i < tokenCount; i++) {
      // A token refers only to bytes or to earlier tokens, so expansion always ends.
      expect(blob[5 + i * 2]!).toBeLessThan(0x80 + i);
      expect(blob[6 + i * 2]!).toBeLessThan(0x80 + i);
    }
    expect(decodeSymbols(blob).map((e) => e.name)).toEqual(names);
    const plain = names.reduce((n, name) => n + name.length + 1, 0);
    expect(blob.length).toBeLessThan(4 + 1 + plain + names.length * 2);
  });

  it('refuses names that are not ASCII (token bytes are 0x80 and up)', () => {
    expect(() => encodeSymbols([symbol('función', 0x1000)], textStart, textEnd)).toThrow(/not ASCII/);
  });

  it('keeps one name per address, preferring a function over a label', () => {
    const entries = decodeSymbols(
      encodeSymbols(
        [
          symbol('label_first', 0x1000, STT_NOTYPE),
          symbol('function_second', 0x1000),
          symbol('function_first', 0x1100),
          symbol('label_second', 0x1100, STT_NOTYPE),
          symbol('label_a', 0x1200, STT_NOTYPE),
          symbol('label_b', 0x1200, STT_NOTYPE),
          symbol('isr_14', 0x1300, STT_NOTYPE),
          symbol('isr_common', 0x1300),
        ],
        textStart,
        textEnd,
      ),
    );
    expect(entries.map((e) => [e.address, e.name])).toEqual([
      [0x1000, 'function_second'],
      [0x1100, 'function_first'],
      [0x1200, 'label_a'],
      [0x1300, 'isr_14'],
    ]);
  });

  it('encodes an empty table when no symbol qualifies', () => {
    const blob = encodeSymbols([symbol('outside', 0x10)], textStart, textEnd);
    expect(Array.from(blob)).toEqual([0, 0, 0, 0, 0]);
    expect(lookup(blob, 0x1000, textEnd)).toBeUndefined();
  });

  it('answers lookups the way panic.c does', () => {
    const blob = encodeSymbols(symbols, textStart, textEnd);
    expect(lookup(blob, 0x0fff, textEnd)).toBeUndefined();
    expect(lookup(blob, 0x1000, textEnd)).toEqual({ name: 'alpha', offset: 0 });
    expect(lookup(blob, 0x10ff, textEnd)).toEqual({ name: 'alpha', offset: 0xff });
    expect(lookup(blob, 0x1100, textEnd)).toEqual({ name: 'label', offset: 0 });
    expect(lookup(blob, 0x1301, textEnd)).toEqual({ name: 'beta', offset: 0x101 });
    expect(lookup(blob, 0x1fff, textEnd)).toEqual({ name: 'lastByte', offset: 0 });
    expect(lookup(blob, 0x2000, textEnd)).toBeUndefined();
  });
});

describe.each(['uos-multiboot.elf', 'uos-pvh.elf'])('encodeSymbols on the platform %s', (file) => {
  function platformSymbols(): { symbols: ElfSymbol[]; start: number; end: number } {
    const path = join(platformDirectory, file);
    if (!existsSync(path)) {
      throw new Error(`the native platform is not built: ${path} is missing; run \`pnpm --filter @uos/x86 build\``);
    }
    const symbols = readSymbols(new Uint8Array(readFileSync(path)));
    const start = symbols.find((s) => s.name === '__kernel_start')?.value;
    const end = symbols.find((s) => s.name === '__text_end')?.value;
    if (start === undefined || end === undefined) throw new Error(`${path} has no __kernel_start or __text_end`);
    return { symbols, start, end };
  }

  function find(symbols: readonly ElfSymbol[], name: string): ElfSymbol {
    const found = symbols.find((s) => s.name === name);
    if (!found) expect.fail(`${file} has no symbol ${name}`);
    return found;
  }

  it('keeps one entry per distinct text address, strictly ascending', () => {
    const { symbols, start, end } = platformSymbols();
    const entries = decodeSymbols(encodeSymbols(symbols, start, end));
    const expected = new Set(
      symbols
        .filter(
          (s) => (s.type === STT_FUNC || s.type === STT_NOTYPE) && s.name && !s.name.startsWith('.') && s.value >= start && s.value < end,
        )
        .map((s) => s.value),
    );
    expect(entries.length).toBe(expected.size);
    expect(entries.length).toBeGreaterThan(1000);
    entries.forEach((entry, i) => {
      if (i > 0) expect(entry.address).toBeGreaterThan(entries[i - 1]!.address);
      expect(entry.address).toBeGreaterThanOrEqual(start);
      expect(entry.address).toBeLessThan(end);
    });
  });

  it.each(['js_run', 'kernel_entry', 'JS_CallInternal'])('maps addresses inside %s to it', (name) => {
    const { symbols, start, end } = platformSymbols();
    const blob = encodeSymbols(symbols, start, end);
    const target = find(symbols, name);
    expect(target.size).toBeGreaterThan(1);
    for (const offset of [0, 1, Math.floor(target.size / 2), target.size - 1]) {
      expect(lookup(blob, target.value + offset, end), `${name}+${offset}`).toEqual({ name, offset });
    }
  });

  it('maps no address before the kernel or from the end of text on', () => {
    const { symbols, start, end } = platformSymbols();
    const blob = encodeSymbols(symbols, start, end);
    expect(lookup(blob, start - 1, end)).toBeUndefined();
    expect(lookup(blob, end, end)).toBeUndefined();
    expect(lookup(blob, find(symbols, '__payload_start').value, end)).toBeUndefined();
  });

  it('names every function of the text with itself or a symbol at the same address', () => {
    const { symbols, start, end } = platformSymbols();
    const blob = encodeSymbols(symbols, start, end);
    const namesByAddress = new Map<number, Set<string>>();
    for (const s of symbols) namesByAddress.set(s.value, (namesByAddress.get(s.value) ?? new Set()).add(s.name));
    const functions = symbols.filter((s) => s.type === STT_FUNC && s.value >= start && s.value < end);
    expect(functions.length).toBeGreaterThan(1000);
    for (const f of functions) {
      const found = lookup(blob, f.value, end);
      expect(found?.offset, f.name).toBe(0);
      expect(namesByAddress.get(f.value)?.has(found!.name), `${f.name} at 0x${f.value.toString(16)} named ${found?.name}`).toBe(true);
    }
  });
});
