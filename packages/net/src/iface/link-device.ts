/**
 * What the stack needs from a network interface. @uos/hw's `Nic` satisfies it, and so do the test
 * devices in `@uos/net/test` (LoopbackDevice, FaultInjector).
 */
export type LinkTransmitResult = { ok: true } | { ok: false; error: string };

/** `LinkFrameInfo.gsoType`: TCP over IPv4 or IPv6 segmented by the NIC (virtio-net's numbers, as @uos/hw's GsoType). */
export const LinkGso = { none: 0, tcp4: 1, tcp6: 4 } as const;

/**
 * The offload information that travels with a frame (structurally @uos/hw's `FrameInfo`): on transmit,
 * a checksum for the NIC to fill in and the segmentation to apply; on receive, whether the checksum needs
 * verifying and whether the frame coalesces segments. Receivers get one object per device, reused.
 */
export interface LinkFrameInfo {
  /** Where the checksum the NIC fills in (transmit), or a partial one (receive), starts; -1: none. */
  checksumStart: number;
  /** Where its field is, from `checksumStart`. */
  checksumOffset: number;
  /** Receive: the TCP/UDP checksum needs no verifying (the NIC did it, or the frame never left this host). */
  checksumValid: boolean;
  /** `LinkGso`: a TCP segment longer than the MTU, cut into (or coalesced from) `gsoSize`-byte payloads. */
  gsoType: number;
  gsoSize: number;
  /** Bytes before the TCP payload (Ethernet, IP and TCP headers), with `gsoType`. */
  headerLength: number;
}

/** A frame's info with nothing offloaded: a new object, for a layer or device to refill per frame. */
export function plainFrameInfo(): LinkFrameInfo {
  return { checksumStart: -1, checksumOffset: 0, checksumValid: false, gsoType: LinkGso.none, gsoSize: 0, headerLength: 0 };
}

/** What a device does in hardware (structurally @uos/hw's `NicOffloads`). */
export interface LinkOffloads {
  /** Fills in TCP and UDP checksums a frame's info asks for. */
  readonly checksumTx: boolean;
  /** Marks received frames whose checksums need no verifying. */
  readonly checksumRx: boolean;
  /** The largest IP datagram it cuts into MSS-sized TCP segments (TSO); 0 without. */
  readonly tsoMaxBytes: number;
  readonly tso4: boolean;
  readonly tso6: boolean;
  /** May deliver TCP segments coalesced beyond the MTU. */
  readonly coalescedRx: boolean;
}

/** A device that does everything in software. */
export const NO_LINK_OFFLOADS: LinkOffloads = Object.freeze({
  checksumTx: false,
  checksumRx: false,
  tsoMaxBytes: 0,
  tso4: false,
  tso6: false,
  coalescedRx: false,
});

export interface LinkDevice {
  readonly name: string;
  /** Six bytes. */
  readonly mac: Uint8Array;
  /** Largest Ethernet payload (1500 for Ethernet). */
  readonly mtu: number;
  /** What the device offloads; none when absent. */
  readonly offloads?: LinkOffloads;
  /**
   * Sends one Ethernet frame (no FCS). The frame is lent for the call only: the device copies or consumes
   * it before returning, and keeps no reference (the stack reuses the array for its next frame, see
   * `LinkLayer.allocate`); a device that holds frames (a queue, a delay line) holds copies. `info` asks
   * for offloads the device has; a frame longer than the MTU needs segmentation in `info` and TSO.
   */
  transmit(frame: Uint8Array, info?: LinkFrameInfo): LinkTransmitResult;
  /** Calls `listener` with each received frame and its info (none: nothing offloaded); both may be valid only during the call. */
  onReceive(listener: (frame: Uint8Array, info?: LinkFrameInfo) => void): () => void;
  /** After a failed transmit (busy), called when the device can take frames again. */
  onWritable(listener: () => void): () => void;
  /** Called after the frames of one batch (one interrupt) were all received; optional. */
  onReceiveBatchEnd?(listener: () => void): () => void;
}
