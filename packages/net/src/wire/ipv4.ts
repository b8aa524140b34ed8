/**
 * IPv4 headers (RFC 791). Parsing checks the lengths (version, IHL, total length) and, unless told not
 * to, the header checksum; options are skipped. Bytes after the total length (Ethernet padding) are
 * ignored. Emitting writes a 20-byte header without options.
 */
import { type Ipv4Address, readIpv4, writeIpv4 } from './address.js';
import { checksum } from './checksum.js';
import { type WireResult, wireError, wireOk } from './result.js';

/** Field offsets of an IPv4 header. */
const Field = {
  versionAndLength: 0,
  dscpAndEcn: 1,
  totalLength: 2,
  identification: 4,
  flagsAndOffset: 6,
  ttl: 8,
  protocol: 9,
  checksum: 10,
  source: 12,
  destination: 16,
} as const;

export const IPV4_HEADER_LENGTH = 20;

const FLAG_DONT_FRAGMENT = 0x4000;
const FLAG_MORE_FRAGMENTS = 0x2000;
/** The fragment offset field, in 8-byte units. */
const OFFSET_MASK = 0x1fff;

/** Protocol numbers the stack knows. */
export const IpProtocolValue = { icmp: 1, tcp: 6, udp: 17 } as const;

export type IpProtocol = { kind: 'icmp' } | { kind: 'tcp' } | { kind: 'udp' } | { kind: 'unknown'; value: number };

const ICMP: IpProtocol = Object.freeze({ kind: 'icmp' });
const TCP: IpProtocol = Object.freeze({ kind: 'tcp' });
const UDP: IpProtocol = Object.freeze({ kind: 'udp' });

/** The protocol of a number; the known ones are shared frozen objects (no allocation per packet). */
export function ipProtocolOf(value: number): IpProtocol {
  switch (value) {
    case IpProtocolValue.icmp:
      return ICMP;
    case IpProtocolValue.tcp:
      return TCP;
    case IpProtocolValue.udp:
      return UDP;
    default:
      return { kind: 'unknown', value };
  }
}

export function ipProtocolValue(protocol: IpProtocol): number {
  return protocol.kind === 'unknown' ? protocol.value : IpProtocolValue[protocol.kind];
}

/**
 * A view of an IPv4 packet. Construct it with `checked()` on untrusted bytes; after that, getters never
 * throw.
 */
export class Ipv4Packet {
  private constructor(readonly bytes: Uint8Array) {}

  /**
   * The packet, if it is version 4, its IHL is at least 5, its header fits, and its total length covers
   * the header and fits in `bytes` ('truncated' when something does not fit, 'malformed' otherwise).
   */
  static checked(bytes: Uint8Array): WireResult<Ipv4Packet> {
    if (bytes.length < IPV4_HEADER_LENGTH) return wireError('truncated', `${bytes.length} bytes is shorter than an IPv4 header`);
    const first = bytes[Field.versionAndLength]!;
    if (first >> 4 !== 4) return wireError('malformed', `IP version ${first >> 4} in an IPv4 packet`);
    const headerLength = (first & 0x0f) * 4;
    if (headerLength < IPV4_HEADER_LENGTH) return wireError('malformed', `IPv4 header length ${headerLength} is under 20`);
    if (headerLength > bytes.length) return wireError('truncated', `IPv4 header length ${headerLength} exceeds the ${bytes.length} bytes`);
    const totalLength = (bytes[Field.totalLength]! << 8) | bytes[Field.totalLength + 1]!;
    if (totalLength < headerLength)
      return wireError('malformed', `IPv4 total length ${totalLength} is under the header length ${headerLength}`);
    if (totalLength > bytes.length) return wireError('truncated', `IPv4 total length ${totalLength} exceeds the ${bytes.length} bytes`);
    return wireOk(new Ipv4Packet(bytes));
  }

  get version(): number {
    return this.bytes[Field.versionAndLength]! >> 4;
  }
  /** In bytes (IHL × 4). */
  get headerLength(): number {
    return (this.bytes[Field.versionAndLength]! & 0x0f) * 4;
  }
  get dscp(): number {
    return this.bytes[Field.dscpAndEcn]! >> 2;
  }
  get ecn(): number {
    return this.bytes[Field.dscpAndEcn]! & 3;
  }
  get totalLength(): number {
    return (this.bytes[Field.totalLength]! << 8) | this.bytes[Field.totalLength + 1]!;
  }
  get identification(): number {
    return (this.bytes[Field.identification]! << 8) | this.bytes[Field.identification + 1]!;
  }
  get dontFragment(): boolean {
    return (this.flagsAndOffset & FLAG_DONT_FRAGMENT) !== 0;
  }
  get moreFragments(): boolean {
    return (this.flagsAndOffset & FLAG_MORE_FRAGMENTS) !== 0;
  }
  /** In bytes (the field counts 8-byte units). */
  get fragmentOffset(): number {
    return (this.flagsAndOffset & OFFSET_MASK) * 8;
  }
  get ttl(): number {
    return this.bytes[Field.ttl]!;
  }
  get protocol(): number {
    return this.bytes[Field.protocol]!;
  }
  get checksum(): number {
    return (this.bytes[Field.checksum]! << 8) | this.bytes[Field.checksum + 1]!;
  }
  get source(): Ipv4Address {
    return readIpv4(this.bytes, Field.source);
  }
  get destination(): Ipv4Address {
    return readIpv4(this.bytes, Field.destination);
  }
  /** The options, between the fixed header and the header length (empty when IHL is 5). */
  get options(): Uint8Array {
    return this.bytes.subarray(IPV4_HEADER_LENGTH, this.headerLength);
  }
  /** From the header length up to the total length (padding after it excluded). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength, this.totalLength);
  }
  /** Whether the header (options included) sums to zero. */
  verifyChecksum(): boolean {
    return checksum(this.bytes, 0, this.headerLength) === 0;
  }

  private get flagsAndOffset(): number {
    return (this.bytes[Field.flagsAndOffset]! << 8) | this.bytes[Field.flagsAndOffset + 1]!;
  }
}

export interface Ipv4Repr {
  source: Ipv4Address;
  destination: Ipv4Address;
  protocol: IpProtocol;
  ttl: number;
  /** The bytes after the header: total length − header length. */
  payloadLength: number;
  /** 0 when absent. */
  identification?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes, a multiple of 8; 0 when absent. */
  fragmentOffset?: number;
  dscp?: number;
  ecn?: number;
}

/** The header's fields ('checksum' when it does not verify and `verifyChecksum` is not false). Every optional field is filled in. */
export function parseIpv4(packet: Ipv4Packet, options?: { verifyChecksum?: boolean }): WireResult<Ipv4Repr> {
  if (options?.verifyChecksum !== false && !packet.verifyChecksum()) {
    return wireError('checksum', `IPv4 header checksum 0x${packet.checksum.toString(16)} does not verify`);
  }
  // Straight from the bytes (no getters): this runs for every packet.
  const b = packet.bytes;
  const flagsAndOffset = (b[6]! << 8) | b[7]!;
  return wireOk({
    source: (((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0) as Ipv4Address,
    destination: (((b[16]! << 24) | (b[17]! << 16) | (b[18]! << 8) | b[19]!) >>> 0) as Ipv4Address,
    protocol: ipProtocolOf(b[9]!),
    ttl: b[8]!,
    payloadLength: ((b[2]! << 8) | b[3]!) - (b[0]! & 0x0f) * 4,
    identification: (b[4]! << 8) | b[5]!,
    dontFragment: (flagsAndOffset & FLAG_DONT_FRAGMENT) !== 0,
    moreFragments: (flagsAndOffset & FLAG_MORE_FRAGMENTS) !== 0,
    fragmentOffset: (flagsAndOffset & OFFSET_MASK) * 8,
    dscp: b[1]! >> 2,
    ecn: b[1]! & 3,
  });
}

/**
 * Writes a 20-byte header (no options) at the start of `buffer`, with total length 20 + payloadLength
 * and the header checksum; returns 20. Fields are masked to their widths: the caller keeps
 * payloadLength <= 65515 and fragmentOffset a multiple of 8 below 65536.
 */
export function emitIpv4(repr: Ipv4Repr, buffer: Uint8Array): number {
  const totalLength = IPV4_HEADER_LENGTH + repr.payloadLength;
  const identification = repr.identification ?? 0;
  const flagsAndOffset =
    (repr.dontFragment === true ? FLAG_DONT_FRAGMENT : 0) |
    (repr.moreFragments === true ? FLAG_MORE_FRAGMENTS : 0) |
    (((repr.fragmentOffset ?? 0) >>> 3) & OFFSET_MASK);
  buffer[Field.versionAndLength] = 0x45;
  buffer[Field.dscpAndEcn] = (((repr.dscp ?? 0) & 0x3f) << 2) | ((repr.ecn ?? 0) & 3);
  buffer[Field.totalLength] = (totalLength >> 8) & 0xff;
  buffer[Field.totalLength + 1] = totalLength & 0xff;
  buffer[Field.identification] = (identification >> 8) & 0xff;
  buffer[Field.identification + 1] = identification & 0xff;
  buffer[Field.flagsAndOffset] = flagsAndOffset >> 8;
  buffer[Field.flagsAndOffset + 1] = flagsAndOffset & 0xff;
  buffer[Field.ttl] = repr.ttl & 0xff;
  buffer[Field.protocol] = ipProtocolValue(repr.protocol) & 0xff;
  buffer[Field.checksum] = 0;
  buffer[Field.checksum + 1] = 0;
  writeIpv4(buffer, Field.source, repr.source);
  writeIpv4(buffer, Field.destination, repr.destination);
  const sum = checksum(buffer, 0, IPV4_HEADER_LENGTH);
  buffer[Field.checksum] = sum >> 8;
  buffer[Field.checksum + 1] = sum & 0xff;
  return IPV4_HEADER_LENGTH;
}
