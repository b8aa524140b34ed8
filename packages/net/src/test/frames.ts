import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { ETHERNET_HEADER_LENGTH, emitEthernet } from '../wire/ethernet.js';
import { IPV4_HEADER_LENGTH, type IpProtocol, emitIpv4 } from '../wire/ipv4.js';
import { type TcpRepr, emitTcp, tcpHeaderLength } from '../wire/tcp.js';
import { UDP_HEADER_LENGTH, emitUdp } from '../wire/udp.js';

export interface FrameAddresses {
  sourceMac: MacAddress;
  destinationMac: MacAddress;
  source: Ipv4Address;
  destination: Ipv4Address;
  /** 64 when absent. */
  ttl?: number;
}

function ipv4Frame(addresses: FrameAddresses, protocol: 'tcp' | 'udp', payloadLength: number): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + payloadLength);
  emitEthernet({ destination: addresses.destinationMac, source: addresses.sourceMac, etherType: { kind: 'ipv4' } }, frame);
  emitIpv4(
    { source: addresses.source, destination: addresses.destination, protocol: { kind: protocol }, ttl: addresses.ttl ?? 64, payloadLength },
    frame.subarray(ETHERNET_HEADER_LENGTH),
  );
  return frame;
}

/**
 * One Ethernet + IPv4 + TCP frame with valid checksums, for putting segments on a wire by hand: blind
 * resets, stale duplicates, SYN floods, anything a stack under test must survive.
 */
export function tcpFrame(addresses: FrameAddresses, tcp: TcpRepr, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const headerLength = tcpHeaderLength(tcp);
  const frame = ipv4Frame(addresses, 'tcp', headerLength + payload.length);
  const segment = frame.subarray(ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH);
  segment.set(payload, headerLength);
  emitTcp(tcp, segment, payload.length, addresses.source, addresses.destination);
  return frame;
}

/** One Ethernet + IPv4 + UDP frame with valid checksums. */
export function udpFrame(addresses: FrameAddresses, ports: { source: number; destination: number }, payload: Uint8Array): Uint8Array {
  const frame = ipv4Frame(addresses, 'udp', UDP_HEADER_LENGTH + payload.length);
  const datagram = frame.subarray(ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH);
  datagram.set(payload, UDP_HEADER_LENGTH);
  emitUdp(
    { sourcePort: ports.source, destinationPort: ports.destination },
    datagram,
    payload.length,
    addresses.source,
    addresses.destination,
  );
  return frame;
}

export interface FragmentFields {
  protocol: IpProtocol;
  identification: number;
  /** Bytes from the start of the datagram's payload (a multiple of 8 unless it is the last fragment). */
  offset: number;
  moreFragments: boolean;
}

/**
 * One Ethernet + IPv4 frame carrying `payload` as a fragment of a datagram (no transport header is
 * added: the first fragment's payload starts with it), for reassembly tests and fragment attacks.
 */
export function ipFragmentFrame(addresses: FrameAddresses, fields: FragmentFields, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + payload.length);
  emitEthernet({ destination: addresses.destinationMac, source: addresses.sourceMac, etherType: { kind: 'ipv4' } }, frame);
  emitIpv4(
    {
      source: addresses.source,
      destination: addresses.destination,
      protocol: fields.protocol,
      ttl: addresses.ttl ?? 64,
      payloadLength: payload.length,
      identification: fields.identification,
      fragmentOffset: fields.offset,
      moreFragments: fields.moreFragments,
    },
    frame.subarray(ETHERNET_HEADER_LENGTH),
  );
  frame.set(payload, ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH);
  return frame;
}
