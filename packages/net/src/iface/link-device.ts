/**
 * What the stack needs from a network interface. @uos/hw's `Nic` satisfies it, and so do the test
 * devices in `@uos/net/test` (LoopbackDevice, FaultInjector).
 */
export type LinkTransmitResult = { ok: true } | { ok: false; error: string };

export interface LinkDevice {
  readonly name: string;
  /** Six bytes. */
  readonly mac: Uint8Array;
  /** Largest Ethernet payload (1500 for Ethernet). */
  readonly mtu: number;
  /** Sends one Ethernet frame (no FCS); the frame is copied or consumed before it returns. */
  transmit(frame: Uint8Array): LinkTransmitResult;
  /** Calls `listener` with each received frame; the view may be valid only during the call. */
  onReceive(listener: (frame: Uint8Array) => void): () => void;
  /** After a failed transmit (busy), called when the device can take frames again. */
  onWritable(listener: () => void): () => void;
}
