import type { IpLayer, IpSendOptions } from '../../iface/ip-layer.js';
import { IPV4_ANY, type IpAddress } from '../../wire/address.js';
import { IpProtocolValue } from '../../wire/ipv4.js';
import { type TcpRepr, emitTcp, emptyTcpRepr, tcpHeaderLength } from '../../wire/tcp.js';
import type { PayloadCopier } from './options.js';

/**
 * TCP segments out through the IP layer, with what the NIC offloads: the checksum left to a NIC that
 * fills it in (`checksumTx`: only the pseudo-header's sum is written), and large segments for a NIC
 * that cuts them (TSO: `segmentSize` becomes the GSO size). The IP layer calls `writeSegment` back
 * synchronously with the frame; what it needs waits in fields, so no closure or options object is made
 * per segment.
 */
export class SegmentOutput {
  private repr: TcpRepr | undefined;
  private source: IpAddress = IPV4_ANY;
  private destination: IpAddress = IPV4_ANY;
  private headerLength = 0;
  private payloadLength = 0;
  private payload: PayloadCopier | undefined;
  private partial = false;
  private readonly options: IpSendOptions = { checksumOffset: 16, segmentSize: 0, transportHeaderLength: 0 };

  constructor(private readonly ip: IpLayer) {}

  /** The most payload one TSO segment to `remote` carries: IPv4 only, and only with checksum offload. */
  largeSendBytes(remote: IpAddress): number {
    const offloads = this.ip.offloads;
    if (typeof remote !== 'number' || !offloads.tso4 || !offloads.checksumTx) return 0;
    // Room for the largest IP and TCP headers, below IPv4's 64 KiB.
    return Math.max(0, Math.min(offloads.tsoMaxBytes, 65535) - 20 - 60);
  }

  /** Sends one segment: `repr`'s header, and `payloadLength` bytes that `payload` copies in. */
  send(source: IpAddress, destination: IpAddress, repr: TcpRepr, payloadLength: number, payload?: PayloadCopier, segmentSize = 0): boolean {
    const headerLength = tcpHeaderLength(repr);
    const offloaded = this.ip.offloads.checksumTx;
    this.repr = repr;
    this.source = source;
    this.destination = destination;
    this.headerLength = headerLength;
    this.payloadLength = payloadLength;
    this.payload = payload;
    this.partial = offloaded;
    let options: IpSendOptions | undefined;
    if (offloaded) {
      options = this.options;
      options.segmentSize = segmentSize > 0 && payloadLength > segmentSize ? segmentSize : 0;
      options.transportHeaderLength = headerLength;
    }
    const result = this.ip.send(destination, IpProtocolValue.tcp, headerLength + payloadLength, this.writeSegment, options);
    this.payload = undefined;
    this.repr = undefined;
    return result.ok;
  }

  private readonly writeSegment = (buffer: Uint8Array, offset: number, from: IpAddress): void => {
    const payload = this.payload;
    if (payload !== undefined) payload(buffer, offset + this.headerLength);
    emitTcp(this.repr!, buffer, this.payloadLength, from === IPV4_ANY ? this.source : from, this.destination, this.partial, offset);
  };
}

/**
 * The header of the segment a connection sends, shared and refilled for each (no object per segment or
 * per connection), with the options it never carries as its own properties (`emitTcp` reads each).
 */
const OUTGOING: TcpRepr = emptyTcpRepr();
const OUTGOING_TIMESTAMPS = { value: 0, echo: 0 };

/**
 * The header of a segment going out now, in the one shared repr (valid until the next call: the layer
 * writes it into the frame before `send` returns). `timestamp` 0: no timestamps option.
 */
export function outgoingRepr(
  sourcePort: number,
  destinationPort: number,
  sequence: number,
  acknowledgment: number,
  flags: number,
  window: number,
  timestamp: number,
  echo: number,
  sackBlocks: [number, number][] | undefined,
): TcpRepr {
  const repr = OUTGOING;
  repr.sourcePort = sourcePort;
  repr.destinationPort = destinationPort;
  repr.sequence = sequence;
  repr.acknowledgment = acknowledgment;
  repr.flags = flags;
  repr.window = window;
  if (timestamp !== 0) {
    OUTGOING_TIMESTAMPS.value = timestamp;
    OUTGOING_TIMESTAMPS.echo = echo;
    repr.timestamps = OUTGOING_TIMESTAMPS;
  } else repr.timestamps = undefined;
  repr.sackBlocks = sackBlocks;
  return repr;
}
