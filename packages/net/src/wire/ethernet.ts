import { type MacAddress, readMac, writeMac } from './address.js';
import { type WireResult, wireError, wireOk } from './result.js';

/** Field offsets of an Ethernet II header; an 802.1Q tag (TPID 0x8100) adds four bytes before the type. */
const Field = { destination: 0, source: 6, etherType: 12, tagControl: 14, taggedEtherType: 16 } as const;

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;

/** EtherType values the stack knows. */
export const EtherTypeValue = { ipv4: 0x0800, arp: 0x0806, vlan: 0x8100, ipv6: 0x86dd } as const;

export type EtherType = { kind: 'ipv4' } | { kind: 'arp' } | { kind: 'ipv6' } | { kind: 'unknown'; value: number };

export function etherTypeOf(value: number): EtherType {
  switch (value) {
    case EtherTypeValue.ipv4:
      return { kind: 'ipv4' };
    case EtherTypeValue.arp:
      return { kind: 'arp' };
    case EtherTypeValue.ipv6:
      return { kind: 'ipv6' };
    default:
      return { kind: 'unknown', value };
  }
}

export function etherTypeValue(type: EtherType): number {
  return type.kind === 'unknown' ? type.value : EtherTypeValue[type.kind];
}

/**
 * A view of an Ethernet II frame. Construct it with `checked()` on untrusted bytes; after that, getters
 * never throw.
 */
export class EthernetPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** The frame, if it is long enough for its header (and its tag, when tagged). */
  static checked(bytes: Uint8Array): WireResult<EthernetPacket> {
    if (bytes.length < ETHERNET_HEADER_LENGTH) return wireError('truncated', `${bytes.length} bytes is shorter than an Ethernet header`);
    const packet = new EthernetPacket(bytes);
    if (packet.tagged && bytes.length < ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH) {
      return wireError('truncated', `${bytes.length} bytes is shorter than an 802.1Q-tagged header`);
    }
    return wireOk(packet);
  }

  get destination(): MacAddress {
    return readMac(this.bytes, Field.destination);
  }
  get source(): MacAddress {
    return readMac(this.bytes, Field.source);
  }
  get tagged(): boolean {
    return ((this.bytes[Field.etherType]! << 8) | this.bytes[Field.etherType + 1]!) === EtherTypeValue.vlan;
  }
  /** The VLAN ID (0..4095) of a tagged frame. */
  get vlanId(): number | undefined {
    return this.tagged ? ((this.bytes[Field.tagControl]! << 8) | this.bytes[Field.tagControl + 1]!) & 0x0fff : undefined;
  }
  /** The priority code point (0..7) of a tagged frame. */
  get vlanPriority(): number | undefined {
    return this.tagged ? this.bytes[Field.tagControl]! >> 5 : undefined;
  }
  /** The EtherType of the payload (after the tag, when tagged). */
  get etherType(): number {
    const at = this.tagged ? Field.taggedEtherType : Field.etherType;
    return (this.bytes[at]! << 8) | this.bytes[at + 1]!;
  }
  get headerLength(): number {
    return this.tagged ? ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH : ETHERNET_HEADER_LENGTH;
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength);
  }
}

export interface EthernetRepr {
  destination: MacAddress;
  source: MacAddress;
  etherType: EtherType;
  vlan?: { id: number; priority: number };
}

export function parseEthernet(packet: EthernetPacket): EthernetRepr {
  const repr: EthernetRepr = { destination: packet.destination, source: packet.source, etherType: etherTypeOf(packet.etherType) };
  if (packet.tagged) repr.vlan = { id: packet.vlanId!, priority: packet.vlanPriority! };
  return repr;
}

export function ethernetHeaderLength(repr: EthernetRepr): number {
  return repr.vlan ? ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH : ETHERNET_HEADER_LENGTH;
}

/** Writes the header at the start of `buffer`; returns its length. The payload follows it. */
export function emitEthernet(repr: EthernetRepr, buffer: Uint8Array): number {
  writeMac(buffer, Field.destination, repr.destination);
  writeMac(buffer, Field.source, repr.source);
  const type = etherTypeValue(repr.etherType);
  if (repr.vlan) {
    buffer[Field.etherType] = EtherTypeValue.vlan >> 8;
    buffer[Field.etherType + 1] = EtherTypeValue.vlan & 0xff;
    const control = ((repr.vlan.priority & 7) << 13) | (repr.vlan.id & 0x0fff);
    buffer[Field.tagControl] = control >> 8;
    buffer[Field.tagControl + 1] = control & 0xff;
    buffer[Field.taggedEtherType] = type >> 8;
    buffer[Field.taggedEtherType + 1] = type & 0xff;
    return ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
  }
  buffer[Field.etherType] = type >> 8;
  buffer[Field.etherType + 1] = type & 0xff;
  return ETHERNET_HEADER_LENGTH;
}
