/**
 * ARP (RFC 826) packets for IPv4 over Ethernet, the only pairing the stack speaks: hardware type 1 with
 * 6-byte addresses, protocol type 0x0800 with 4-byte addresses, so every packet is 28 bytes.
 */
import { type Ipv4Address, type MacAddress, readIpv4, readMac, writeIpv4, writeMac } from './address.js';
import { type WireResult, wireError, wireOk } from './result.js';

/** Field offsets of an Ethernet/IPv4 ARP packet. */
const Field = {
  hardwareType: 0,
  protocolType: 2,
  hardwareLength: 4,
  protocolLength: 5,
  operation: 6,
  senderHardware: 8,
  senderProtocol: 14,
  targetHardware: 18,
  targetProtocol: 24,
} as const;

export const ARP_LENGTH = 28;

const HARDWARE_ETHERNET = 1;
const PROTOCOL_IPV4 = 0x0800;
const HARDWARE_LENGTH = 6;
const PROTOCOL_LENGTH = 4;

/** Operation values the stack knows. */
export const ArpOperationValue = { request: 1, reply: 2 } as const;

export type ArpOperation = { kind: 'request' } | { kind: 'reply' } | { kind: 'unknown'; value: number };

const REQUEST: ArpOperation = Object.freeze({ kind: 'request' });
const REPLY: ArpOperation = Object.freeze({ kind: 'reply' });

/** The operation of a 16-bit value; the known ones are shared frozen objects (no allocation per packet). */
export function arpOperationOf(value: number): ArpOperation {
  switch (value) {
    case ArpOperationValue.request:
      return REQUEST;
    case ArpOperationValue.reply:
      return REPLY;
    default:
      return { kind: 'unknown', value };
  }
}

export function arpOperationValue(operation: ArpOperation): number {
  return operation.kind === 'unknown' ? operation.value : ArpOperationValue[operation.kind];
}

/**
 * A view of an ARP packet. Construct it with `checked()` on untrusted bytes; after that, getters never
 * throw. Bytes past the 28th (Ethernet padding) are ignored.
 */
export class ArpPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** The packet, if it is long enough and is Ethernet/IPv4 ARP ('unsupported' for other pairings). */
  static checked(bytes: Uint8Array): WireResult<ArpPacket> {
    if (bytes.length < ARP_LENGTH) return wireError('truncated', `${bytes.length} bytes is shorter than an ARP packet`);
    const hardwareType = (bytes[Field.hardwareType]! << 8) | bytes[Field.hardwareType + 1]!;
    const protocolType = (bytes[Field.protocolType]! << 8) | bytes[Field.protocolType + 1]!;
    const hardwareLength = bytes[Field.hardwareLength]!;
    const protocolLength = bytes[Field.protocolLength]!;
    if (
      hardwareType !== HARDWARE_ETHERNET ||
      protocolType !== PROTOCOL_IPV4 ||
      hardwareLength !== HARDWARE_LENGTH ||
      protocolLength !== PROTOCOL_LENGTH
    ) {
      return wireError(
        'unsupported',
        `ARP for hardware ${hardwareType}/${hardwareLength} and protocol 0x${protocolType.toString(16)}/${protocolLength}`,
      );
    }
    return wireOk(new ArpPacket(bytes));
  }

  get operation(): number {
    return (this.bytes[Field.operation]! << 8) | this.bytes[Field.operation + 1]!;
  }
  get senderHardware(): MacAddress {
    return readMac(this.bytes, Field.senderHardware);
  }
  get senderProtocol(): Ipv4Address {
    return readIpv4(this.bytes, Field.senderProtocol);
  }
  get targetHardware(): MacAddress {
    return readMac(this.bytes, Field.targetHardware);
  }
  get targetProtocol(): Ipv4Address {
    return readIpv4(this.bytes, Field.targetProtocol);
  }
}

export interface ArpRepr {
  operation: ArpOperation;
  senderHardware: MacAddress;
  senderProtocol: Ipv4Address;
  targetHardware: MacAddress;
  targetProtocol: Ipv4Address;
}

export function parseArp(packet: ArpPacket): ArpRepr {
  return {
    operation: arpOperationOf(packet.operation),
    senderHardware: packet.senderHardware,
    senderProtocol: packet.senderProtocol,
    targetHardware: packet.targetHardware,
    targetProtocol: packet.targetProtocol,
  };
}

/** Writes the 28-byte packet at the start of `buffer`; returns 28. */
export function emitArp(repr: ArpRepr, buffer: Uint8Array): number {
  buffer[Field.hardwareType] = HARDWARE_ETHERNET >> 8;
  buffer[Field.hardwareType + 1] = HARDWARE_ETHERNET & 0xff;
  buffer[Field.protocolType] = PROTOCOL_IPV4 >> 8;
  buffer[Field.protocolType + 1] = PROTOCOL_IPV4 & 0xff;
  buffer[Field.hardwareLength] = HARDWARE_LENGTH;
  buffer[Field.protocolLength] = PROTOCOL_LENGTH;
  const operation = arpOperationValue(repr.operation);
  buffer[Field.operation] = (operation >> 8) & 0xff;
  buffer[Field.operation + 1] = operation & 0xff;
  writeMac(buffer, Field.senderHardware, repr.senderHardware);
  writeIpv4(buffer, Field.senderProtocol, repr.senderProtocol);
  writeMac(buffer, Field.targetHardware, repr.targetHardware);
  writeIpv4(buffer, Field.targetProtocol, repr.targetProtocol);
  return ARP_LENGTH;
}
