/**
 * TCP segment headers (RFC 9293) with the options the stack speaks: MSS, window scale and timestamps
 * (RFC 7323), SACK-permitted and SACK blocks (RFC 2018). The checksum covers the pseudo-header (IPv4's or
 * IPv6's), the header and the payload. Options are emitted in Linux's layout, so every option sits 32-bit aligned.
 */
import type { IpAddress } from './address.js';
import { checksumFold, checksumSum, pseudoHeaderSum } from './checksum.js';
import { IpProtocolValue } from './ipv4.js';
import { type WireErrorKind, type WireResult, wireError, wireOk } from './result.js';

/** Field offsets of a TCP header. */
const Field = {
  sourcePort: 0,
  destinationPort: 2,
  sequence: 4,
  acknowledgment: 8,
  dataOffset: 12,
  flags: 13,
  window: 14,
  checksum: 16,
  urgentPointer: 18,
} as const;

export const TCP_HEADER_LENGTH = 20;
/** A data offset of 15 words: 40 bytes of options at most. */
const MAX_HEADER_LENGTH = 60;

export const TcpFlag = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ece: 0x40, cwr: 0x80 } as const;

/** Option kinds (the IANA "TCP Option Kind Numbers") and the lengths the known ones must have. */
const OptionKind = { end: 0, nop: 1, mss: 2, windowScale: 3, sackPermitted: 4, sack: 5, timestamps: 8 } as const;
const OptionLength = { mss: 4, windowScale: 3, sackPermitted: 2, sackBase: 2, sackBlock: 8, timestamps: 10 } as const;
/** At most 4 SACK blocks fit in 40 bytes of options (3 beside timestamps). */
const MAX_SACK_BLOCKS = 4;

export type TcpOption =
  | { kind: 'end' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'window-scale'; shift: number }
  | { kind: 'sack-permitted' }
  | { kind: 'sack'; blocks: [number, number][] }
  | { kind: 'timestamps'; value: number; echo: number }
  | { kind: 'unknown'; type: number; data: Uint8Array };

function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Four option bytes at `at`; returns the offset after them. */
function put4(bytes: Uint8Array, at: number, a: number, b: number, c: number, d: number): number {
  bytes[at] = a;
  bytes[at + 1] = b;
  bytes[at + 2] = c;
  bytes[at + 3] = d;
  return at + 4;
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 24) & 0xff;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

/**
 * A view of a TCP segment (the IPv4 payload, exactly: TCP has no length field of its own). Construct it
 * with `checked()` on untrusted bytes; after that, getters never throw.
 */
export class TcpPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /**
   * The segment, if it holds a 20-byte header, its data offset is at least 5 words ('malformed' under)
   * and the header with its options fits in `bytes` ('truncated' otherwise).
   */
  static checked(bytes: Uint8Array): WireResult<TcpPacket> {
    if (bytes.length < TCP_HEADER_LENGTH) return wireError('truncated', `${bytes.length} bytes is shorter than a TCP header`);
    const headerLength = (bytes[Field.dataOffset]! >> 4) * 4;
    if (headerLength < TCP_HEADER_LENGTH) return wireError('malformed', `TCP data offset ${headerLength} is under 20`);
    if (headerLength > bytes.length) return wireError('truncated', `TCP data offset ${headerLength} exceeds the ${bytes.length} bytes`);
    return wireOk(new TcpPacket(bytes));
  }

  get sourcePort(): number {
    return readU16(this.bytes, Field.sourcePort);
  }
  get destinationPort(): number {
    return readU16(this.bytes, Field.destinationPort);
  }
  /** Unsigned 32-bit. */
  get sequence(): number {
    return readU32(this.bytes, Field.sequence);
  }
  /** Unsigned 32-bit; meaningful when the ACK flag is set. */
  get acknowledgment(): number {
    return readU32(this.bytes, Field.acknowledgment);
  }
  /** In bytes (data offset × 4): 20..60. */
  get headerLength(): number {
    return (this.bytes[Field.dataOffset]! >> 4) * 4;
  }
  /** The eight flag bits, CWR to FIN (see `TcpFlag`). */
  get flags(): number {
    return this.bytes[Field.flags]!;
  }
  /** Unscaled, as on the wire. */
  get window(): number {
    return readU16(this.bytes, Field.window);
  }
  get checksum(): number {
    return readU16(this.bytes, Field.checksum);
  }
  get urgentPointer(): number {
    return readU16(this.bytes, Field.urgentPointer);
  }
  /** The options area, between the fixed header and the data offset. */
  get optionBytes(): Uint8Array {
    return this.bytes.subarray(TCP_HEADER_LENGTH, this.headerLength);
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength);
  }

  /** Whether the checksum verifies over this pseudo-header, the header and the payload. */
  verifyChecksum(source: IpAddress, destination: IpAddress): boolean {
    const length = this.bytes.length;
    return checksumFold(checksumSum(this.bytes, 0, length, pseudoHeaderSum(source, destination, IpProtocolValue.tcp, length))) === 0;
  }
}

/**
 * Walks the options area, calling `visit` with each option's kind, offset and length (1 for EOL and NOP);
 * stops after EOL. Returns what is malformed, or undefined when the area is well formed.
 */
function walkOptions(bytes: Uint8Array, visit: (kind: number, at: number, length: number) => void): string | undefined {
  let at = 0;
  while (at < bytes.length) {
    const kind = bytes[at]!;
    if (kind === OptionKind.end) {
      visit(kind, at, 1);
      return undefined;
    }
    if (kind === OptionKind.nop) {
      visit(kind, at, 1);
      at += 1;
      continue;
    }
    const problem = optionProblem(bytes, at, kind);
    if (problem !== undefined) return problem;
    const length = bytes[at + 1]!;
    visit(kind, at, length);
    at += length;
  }
  return undefined;
}

/**
 * What is wrong with the option of `kind` (not EOL or NOP) at `at` in an options area ending at `end`,
 * or undefined when it is well formed.
 */
function optionProblem(bytes: Uint8Array, at: number, kind: number, end = bytes.length): string | undefined {
  if (at + 1 >= end) return `TCP option ${kind} has no length byte`;
  const length = bytes[at + 1]!;
  if (length < 2) return `TCP option ${kind} has length ${length}`;
  if (at + length > end) return `TCP option ${kind} of length ${length} runs past the header`;
  const expected =
    kind === OptionKind.mss
      ? OptionLength.mss
      : kind === OptionKind.windowScale
        ? OptionLength.windowScale
        : kind === OptionKind.sackPermitted
          ? OptionLength.sackPermitted
          : kind === OptionKind.timestamps
            ? OptionLength.timestamps
            : undefined;
  if (expected !== undefined && length !== expected) return `TCP option ${kind} has length ${length}, not ${expected}`;
  if (
    kind === OptionKind.sack &&
    (length < OptionLength.sackBase + OptionLength.sackBlock || (length - OptionLength.sackBase) % OptionLength.sackBlock !== 0)
  ) {
    return `TCP SACK option has length ${length}`;
  }
  return undefined;
}

function sackBlocksAt(bytes: Uint8Array, at: number, length: number): [number, number][] {
  const blocks: [number, number][] = [];
  for (let i = at + OptionLength.sackBase; i < at + length; i += OptionLength.sackBlock)
    blocks.push([readU32(bytes, i), readU32(bytes, i + 4)]);
  return blocks;
}

/** Options in order; malformed (a length past the header, a known option with the wrong length) -> error 'malformed'. */
export function parseTcpOptions(bytes: Uint8Array): WireResult<TcpOption[]> {
  const options: TcpOption[] = [];
  const problem = walkOptions(bytes, (kind, at, length) => {
    switch (kind) {
      case OptionKind.end:
        options.push({ kind: 'end' });
        break;
      case OptionKind.nop:
        options.push({ kind: 'nop' });
        break;
      case OptionKind.mss:
        options.push({ kind: 'mss', value: readU16(bytes, at + 2) });
        break;
      case OptionKind.windowScale:
        options.push({ kind: 'window-scale', shift: bytes[at + 2]! });
        break;
      case OptionKind.sackPermitted:
        options.push({ kind: 'sack-permitted' });
        break;
      case OptionKind.sack:
        options.push({ kind: 'sack', blocks: sackBlocksAt(bytes, at, length) });
        break;
      case OptionKind.timestamps:
        options.push({ kind: 'timestamps', value: readU32(bytes, at + 2), echo: readU32(bytes, at + 6) });
        break;
      default:
        options.push({ kind: 'unknown', type: kind, data: bytes.subarray(at + 2, at + length) });
    }
  });
  return problem === undefined ? wireOk(options) : wireError('malformed', problem);
}

export interface TcpRepr {
  sourcePort: number;
  destinationPort: number;
  sequence: number;
  acknowledgment: number;
  /** The eight flag bits (see `TcpFlag`). */
  flags: number;
  /** Unscaled, as on the wire. */
  window: number;
  /** Parsed only when URG is set; emitted as 0 when absent. */
  urgentPointer?: number;
  mss?: number;
  /** The shift count as sent (RFC 7323 caps its use at 14; the parser keeps what arrived). */
  windowScale?: number;
  sackPermitted?: boolean;
  /** [left edge, right edge) pairs; at most 4 written, 3 with timestamps (fewer if MSS and window scale take room). */
  sackBlocks?: [number, number][];
  timestamps?: { value: number; echo: number };
}

/** A parsed segment: the header's fields and options, and the payload (a view into the packet's bytes). */
export type TcpSegment = TcpRepr & { payload: Uint8Array };

/**
 * The header fields, the known options and the payload. 'checksum' when it does not verify and
 * `verifyChecksum` is not false; 'malformed' when the options are. Unknown options are skipped; a
 * repeated option's last occurrence wins.
 */
export function parseTcp(
  packet: TcpPacket,
  source: IpAddress,
  destination: IpAddress,
  options?: { verifyChecksum?: boolean },
): WireResult<TcpSegment> {
  if (options?.verifyChecksum !== false && !packet.verifyChecksum(source, destination)) {
    return wireError('checksum', `TCP checksum 0x${packet.checksum.toString(16)} does not verify`);
  }
  // Read straight from the bytes (no getters, no callbacks): this runs for every segment, and in the
  // image's interpreter each call costs microseconds.
  const b = packet.bytes;
  const flags = b[13]!;
  const headerLength = (b[12]! >> 4) * 4;
  const repr: TcpSegment = {
    sourcePort: (b[0]! << 8) | b[1]!,
    destinationPort: (b[2]! << 8) | b[3]!,
    sequence: ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0,
    acknowledgment: ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0,
    flags,
    window: (b[14]! << 8) | b[15]!,
    payload: b.subarray(headerLength),
  };
  if (flags & TcpFlag.urg) repr.urgentPointer = (b[18]! << 8) | b[19]!;
  const end = headerLength;
  let at = TCP_HEADER_LENGTH;
  while (at < end) {
    const kind = b[at]!;
    if (kind === OptionKind.end) break;
    if (kind === OptionKind.nop) {
      at++;
      continue;
    }
    const problem = optionProblem(b, at, kind, end);
    if (problem !== undefined) return wireError('malformed', problem);
    const length = b[at + 1]!;
    if (kind === OptionKind.timestamps) repr.timestamps = { value: readU32(b, at + 2), echo: readU32(b, at + 6) };
    else if (kind === OptionKind.sack) repr.sackBlocks = sackBlocksAt(b, at, length);
    else if (kind === OptionKind.mss) repr.mss = (b[at + 2]! << 8) | b[at + 3]!;
    else if (kind === OptionKind.windowScale) repr.windowScale = b[at + 2]!;
    else if (kind === OptionKind.sackPermitted) repr.sackPermitted = true;
    at += length;
  }
  return wireOk(repr);
}

/**
 * A repr with every field its own property (the options undefined), for a data path to refill again and
 * again: in QuickJS a property the object lacks is looked for on its prototypes too, at every read.
 */
export function emptyTcpRepr(): TcpRepr {
  return {
    sourcePort: 0,
    destinationPort: 0,
    sequence: 0,
    acknowledgment: 0,
    flags: 0,
    window: 0,
    urgentPointer: undefined,
    mss: undefined,
    windowScale: undefined,
    sackPermitted: undefined,
    sackBlocks: undefined,
    timestamps: undefined,
  };
}

/** A segment for `readTcpSegment` to fill in, again and again. */
export function emptyTcpSegment(): TcpSegment {
  return { ...emptyTcpRepr(), payload: new Uint8Array(0) };
}

/**
 * `TcpPacket.checked` and `parseTcp` in one pass for the data path: reads `bytes` (the IP payload,
 * untrusted) into `into`, a segment the caller reuses from one call to the next (see `emptyTcpSegment`),
 * its timestamps into `timestamps` (also reused). Returns undefined when the segment is good, else what
 * is wrong. Nothing is allocated but the SACK blocks of a segment that has them; `into` is valid until
 * the next call.
 */
export function readTcpSegment(
  bytes: Uint8Array,
  source: IpAddress,
  destination: IpAddress,
  verifyChecksum: boolean,
  into: TcpSegment,
  timestamps: { value: number; echo: number },
): WireErrorKind | undefined {
  const length = bytes.length;
  if (length < TCP_HEADER_LENGTH) return 'truncated';
  const headerLength = (bytes[12]! >> 4) * 4;
  if (headerLength < TCP_HEADER_LENGTH) return 'malformed';
  if (headerLength > length) return 'truncated';
  if (
    verifyChecksum &&
    checksumFold(checksumSum(bytes, 0, length, pseudoHeaderSum(source, destination, IpProtocolValue.tcp, length))) !== 0
  ) {
    return 'checksum';
  }
  const b = bytes;
  const flags = b[13]!;
  into.sourcePort = (b[0]! << 8) | b[1]!;
  into.destinationPort = (b[2]! << 8) | b[3]!;
  into.sequence = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  into.acknowledgment = ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0;
  into.flags = flags;
  into.window = (b[14]! << 8) | b[15]!;
  into.payload = b.subarray(headerLength);
  into.urgentPointer = flags & TcpFlag.urg ? (b[18]! << 8) | b[19]! : undefined;
  into.mss = undefined;
  into.windowScale = undefined;
  into.sackPermitted = undefined;
  into.sackBlocks = undefined;
  into.timestamps = undefined;
  let at = TCP_HEADER_LENGTH;
  while (at < headerLength) {
    const kind = b[at]!;
    if (kind === 0) break; // end of options
    if (kind === 1) {
      at++; // NOP
      continue;
    }
    // The usual option of a data segment, checked and read inline.
    if (kind === 8 && at + 10 <= headerLength && b[at + 1] === 10) {
      timestamps.value = ((b[at + 2]! << 24) | (b[at + 3]! << 16) | (b[at + 4]! << 8) | b[at + 5]!) >>> 0;
      timestamps.echo = ((b[at + 6]! << 24) | (b[at + 7]! << 16) | (b[at + 8]! << 8) | b[at + 9]!) >>> 0;
      into.timestamps = timestamps;
      at += 10;
      continue;
    }
    if (optionProblem(b, at, kind, headerLength) !== undefined) return 'malformed';
    const optionLength = b[at + 1]!;
    if (kind === OptionKind.timestamps) {
      timestamps.value = readU32(b, at + 2);
      timestamps.echo = readU32(b, at + 6);
      into.timestamps = timestamps;
    } else if (kind === OptionKind.sack) into.sackBlocks = sackBlocksAt(b, at, optionLength);
    else if (kind === OptionKind.mss) into.mss = (b[at + 2]! << 8) | b[at + 3]!;
    else if (kind === OptionKind.windowScale) into.windowScale = b[at + 2]!;
    else if (kind === OptionKind.sackPermitted) into.sackPermitted = true;
    at += optionLength;
  }
  return undefined;
}

/** Bytes of the options other than SACK blocks, in Linux's layout (each a multiple of 4). */
function fixedOptionsLength(repr: TcpRepr): number {
  let length = 0;
  if (repr.mss !== undefined) length += 4;
  if (repr.timestamps)
    length += 12; // SACK-permitted (or NOP NOP) then the timestamps
  else if (repr.sackPermitted) length += 4; // NOP NOP SACK-permitted
  if (repr.windowScale !== undefined) length += 4; // NOP then window scale
  return length;
}

/** How many of the repr's SACK blocks fit after the other options. */
function sackBlockCount(repr: TcpRepr, fixedLength: number): number {
  if (!repr.sackBlocks?.length) return 0;
  const room = Math.floor((MAX_HEADER_LENGTH - TCP_HEADER_LENGTH - fixedLength - 4) / OptionLength.sackBlock);
  return Math.max(0, Math.min(repr.sackBlocks.length, MAX_SACK_BLOCKS, room));
}

/** 20 + options, a multiple of 4 (at most 60): the layout needs no padding. */
export function tcpHeaderLength(repr: TcpRepr): number {
  // The usual data segment (timestamps or nothing): no layout work.
  if (repr.mss === undefined && repr.windowScale === undefined && repr.sackPermitted === undefined && repr.sackBlocks === undefined) {
    return repr.timestamps ? TCP_HEADER_LENGTH + 12 : TCP_HEADER_LENGTH;
  }
  const fixed = fixedOptionsLength(repr);
  const blocks = sackBlockCount(repr, fixed);
  return TCP_HEADER_LENGTH + fixed + (blocks ? 4 + blocks * OptionLength.sackBlock : 0);
}

/**
 * Writes header + options into buffer[at..at+headerLength]; the payload is already at
 * buffer[at+headerLength..at+headerLength+payloadLength]; computes the checksum over the pseudo-header,
 * header and payload; returns headerLength + payloadLength. Option layout like Linux: MSS, SACK-permitted,
 * timestamps, NOP, window scale on SYNs; NOP NOP timestamps then NOP NOP SACK on others. Whatever
 * options the repr holds are written, whatever the flags: choosing them is the caller's business. With
 * `partialChecksum` the checksum field gets the pseudo-header's sum only, for a NIC to complete. The
 * fixed header's fields are stored inline, byte by byte (no helper call per field, no view made for
 * `at`): this runs for every segment sent, where each call costs.
 */
export function emitTcp(
  repr: TcpRepr,
  buffer: Uint8Array,
  payloadLength: number,
  source: IpAddress,
  destination: IpAddress,
  partialChecksum = false,
  at = 0,
): number {
  const timestamps = repr.timestamps;
  const sackBlocks = repr.sackBlocks;
  // The usual data segment (timestamps or none, nothing else) needs no layout work.
  const plain = repr.mss === undefined && repr.windowScale === undefined && repr.sackPermitted === undefined && sackBlocks === undefined;
  const fixed = plain ? (timestamps ? 12 : 0) : fixedOptionsLength(repr);
  const blocks = plain ? 0 : sackBlockCount(repr, fixed);
  const headerLength = TCP_HEADER_LENGTH + fixed + (blocks ? 4 + blocks * OptionLength.sackBlock : 0);
  const b = buffer;
  const sourcePort = repr.sourcePort;
  const destinationPort = repr.destinationPort;
  // Sequence numbers at or above 2^31 are doubles in QuickJS, and each bitwise operation on a double
  // takes the engine's slow path: converted to int32 once (the same bits), every byte below is int work.
  // A Uint8Array store keeps the low 8 bits itself, so bytes that need no shift need no mask either.
  const sequence = repr.sequence | 0;
  const acknowledgment = repr.acknowledgment | 0;
  const window = repr.window;
  const urgent = repr.urgentPointer ?? 0;
  b[at] = sourcePort >>> 8;
  b[at + 1] = sourcePort;
  b[at + 2] = destinationPort >>> 8;
  b[at + 3] = destinationPort;
  b[at + 4] = sequence >>> 24;
  b[at + 5] = sequence >>> 16;
  b[at + 6] = sequence >>> 8;
  b[at + 7] = sequence;
  b[at + 8] = acknowledgment >>> 24;
  b[at + 9] = acknowledgment >>> 16;
  b[at + 10] = acknowledgment >>> 8;
  b[at + 11] = acknowledgment;
  b[at + 12] = (headerLength / 4) << 4;
  b[at + 13] = repr.flags;
  b[at + 14] = window >>> 8;
  b[at + 15] = window;
  b[at + 16] = 0;
  b[at + 17] = 0;
  b[at + 18] = urgent >>> 8;
  b[at + 19] = urgent;

  // Options: four bytes at a time (no closure: this runs for every segment).
  let o = at + TCP_HEADER_LENGTH;
  if (repr.mss !== undefined) o = put4(b, o, OptionKind.mss, OptionLength.mss, (repr.mss >>> 8) & 0xff, repr.mss & 0xff);
  if (timestamps) {
    if (repr.sackPermitted)
      o = put4(b, o, OptionKind.sackPermitted, OptionLength.sackPermitted, OptionKind.timestamps, OptionLength.timestamps);
    else {
      // NOP NOP, then the timestamps option's kind (8) and length (10).
      b[o] = 1;
      b[o + 1] = 1;
      b[o + 2] = 8;
      b[o + 3] = 10;
      o += 4;
    }
    const value = timestamps.value | 0;
    const echo = timestamps.echo | 0;
    b[o] = value >>> 24;
    b[o + 1] = value >>> 16;
    b[o + 2] = value >>> 8;
    b[o + 3] = value;
    b[o + 4] = echo >>> 24;
    b[o + 5] = echo >>> 16;
    b[o + 6] = echo >>> 8;
    b[o + 7] = echo;
    o += 8;
  } else if (repr.sackPermitted) {
    o = put4(b, o, OptionKind.nop, OptionKind.nop, OptionKind.sackPermitted, OptionLength.sackPermitted);
  }
  if (repr.windowScale !== undefined)
    o = put4(b, o, OptionKind.nop, OptionKind.windowScale, OptionLength.windowScale, repr.windowScale & 0xff);
  if (blocks) {
    o = put4(b, o, OptionKind.nop, OptionKind.nop, OptionKind.sack, OptionLength.sackBase + blocks * OptionLength.sackBlock);
    for (let i = 0; i < blocks; i++) {
      const block = sackBlocks![i]!;
      writeU32(b, o, block[0]);
      writeU32(b, o + 4, block[1]);
      o += 8;
    }
  }

  const length = headerLength + payloadLength;
  const pseudo = pseudoHeaderSum(source, destination, IpProtocolValue.tcp, length);
  // Offloaded: the NIC sums the segment from the header on, starting from the pseudo-header's folded sum.
  const sum = partialChecksum ? ~checksumFold(pseudo) & 0xffff : checksumFold(checksumSum(b, at, at + length, pseudo));
  b[at + 16] = (sum >>> 8) & 0xff;
  b[at + 17] = sum & 0xff;
  return length;
}
