/**
 * What the transport layers (ICMP, UDP, TCP) see of the IP layer of their interface, whatever its
 * version: datagrams in by protocol number, datagrams out with a writer that fills in the transport
 * header and payload in place, and the few facts about addresses and routes they need. `Ipv4Layer`
 * implements it; an IPv6 layer would too, and the transport layers would not change.
 */
import type { IpAddress } from '../wire/address.js';
import type { LinkOffloads } from './link-device.js';

/** A received datagram, as the layers above see it (reassembled when it came in fragments). */
export interface IpDatagram {
  source: IpAddress;
  destination: IpAddress;
  /** Sent to our own unicast address (not a broadcast, and we have an address): what TCP takes and what ICMP answers. */
  unicast: boolean;
  protocol: number;
  ttl: number;
  payload: Uint8Array;
  /** The IP header and the first 8 payload bytes, for ICMP errors about this datagram. */
  readonly quote: Uint8Array;
  /** The NIC vouched for the transport checksum (it verified it, or the datagram never left this host). */
  checksumValid: boolean;
}

export type ProtocolHandler = (datagram: IpDatagram) => void;

/** Writes the transport header and payload at `offset` in `buffer`; `source` is the address the datagram leaves from. */
export type PayloadWriter = (buffer: Uint8Array, offset: number, source: IpAddress) => void;

export type IpSendResult = { ok: true } | { ok: false; error: 'no-route' | 'too-large' | 'queue-full' | 'unconfigured' };

export interface IpSendOptions {
  ttl?: number;
  dontFragment?: boolean;
  /**
   * The NIC fills in the transport checksum, whose field is this many bytes into the transport header
   * (16 for TCP, 6 for UDP): the writer left the pseudo-header's sum there. Only when `offloads.checksumTx`.
   */
  checksumOffset?: number;
  /**
   * TCP segmentation offload: a payload longer than one datagram goes out as one, for the NIC to cut into
   * segments of this many payload bytes (when `offloads.tso4`/`tso6` and it fits `tsoMaxBytes`; with
   * `checksumOffset`), `transportHeaderLength` bytes of TCP header each.
   */
  segmentSize?: number;
  transportHeaderLength?: number;
}

export interface IpLayer {
  /** Whether the interface has an address (until then only broadcasts go out). */
  readonly configured: boolean;
  /** What the link below offloads (`NO_LINK_OFFLOADS` when nothing). */
  readonly offloads: LinkOffloads;
  /** Whether the link tells when a batch of received frames ended. */
  readonly batchesEnd: boolean;
  /** Called after each batch of received frames (only when `batchesEnd`). */
  onBatchEnd(listener: () => void): void;
  /** The largest transport payload one unfragmented datagram carries. */
  readonly maxPayload: number;
  /** Hands datagrams of `protocol` (IANA protocol number) to `handler`. */
  on(protocol: number, handler: ProtocolHandler): void;
  /** Called for a datagram of a protocol nobody handles (ICMP answers protocol unreachable). */
  onUnknownProtocol: ProtocolHandler;
  /**
   * Sends a datagram: `write` fills in `payloadLength` bytes of transport header and payload. Errors are
   * results, never exceptions.
   */
  send(destination: IpAddress, protocol: number, payloadLength: number, write: PayloadWriter, options?: IpSendOptions): IpSendResult;
  /** The address a datagram to `destination` leaves from, or undefined when there is no route to it. */
  sourceFor(destination: IpAddress): IpAddress | undefined;
  /** Whether `address` is this interface's own (unicast) address. */
  isLocal(address: IpAddress): boolean;
}
