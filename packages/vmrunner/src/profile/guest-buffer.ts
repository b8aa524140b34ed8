/**
 * The sample buffer the guest's stack sampler writes into its own RAM under `uos boot --profile`
 * (native/include/sampler.h). QEMU keeps the guest's RAM in a file (`memory-backend-file`, shared), so
 * the host finds the buffer there after the VM ends: a page-aligned header with the magic and the nonce
 * the runner put on the command line (stale bytes never match), then 8-byte aligned records:
 *   sample    u8 type = 1, u8 flags, u8 native_count, u8 js_count, u32 0, u64 tsc,
 *             u32 native[native_count] (padded to 8), u64 js[js_count] (innermost first)
 *   function  u8 type = 2, u8 0, u16 name_length, u32 bundle_line, u64 key, name (padded to 8)
 *   window    u8 type = 3 (start) or 4 (stop), 7 bytes 0, u64 tsc
 * A key is a kind in its top byte (1 JS bytecode, 2 C function, 3 native symbol, 4 idle) and an address.
 */
import { VmRunnerError } from '../errors.js';

export const PROFILE_MAGIC = 0x31464f5250534f55n; // "UOSPROF1"
export const PROFILE_VERSION = 1;
export const RecordType = { sample: 1, function: 2, windowStart: 3, windowStop: 4 } as const;
export const SampleFlag = { idle: 1, truncated: 2 } as const;
export const KeyKind = { js: 1, c: 2, native: 3, idle: 4 } as const;
export type KeyKind = (typeof KeyKind)[keyof typeof KeyKind];

/** A function key: what kind of code, and its address (a JSFunctionBytecode, a C function, a symbol). */
export interface SampleKey {
  kind: KeyKind;
  address: number;
}

export interface GuestSample {
  /** Nanoseconds since the guest booted (its monotonic clock). */
  timeNs: number;
  idle: boolean;
  /** More JS frames than the sampler keeps: the outermost ones are missing. */
  truncated: boolean;
  /** The interrupted instruction, then return addresses up the frame-pointer chain. */
  native: number[];
  /** JS frames, innermost first. */
  js: SampleKey[];
}

export interface GuestFunction {
  name: string;
  /** The function's first line in the bundle (0 when unknown). */
  bundleLine: number;
}

export interface GuestProfile {
  hz: number;
  samples: GuestSample[];
  /** JS functions by `keyId(key)`. */
  functions: Map<string, GuestFunction>;
  /** profiler.start()/stop() windows in nanoseconds since boot; an open window ends at Infinity. */
  windows: { startNs: number; stopNs: number }[];
  /** Samples taken, and lost to a full buffer. */
  taken: number;
  dropped: number;
}

export const HEADER_SIZE = 80;

export function keyId(key: SampleKey): string {
  return `${key.kind}:${key.address.toString(16)}`;
}

function readKey(view: DataView, at: number): SampleKey {
  const low = view.getUint32(at, true);
  const high = view.getUint32(at + 4, true);
  return { kind: (high >>> 24) as KeyKind, address: (high & 0xffffff) * 2 ** 32 + low };
}

/** The offset of the header for `nonce` in a RAM image, or -1: the magic and nonce at a page boundary. */
export function findProfileHeader(ram: Uint8Array, nonce: bigint): number {
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const magicLow = Number(PROFILE_MAGIC & 0xffffffffn);
  for (let at = 0; at + HEADER_SIZE <= ram.length; at += 4096) {
    if (view.getUint32(at, true) !== magicLow) continue;
    if (view.getBigUint64(at, true) === PROFILE_MAGIC && view.getBigUint64(at + 8, true) === nonce) return at;
  }
  return -1;
}

/** Decodes the buffer at `offset` (a header `findProfileHeader` found). Throws on a malformed buffer. */
export function decodeGuestProfile(ram: Uint8Array, offset: number): GuestProfile {
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const invalid = (why: string): never => {
    throw new VmRunnerError('profile-invalid', `the guest's sample buffer at 0x${offset.toString(16)} is malformed: ${why}`);
  };
  if (offset < 0 || offset + HEADER_SIZE > ram.length) invalid('its header lies outside the RAM image');
  if (view.getBigUint64(offset, true) !== PROFILE_MAGIC) invalid('no magic');
  const version = view.getUint32(offset + 16, true);
  if (version !== PROFILE_VERSION) invalid(`version ${version} is not ${PROFILE_VERSION}`);
  const headerSize = view.getUint32(offset + 20, true);
  const capacity = Number(view.getBigUint64(offset + 24, true));
  const used = Number(view.getBigUint64(offset + 32, true));
  const tscHz = Number(view.getBigUint64(offset + 40, true));
  const tscAtBoot = view.getBigUint64(offset + 48, true);
  const hz = view.getUint32(offset + 56, true);
  const taken = Number(view.getBigUint64(offset + 64, true));
  const dropped = Number(view.getBigUint64(offset + 72, true));
  if (headerSize < HEADER_SIZE || used > capacity || offset + headerSize + used > ram.length) invalid('its sizes do not fit');
  if (!(tscHz > 0)) invalid('no TSC frequency');
  const nanoseconds = (tsc: bigint): number => (Number(tsc - tscAtBoot) / tscHz) * 1e9;

  const profile: GuestProfile = { hz, samples: [], functions: new Map(), windows: [], taken, dropped };
  const end = offset + headerSize + used;
  for (let at = offset + headerSize; at < end; ) {
    if (at + 16 > end) invalid(`a record at +${at - offset} runs past the end`);
    const type = ram[at]!;
    if (type === RecordType.sample) {
      const flags = ram[at + 1]!;
      const nativeCount = ram[at + 2]!;
      const jsCount = ram[at + 3]!;
      const size = 16 + Math.ceil((nativeCount * 4) / 8) * 8 + jsCount * 8;
      if (at + size > end) invalid(`a sample at +${at - offset} runs past the end`);
      const native: number[] = [];
      for (let i = 0; i < nativeCount; i++) native.push(view.getUint32(at + 16 + i * 4, true));
      const jsAt = at + 16 + Math.ceil((nativeCount * 4) / 8) * 8;
      const js: SampleKey[] = [];
      for (let i = 0; i < jsCount; i++) js.push(readKey(view, jsAt + i * 8));
      profile.samples.push({
        timeNs: nanoseconds(view.getBigUint64(at + 8, true)),
        idle: (flags & SampleFlag.idle) !== 0,
        truncated: (flags & SampleFlag.truncated) !== 0,
        native,
        js,
      });
      at += size;
    } else if (type === RecordType.function) {
      const nameLength = view.getUint16(at + 2, true);
      const size = 16 + Math.ceil(nameLength / 8) * 8;
      if (at + size > end) invalid(`a function record at +${at - offset} runs past the end`);
      const name = new TextDecoder().decode(ram.subarray(at + 16, at + 16 + nameLength));
      profile.functions.set(keyId(readKey(view, at + 8)), { name, bundleLine: view.getUint32(at + 4, true) });
      at += size;
    } else if (type === RecordType.windowStart || type === RecordType.windowStop) {
      const timeNs = nanoseconds(view.getBigUint64(at + 8, true));
      const open = profile.windows[profile.windows.length - 1];
      if (type === RecordType.windowStart) {
        if (open && open.stopNs === Number.POSITIVE_INFINITY) open.stopNs = timeNs; // start again: a new window
        profile.windows.push({ startNs: timeNs, stopNs: Number.POSITIVE_INFINITY });
      } else if (open && open.stopNs === Number.POSITIVE_INFINITY) {
        open.stopNs = timeNs;
      }
      at += 16;
    } else {
      invalid(`unknown record type ${type} at +${at - offset}`);
    }
  }
  return profile;
}
