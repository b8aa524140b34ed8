import { describe, expect, it } from 'vitest';
import { VmRunnerError } from '../errors.js';
import {
  HEADER_SIZE,
  KeyKind,
  PROFILE_MAGIC,
  RecordType,
  SampleFlag,
  decodeGuestProfile,
  findProfileHeader,
  keyId,
} from './guest-buffer.js';

const TSC_HZ = 2_000_000_000;
const TSC_AT_BOOT = 1_000_000n;

/** Writes records the way native/kernel/sampler.c and js-profiler.c do (little-endian, 8-byte aligned). */
class BufferWriter {
  readonly records: number[] = [];

  private u8(v: number): void {
    this.records.push(v & 0xff);
  }
  private u16(v: number): void {
    this.u8(v);
    this.u8(v >> 8);
  }
  private u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16(v >>> 16);
  }
  private u64(v: bigint): void {
    this.u32(Number(v & 0xffffffffn));
    this.u32(Number(v >> 32n));
  }
  private pad(): void {
    while (this.records.length % 8) this.u8(0);
  }
  static key(kind: number, address: number): bigint {
    return (BigInt(kind) << 56n) | BigInt(address);
  }
  static tscOfMs(ms: number): bigint {
    return TSC_AT_BOOT + BigInt(Math.round((ms / 1000) * TSC_HZ));
  }

  sample(ms: number, native: number[], js: bigint[], flags = 0): this {
    this.u8(RecordType.sample);
    this.u8(flags);
    this.u8(native.length);
    this.u8(js.length);
    this.u32(0);
    this.u64(BufferWriter.tscOfMs(ms));
    for (const a of native) this.u32(a);
    this.pad();
    for (const k of js) this.u64(k);
    return this;
  }
  fn(key: bigint, name: string, line: number): this {
    const bytes = new TextEncoder().encode(name);
    this.u8(RecordType.function);
    this.u8(0);
    this.u16(bytes.length);
    this.u32(line);
    this.u64(key);
    for (const b of bytes) this.u8(b);
    this.pad();
    return this;
  }
  window(type: number, ms: number): this {
    this.u8(type);
    for (let i = 0; i < 7; i++) this.u8(0);
    this.u64(BufferWriter.tscOfMs(ms));
    return this;
  }

  /** A RAM image: poison, the header at `at` (page-aligned), the records, more poison. */
  ram(at: number, nonce: bigint, { taken = 0, dropped = 0, hz = 997 } = {}): Uint8Array {
    const headerSize = 4096;
    const ram = new Uint8Array(at + headerSize + this.records.length + 8192).fill(0xa5);
    const view = new DataView(ram.buffer);
    view.setBigUint64(at, PROFILE_MAGIC, true);
    view.setBigUint64(at + 8, nonce, true);
    view.setUint32(at + 16, 1, true);
    view.setUint32(at + 20, headerSize, true);
    view.setBigUint64(at + 24, BigInt(this.records.length + 4096), true);
    view.setBigUint64(at + 32, BigInt(this.records.length), true);
    view.setBigUint64(at + 40, BigInt(TSC_HZ), true);
    view.setBigUint64(at + 48, TSC_AT_BOOT, true);
    view.setUint32(at + 56, hz, true);
    view.setBigUint64(at + 64, BigInt(taken), true);
    view.setBigUint64(at + 72, BigInt(dropped), true);
    ram.set(this.records, at + headerSize);
    return ram;
  }
}

describe('the guest sample buffer', () => {
  const nonce = 0x1234_5678_9abc_def0n;
  const hot = BufferWriter.key(KeyKind.js, 0x2_0000_1230);
  const push = BufferWriter.key(KeyKind.c, 0x10_4567);

  it('is found by its magic and nonce at a page boundary, not by the magic alone', () => {
    const writer = new BufferWriter().sample(1, [0x10_0000], []);
    const ram = writer.ram(3 * 4096, nonce);
    // A stale buffer of an earlier boot, and the magic where it is not page-aligned.
    const view = new DataView(ram.buffer);
    view.setBigUint64(4096, PROFILE_MAGIC, true);
    view.setBigUint64(4096 + 8, nonce + 1n, true);
    view.setBigUint64(2 * 4096 + 16, PROFILE_MAGIC, true);
    view.setBigUint64(2 * 4096 + 24, nonce, true);
    expect(findProfileHeader(ram, nonce)).toBe(3 * 4096);
    expect(findProfileHeader(ram, nonce + 2n)).toBe(-1);
  });

  it('decodes samples, functions and windows, with times in nanoseconds since boot', () => {
    const writer = new BufferWriter()
      .window(RecordType.windowStart, 5)
      .sample(6, [0x11_2233, 0x11_4455, 0x11_6677], [push, hot])
      .sample(7, [], [], SampleFlag.idle)
      .fn(hot, 'hotLoop', 42)
      .sample(8, [0x11_2233], [hot], SampleFlag.truncated)
      .window(RecordType.windowStop, 9);
    const ram = writer.ram(8192, nonce, { taken: 3, dropped: 2, hz: 1000 });
    const profile = decodeGuestProfile(ram, findProfileHeader(ram, nonce));
    expect(profile).toMatchObject({ hz: 1000, taken: 3, dropped: 2, windows: [{ startNs: 5e6, stopNs: 9e6 }] });
    expect(profile.samples).toHaveLength(3);
    expect(profile.samples[0]).toEqual({
      timeNs: 6e6,
      idle: false,
      truncated: false,
      native: [0x11_2233, 0x11_4455, 0x11_6677],
      js: [
        { kind: KeyKind.c, address: 0x10_4567 },
        { kind: KeyKind.js, address: 0x2_0000_1230 },
      ],
    });
    expect(profile.samples[1]).toMatchObject({ timeNs: 7e6, idle: true, native: [], js: [] });
    expect(profile.samples[2]).toMatchObject({ truncated: true });
    expect(profile.functions.get(keyId({ kind: KeyKind.js, address: 0x2_0000_1230 }))).toEqual({ name: 'hotLoop', bundleLine: 42 });
  });

  it('leaves a window open to the end when the service never stopped it, and starts a new one on start', () => {
    const writer = new BufferWriter()
      .window(RecordType.windowStart, 1)
      .window(RecordType.windowStart, 2)
      .window(RecordType.windowStop, 3)
      .window(RecordType.windowStop, 4)
      .window(RecordType.windowStart, 5);
    const ram = writer.ram(0, nonce);
    expect(decodeGuestProfile(ram, 0).windows).toEqual([
      { startNs: 1e6, stopNs: 2e6 },
      { startNs: 2e6, stopNs: 3e6 },
      { startNs: 5e6, stopNs: Number.POSITIVE_INFINITY },
    ]);
  });

  it('refuses a malformed buffer with a clear error instead of reading garbage', () => {
    const cases: [string, (ram: Uint8Array, view: DataView) => void, RegExp][] = [
      ['an unknown record', (ram) => (ram[4096] = 9), /unknown record type 9/],
      ['a record past the end', (_, view) => view.setBigUint64(32, 20n, true), /runs past the end/],
      ['more used than the capacity', (_, view) => view.setBigUint64(32, 1n << 40n, true), /sizes do not fit/],
      ['another version', (_, view) => view.setUint32(16, 2, true), /version 2/],
      ['no TSC frequency', (_, view) => view.setBigUint64(40, 0n, true), /TSC/],
    ];
    for (const [, spoil, message] of cases) {
      const ram = new BufferWriter().sample(1, [1, 2, 3], [hot]).ram(0, nonce);
      spoil(ram, new DataView(ram.buffer));
      let error: unknown;
      try {
        decodeGuestProfile(ram, 0);
      } catch (e) {
        error = e;
      }
      expect(VmRunnerError.isInstance(error)).toBe(true);
      expect((error as VmRunnerError).code).toBe('profile-invalid');
      expect((error as Error).message).toMatch(message);
    }
    expect(() => decodeGuestProfile(new Uint8Array(HEADER_SIZE - 1), 0)).toThrow(/outside the RAM image/);
  });
});
