/**
 * ICMPv4 messages (RFC 792): echo request and reply, destination unreachable (with the next-hop MTU of
 * RFC 1191 for code 4) and time exceeded; any other type is kept as data. The checksum covers the whole
 * message, so the packet is the IP payload up to the total length.
 */
import { checksum } from './checksum.js';
import { type WireResult, wireError, wireOk } from './result.js';

/** Field offsets of an ICMPv4 header; the four bytes at `rest` depend on the type. */
const Field = { type: 0, code: 1, checksum: 2, rest: 4, identifier: 4, sequence: 6, nextHopMtu: 6, body: 8 } as const;

/** Type, code and checksum: what every message has before its type-dependent part. */
const COMMON_LENGTH = 4;
/** The common part and the four type-dependent bytes. */
const HEADER_LENGTH = 8;

/** Types the stack knows. */
export const Icmpv4Type = { echoReply: 0, destinationUnreachable: 3, echoRequest: 8, timeExceeded: 11 } as const;

/** Codes of destination unreachable. */
export const UnreachableCode = { network: 0, host: 1, protocol: 2, port: 3, fragmentationNeeded: 4 } as const;

export type Icmpv4Message =
  | { kind: 'echo-request' | 'echo-reply'; identifier: number; sequence: number; data: Uint8Array }
  /** `original`: what follows the 8-byte header, as received (the offending IP header and at least 8 bytes of its payload). */
  | { kind: 'destination-unreachable'; code: number; nextHopMtu: number; original: Uint8Array }
  | { kind: 'time-exceeded'; code: number; original: Uint8Array }
  | { kind: 'unknown'; type: number; code: number; body: Uint8Array };

/**
 * A view of an ICMPv4 message. Construct it with `checked()` on untrusted bytes; after that, getters
 * never throw.
 */
export class Icmpv4Packet {
  private constructor(readonly bytes: Uint8Array) {}

  /** The message, if it has at least its 8-byte header. */
  static checked(bytes: Uint8Array): WireResult<Icmpv4Packet> {
    if (bytes.length < HEADER_LENGTH) return wireError('truncated', `${bytes.length} bytes is shorter than an ICMPv4 header`);
    return wireOk(new Icmpv4Packet(bytes));
  }

  get type(): number {
    return this.bytes[Field.type]!;
  }
  get code(): number {
    return this.bytes[Field.code]!;
  }
  get checksum(): number {
    return (this.bytes[Field.checksum]! << 8) | this.bytes[Field.checksum + 1]!;
  }
  /** Whether the whole message sums to zero. */
  verifyChecksum(): boolean {
    return checksum(this.bytes, 0, this.bytes.length) === 0;
  }
}

/**
 * The message ('checksum' when it does not verify and `verifyChecksum` is not false). An echo with a
 * nonzero code is still an echo (the code is not kept); `nextHopMtu` is 0 unless the code is 4.
 */
export function parseIcmpv4(packet: Icmpv4Packet, options?: { verifyChecksum?: boolean }): WireResult<Icmpv4Message> {
  if (options?.verifyChecksum !== false && !packet.verifyChecksum()) {
    return wireError('checksum', `ICMPv4 checksum 0x${packet.checksum.toString(16)} does not verify`);
  }
  const bytes = packet.bytes;
  const type = bytes[Field.type]!;
  const code = bytes[Field.code]!;
  switch (type) {
    case Icmpv4Type.echoRequest:
    case Icmpv4Type.echoReply:
      return wireOk({
        kind: type === Icmpv4Type.echoRequest ? 'echo-request' : 'echo-reply',
        identifier: (bytes[Field.identifier]! << 8) | bytes[Field.identifier + 1]!,
        sequence: (bytes[Field.sequence]! << 8) | bytes[Field.sequence + 1]!,
        data: bytes.subarray(Field.body),
      });
    case Icmpv4Type.destinationUnreachable:
      return wireOk({
        kind: 'destination-unreachable',
        code,
        nextHopMtu: code === UnreachableCode.fragmentationNeeded ? (bytes[Field.nextHopMtu]! << 8) | bytes[Field.nextHopMtu + 1]! : 0,
        original: bytes.subarray(Field.body),
      });
    case Icmpv4Type.timeExceeded:
      return wireOk({ kind: 'time-exceeded', code, original: bytes.subarray(Field.body) });
    default:
      return wireOk({ kind: 'unknown', type, code, body: bytes.subarray(Field.rest) });
  }
}

/** The length `emitIcmpv4` writes. */
export function icmpv4Length(message: Icmpv4Message): number {
  switch (message.kind) {
    case 'echo-request':
    case 'echo-reply':
      return HEADER_LENGTH + message.data.length;
    case 'destination-unreachable':
    case 'time-exceeded':
      return HEADER_LENGTH + message.original.length;
    case 'unknown':
      return COMMON_LENGTH + message.body.length;
  }
}

/** Copies `source` to `buffer` at `offset`, unless it is already there (an echo reply built in place). */
function place(buffer: Uint8Array, offset: number, source: Uint8Array): void {
  if (source.buffer === buffer.buffer && source.byteOffset === buffer.byteOffset + offset) return;
  buffer.set(source, offset);
}

/** Writes the message at the start of `buffer`, checksum included; returns its length. */
export function emitIcmpv4(message: Icmpv4Message, buffer: Uint8Array): number {
  let type: number;
  let code = 0;
  let rest = 0;
  let length: number;
  switch (message.kind) {
    case 'echo-request':
    case 'echo-reply':
      type = message.kind === 'echo-request' ? Icmpv4Type.echoRequest : Icmpv4Type.echoReply;
      rest = (((message.identifier & 0xffff) << 16) | (message.sequence & 0xffff)) >>> 0;
      place(buffer, Field.body, message.data);
      length = HEADER_LENGTH + message.data.length;
      break;
    case 'destination-unreachable':
      type = Icmpv4Type.destinationUnreachable;
      code = message.code;
      rest = message.code === UnreachableCode.fragmentationNeeded ? message.nextHopMtu & 0xffff : 0;
      place(buffer, Field.body, message.original);
      length = HEADER_LENGTH + message.original.length;
      break;
    case 'time-exceeded':
      type = Icmpv4Type.timeExceeded;
      code = message.code;
      place(buffer, Field.body, message.original);
      length = HEADER_LENGTH + message.original.length;
      break;
    case 'unknown':
      type = message.type;
      code = message.code;
      place(buffer, Field.rest, message.body);
      length = COMMON_LENGTH + message.body.length;
      break;
  }
  buffer[Field.type] = type & 0xff;
  buffer[Field.code] = code & 0xff;
  buffer[Field.checksum] = 0;
  buffer[Field.checksum + 1] = 0;
  if (message.kind !== 'unknown') {
    buffer[Field.rest] = rest >>> 24;
    buffer[Field.rest + 1] = (rest >>> 16) & 0xff;
    buffer[Field.rest + 2] = (rest >>> 8) & 0xff;
    buffer[Field.rest + 3] = rest & 0xff;
  }
  const sum = checksum(buffer, 0, length);
  buffer[Field.checksum] = sum >> 8;
  buffer[Field.checksum + 1] = sum & 0xff;
  return length;
}
