/**
 * Captures for tests: a classic libpcap file (microsecond timestamps, magic 0xa1b2c3d4 written
 * little-endian, version 2.4, link type 1 Ethernet) built in memory, so a failing netsim test can save
 * what crossed its links and a person can read it with `tcpdump -r` or Wireshark. No Node APIs.
 */
import type { NetClock } from '../clock.js';
import type { LinkDevice, LinkTransmitResult } from '../iface/link-device.js';
import { NetError } from '../errors.js';

/** The classic pcap magic number for microsecond timestamps. */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
/** LINKTYPE_ETHERNET. */
export const PCAP_LINK_TYPE_ETHERNET = 1;
export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

export interface PcapWriterOptions {
  /** The most bytes kept of each frame (longer frames are truncated, their original length kept); 65535. */
  snapLength?: number;
  /** The most bytes the file may grow to; frames that would pass it are not recorded (64 MiB). */
  limitBytes?: number;
}

export class PcapWriter {
  readonly snapLength: number;
  readonly limitBytes: number;
  private buffer = new Uint8Array(64 * 1024);
  private view = new DataView(this.buffer.buffer);
  private length = 0;
  private recorded = 0;
  private skipped = 0;

  constructor(options: PcapWriterOptions = {}) {
    const snapLength = options.snapLength ?? 65535;
    if (!Number.isInteger(snapLength) || snapLength < 1 || snapLength > 0x7fffffff) {
      throw new NetError('invalid-option', `snapLength must be an integer 1..2^31-1, not ${snapLength}`);
    }
    const limitBytes = options.limitBytes ?? 64 * 1024 * 1024;
    if (!Number.isInteger(limitBytes) || limitBytes < PCAP_FILE_HEADER_LENGTH) {
      throw new NetError('invalid-option', `limitBytes must be an integer >= ${PCAP_FILE_HEADER_LENGTH}, not ${limitBytes}`);
    }
    this.snapLength = snapLength;
    this.limitBytes = limitBytes;
    const view = this.view;
    view.setUint32(0, PCAP_MAGIC_MICROSECONDS, true);
    view.setUint16(4, 2, true); // version 2.4
    view.setUint16(6, 4, true);
    view.setInt32(8, 0, true); // thiszone: timestamps are UTC
    view.setUint32(12, 0, true); // sigfigs
    view.setUint32(16, snapLength, true);
    view.setUint32(20, PCAP_LINK_TYPE_ETHERNET, true);
    this.length = PCAP_FILE_HEADER_LENGTH;
  }

  /** Frames recorded. */
  get frameCount(): number {
    return this.recorded;
  }

  /** Frames not recorded because the file had reached `limitBytes`. */
  get skippedCount(): number {
    return this.skipped;
  }

  /** The file's length so far. */
  get byteLength(): number {
    return this.length;
  }

  /**
   * Appends `frame` (a whole Ethernet frame without FCS) stamped `timestampMs` milliseconds after the
   * epoch (a VirtualClock's 0 is 1970-01-01), rounded to the microsecond; false when over `limitBytes`.
   */
  record(frame: Uint8Array, timestampMs: number): boolean {
    const kept = Math.min(frame.length, this.snapLength);
    const size = PCAP_RECORD_HEADER_LENGTH + kept;
    if (this.length + size > this.limitBytes) {
      this.skipped++;
      return false;
    }
    this.reserve(size);
    const microseconds = Number.isFinite(timestampMs) && timestampMs > 0 ? Math.round(timestampMs * 1000) : 0;
    const seconds = Math.floor(microseconds / 1_000_000);
    const view = this.view;
    const at = this.length;
    view.setUint32(at, seconds % 0x100000000, true);
    view.setUint32(at + 4, microseconds - seconds * 1_000_000, true);
    view.setUint32(at + 8, kept, true);
    view.setUint32(at + 12, frame.length, true);
    this.buffer.set(kept === frame.length ? frame : frame.subarray(0, kept), at + PCAP_RECORD_HEADER_LENGTH);
    this.length += size;
    this.recorded++;
    return true;
  }

  /** A copy of the file so far. */
  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /**
   * A device that records, stamped with `clock.now()`, every frame `device` accepts for transmission and
   * every frame it receives (whether or not anyone listens), then behaves exactly as `device`.
   */
  tap(device: LinkDevice, clock: NetClock): LinkDevice {
    let listeners: ((frame: Uint8Array) => void)[] = [];
    device.onReceive((frame) => {
      this.record(frame, clock.now());
      for (const listener of listeners) listener(frame);
    });
    return {
      name: device.name,
      mac: device.mac,
      mtu: device.mtu,
      transmit: (frame: Uint8Array): LinkTransmitResult => {
        const result = device.transmit(frame);
        if (result.ok) this.record(frame, clock.now());
        return result;
      },
      onReceive: (listener) => {
        listeners = [...listeners, listener];
        return () => {
          listeners = listeners.filter((l) => l !== listener);
        };
      },
      onWritable: (listener) => device.onWritable(listener),
    };
  }

  private reserve(size: number): void {
    if (this.length + size <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + size) capacity *= 2;
    const grown = new Uint8Array(Math.min(capacity, Math.max(this.limitBytes, this.length + size)));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}
