/**
 * UDP datagrams (RFC 768). The checksum covers the pseudo-header (IPv4's or IPv6's), the header and the
 * payload; a checksum field of 0 means the sender computed none, and a computed 0 is sent as 0xffff.
 */
import type { IpAddress } from './address.js';
import { checksumFold, checksumSum, pseudoHeaderSum } from './checksum.js';
import { IpProtocolValue } from './ipv4.js';
import { type WireResult, wireError, wireOk } from './result.js';

/** Field offsets of a UDP header. */
const Field = { sourcePort: 0, destinationPort: 2, length: 4, checksum: 6 } as const;

export const UDP_HEADER_LENGTH = 8;

/**
 * A view of a UDP datagram. Construct it with `checked()` on untrusted bytes; after that, getters never
 * throw. Bytes after the length field's count are ignored.
 */
export class UdpPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** The datagram, if it has its header and its length field covers the header and fits in `bytes`. */
  static checked(bytes: Uint8Array): WireResult<UdpPacket> {
    if (bytes.length < UDP_HEADER_LENGTH) return wireError('truncated', `${bytes.length} bytes is shorter than a UDP header`);
    const length = (bytes[Field.length]! << 8) | bytes[Field.length + 1]!;
    if (length < UDP_HEADER_LENGTH) return wireError('malformed', `UDP length ${length} is under 8`);
    if (length > bytes.length) return wireError('truncated', `UDP length ${length} exceeds the ${bytes.length} bytes`);
    return wireOk(new UdpPacket(bytes));
  }

  get sourcePort(): number {
    return (this.bytes[Field.sourcePort]! << 8) | this.bytes[Field.sourcePort + 1]!;
  }
  get destinationPort(): number {
    return (this.bytes[Field.destinationPort]! << 8) | this.bytes[Field.destinationPort + 1]!;
  }
  /** The header and payload length, from the length field. */
  get length(): number {
    return (this.bytes[Field.length]! << 8) | this.bytes[Field.length + 1]!;
  }
  get checksum(): number {
    return (this.bytes[Field.checksum]! << 8) | this.bytes[Field.checksum + 1]!;
  }
  /** After the header, up to the length field's count. */
  get payload(): Uint8Array {
    return this.bytes.subarray(UDP_HEADER_LENGTH, this.length);
  }

  /** Whether the checksum verifies with this pseudo-header; true when the sender computed none (0). */
  verifyChecksum(source: IpAddress, destination: IpAddress): boolean {
    if (this.checksum === 0) return true;
    const length = this.length;
    return checksumFold(checksumSum(this.bytes, 0, length, pseudoHeaderSum(source, destination, IpProtocolValue.udp, length))) === 0;
  }
}

export interface UdpRepr {
  sourcePort: number;
  destinationPort: number;
}

/** The ports and payload ('checksum' when it does not verify and `verifyChecksum` is not false). */
export function parseUdp(
  packet: UdpPacket,
  source: IpAddress,
  destination: IpAddress,
  options?: { verifyChecksum?: boolean },
): WireResult<UdpRepr & { payload: Uint8Array }> {
  if (options?.verifyChecksum !== false && !packet.verifyChecksum(source, destination)) {
    return wireError('checksum', `UDP checksum 0x${packet.checksum.toString(16)} does not verify`);
  }
  return wireOk({ sourcePort: packet.sourcePort, destinationPort: packet.destinationPort, payload: packet.payload });
}

/**
 * Writes the header into buffer[0..8], the payload being already in buffer[8..8+payloadLength]; computes
 * the checksum (a computed 0 is sent as 0xffff); returns 8 + payloadLength. The caller keeps 8 + payloadLength
 * within 16 bits (and the IPv4 limit of 65515).
 */
export function emitUdp(repr: UdpRepr, buffer: Uint8Array, payloadLength: number, source: IpAddress, destination: IpAddress): number {
  const length = UDP_HEADER_LENGTH + payloadLength;
  buffer[Field.sourcePort] = (repr.sourcePort >> 8) & 0xff;
  buffer[Field.sourcePort + 1] = repr.sourcePort & 0xff;
  buffer[Field.destinationPort] = (repr.destinationPort >> 8) & 0xff;
  buffer[Field.destinationPort + 1] = repr.destinationPort & 0xff;
  buffer[Field.length] = (length >> 8) & 0xff;
  buffer[Field.length + 1] = length & 0xff;
  buffer[Field.checksum] = 0;
  buffer[Field.checksum + 1] = 0;
  const sum = checksumFold(checksumSum(buffer, 0, length, pseudoHeaderSum(source, destination, IpProtocolValue.udp, length)));
  const field = sum === 0 ? 0xffff : sum;
  buffer[Field.checksum] = field >> 8;
  buffer[Field.checksum + 1] = field & 0xff;
  return length;
}
