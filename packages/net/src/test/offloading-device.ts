/**
 * A NIC's offloads done in software around another device, so tests drive the stack's offload paths
 * (partial checksums, large segments, coalesced frames) without hardware. Two modes:
 * - `cut` (what a NIC with TSO puts on the wire): a large TCP segment is cut into `gsoSize`-byte
 *   segments with their IPv4 and TCP headers fixed up, and every partial checksum is completed, so a
 *   peer without offloads receives ordinary frames and verifies them in software;
 * - `pass` (two guests on one host, or a host delivering coalesced segments): frames go as they are,
 *   large ones and partial checksums included, and this side's receiver is told so (`checksumValid`, and
 *   `gsoType` for frames longer than the MTU). Use it at both ends, over a wire whose MTU takes 64 KiB.
 * Only IPv4 without options and TCP, as the stack sends them.
 */
import type { LinkDevice, LinkFrameInfo, LinkOffloads, LinkTransmitResult } from '../iface/link-device.js';
import { LinkGso, plainFrameInfo } from '../iface/link-device.js';
import { checksumFold, checksumSum } from '../wire/checksum.js';

export interface OffloadingStats {
  /** Frames the stack handed over as large segments. */
  largeSegments: number;
  /** Frames that went on the wire (after cutting). */
  wireFrames: number;
  /** The longest Ethernet payload that went on the wire. */
  longestWirePayload: number;
  /** Frames longer than the MTU handed to the stack (coalesced). */
  coalescedReceived: number;
}

export class OffloadingDevice implements LinkDevice {
  readonly offloads: LinkOffloads;
  readonly stats: OffloadingStats = { largeSegments: 0, wireFrames: 0, longestWirePayload: 0, coalescedReceived: 0 };
  private readonly info: LinkFrameInfo = plainFrameInfo();

  constructor(
    private readonly inner: LinkDevice,
    private readonly mode: 'cut' | 'pass',
    /** The MTU the stack is told (the inner device's may be larger in `pass` mode). */
    readonly mtu = 1500,
  ) {
    this.offloads = Object.freeze({
      checksumTx: true,
      checksumRx: mode === 'pass',
      tsoMaxBytes: 65536,
      tso4: true,
      tso6: false,
      coalescedRx: mode === 'pass',
    });
  }

  get name(): string {
    return this.inner.name;
  }

  get mac(): Uint8Array {
    return this.inner.mac;
  }

  transmit(frame: Uint8Array, info?: LinkFrameInfo): LinkTransmitResult {
    if (info !== undefined && info.gsoType !== LinkGso.none) this.stats.largeSegments++;
    if (this.mode === 'pass' || info === undefined || (info.checksumStart < 0 && info.gsoType === LinkGso.none)) {
      return this.wire(frame);
    }
    if (info.gsoType === LinkGso.none) {
      completeChecksum(frame, info.checksumStart, info.checksumOffset);
      return this.wire(frame);
    }
    return this.cut(frame, info);
  }

  /** TSO: one frame per `gsoSize` bytes of payload, headers copied and fixed up (RFC 7414's rules for TSO). */
  private cut(frame: Uint8Array, info: LinkFrameInfo): LinkTransmitResult {
    const ip = info.checksumStart - 20; // IPv4 without options, as the stack sends
    const tcp = info.checksumStart;
    const headers = info.headerLength;
    const payload = frame.length - headers;
    const sequence = ((frame[tcp + 4]! << 24) | (frame[tcp + 5]! << 16) | (frame[tcp + 6]! << 8) | frame[tcp + 7]!) >>> 0;
    const flags = frame[tcp + 13]!;
    let id = (frame[ip + 4]! << 8) | frame[ip + 5]!;
    let result: LinkTransmitResult = { ok: true };
    for (let offset = 0; offset < payload; offset += info.gsoSize) {
      const length = Math.min(info.gsoSize, payload - offset);
      const last = offset + length === payload;
      const out = new Uint8Array(headers + length);
      out.set(frame.subarray(0, headers));
      out.set(frame.subarray(headers + offset, headers + offset + length), headers);
      const total = headers - ip + length;
      out[ip + 2] = total >> 8;
      out[ip + 3] = total & 0xff;
      out[ip + 4] = id >> 8;
      out[ip + 5] = id & 0xff;
      id = (id + 1) & 0xffff;
      out[ip + 10] = 0;
      out[ip + 11] = 0;
      const ipSum = checksumFold(checksumSum(out, ip, tcp, 0));
      out[ip + 10] = ipSum >> 8;
      out[ip + 11] = ipSum & 0xff;
      const seq = (sequence + offset) >>> 0;
      out[tcp + 4] = seq >>> 24;
      out[tcp + 5] = (seq >>> 16) & 0xff;
      out[tcp + 6] = (seq >>> 8) & 0xff;
      out[tcp + 7] = seq & 0xff;
      // FIN and PSH only on the last segment.
      out[tcp + 13] = last ? flags : flags & ~0x09;
      // The pseudo-header's sum covered the whole segment's length: redo it for this one.
      const source = ((out[ip + 12]! << 24) | (out[ip + 13]! << 16) | (out[ip + 14]! << 8) | out[ip + 15]!) >>> 0;
      const destination = ((out[ip + 16]! << 24) | (out[ip + 17]! << 16) | (out[ip + 18]! << 8) | out[ip + 19]!) >>> 0;
      const tcpLength = out.length - tcp;
      const pseudo = (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff) + 6 + tcpLength;
      out[tcp + 16] = 0;
      out[tcp + 17] = 0;
      const sum = checksumFold(checksumSum(out, tcp, out.length, pseudo));
      out[tcp + 16] = sum >> 8;
      out[tcp + 17] = sum & 0xff;
      const sent = this.wire(out);
      if (!sent.ok) result = sent;
    }
    return result;
  }

  private wire(frame: Uint8Array): LinkTransmitResult {
    this.stats.wireFrames++;
    this.stats.longestWirePayload = Math.max(this.stats.longestWirePayload, frame.length - 14);
    return this.inner.transmit(frame);
  }

  onReceive(listener: (frame: Uint8Array, info?: LinkFrameInfo) => void): () => void {
    if (this.mode === 'cut') return this.inner.onReceive((frame) => listener(frame));
    return this.inner.onReceive((frame) => {
      const info = this.info;
      const large = frame.length - 14 > this.mtu;
      if (large) this.stats.coalescedReceived++;
      info.checksumValid = true;
      info.gsoType = large ? LinkGso.tcp4 : LinkGso.none;
      info.gsoSize = large ? this.mtu - 40 : 0;
      listener(frame, info);
    });
  }

  onWritable(listener: () => void): () => void {
    return this.inner.onWritable(listener);
  }
}

/** Completes a partial checksum: the field holds the pseudo-header's sum; the sum runs from `start` to the end. */
function completeChecksum(frame: Uint8Array, start: number, offset: number): void {
  const sum = checksumFold(checksumSum(frame, start, frame.length, 0));
  frame[start + offset] = sum >> 8;
  frame[start + offset + 1] = sum & 0xff;
}
