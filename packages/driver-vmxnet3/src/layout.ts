/**
 * The vmxnet3 device interface (revision 1, UPT version 1): registers, commands, and the layout of the
 * memory the driver shares with the device. All little-endian, as x86 is. Facts from VMware's published
 * interface definitions (the Linux and FreeBSD drivers carry them) and QEMU's device model.
 */

/** BAR 0 ("passthrough" registers): one per interrupt or queue, 8 bytes apart. */
export const Bar0 = {
  /** Interrupt mask register of interrupt i at 8 * i: 1 masks, 0 unmasks. */
  interruptMask: 0x000,
  /** Transmit producer index of queue 0 (the device looks at its ring when written). */
  transmitProducer: 0x600,
  /** Receive producer index of ring 0 and ring 1 of queue 0. */
  receiveProducer: 0x800,
  receiveProducer2: 0xa00,
} as const;

/** BAR 1 ("virtual device" registers). */
export const Bar1 = {
  /** Revisions the device supports (bit n: revision n + 1); the driver writes the one it picked. */
  revisionReport: 0x00,
  /** UPT versions the device supports, likewise. */
  uptVersionReport: 0x08,
  driverSharedLow: 0x10,
  driverSharedHigh: 0x18,
  /** Write a command; read its result. */
  command: 0x20,
  macLow: 0x28,
  macHigh: 0x30,
  /** Interrupt cause (INTx only): reading it acknowledges the interrupt. */
  interruptCause: 0x38,
  /** Event cause: writing bits acknowledges those events. */
  eventCause: 0x40,
} as const;

export const Command = {
  activate: 0xcafe0000,
  quiesce: 0xcafe0001,
  reset: 0xcafe0002,
  updateReceiveMode: 0xcafe0003,
  getQueueStatus: 0xf00d0000,
  getStats: 0xf00d0001,
  getLink: 0xf00d0002,
} as const;

/** Bits of the event cause (`ecr` in the shared area). */
export const Event = { receiveQueueError: 1, transmitQueueError: 2, link: 4, deviceChange: 8, debug: 16 } as const;

/** The driver-shared area (Vmxnet3_DriverShared, 720 bytes). */
export const Shared = {
  size: 720,
  magic: 0,
  /** devRead.misc */
  driverVersion: 8,
  guestInfo: 12,
  revisionSupported: 16,
  uptVersionSupported: 20,
  uptFeatures: 24,
  driverDataAddress: 32,
  queueDescriptorsAddress: 40,
  driverDataLength: 48,
  queueDescriptorsLength: 52,
  mtu: 56,
  maxReceiveFragments: 60,
  transmitQueues: 62,
  receiveQueues: 63,
  /** devRead.intrConf */
  autoMask: 80,
  interruptCount: 81,
  eventInterrupt: 82,
  /** 25 moderation levels, one per interrupt. */
  moderationLevels: 83,
  interruptControl: 108,
  /** devRead.rxFilterConf */
  receiveMode: 120,
  multicastTableLength: 124,
  multicastTableAddress: 128,
  vlanTable: 136,
  /** The event cause the device sets. */
  eventCause: 696,
} as const;

export const MAGIC = 0xbabefee1;
/** What the driver reports as its version (informational). */
export const DRIVER_VERSION = 0x00010000;
/** Guest information: 64-bit, "Linux" (the type VMware's devices know best; nothing else differs). */
export const GUEST_INFO = 2 | (1 << 2);
export const MAX_INTERRUPTS = 25;
export const MODERATION_ADAPTIVE = 8;
export const INTERRUPT_CONTROL_DISABLE_ALL = 1;
export const ReceiveMode = { unicast: 1, multicast: 2, broadcast: 4, allMulticast: 8, promiscuous: 16 } as const;
/** The MTU range a device accepts at activation (QEMU leaves the device inactive outside it). */
export const MIN_MTU = 60;
export const MAX_MTU = 9000;

/** A transmit queue descriptor (Vmxnet3_TxQueueDesc, 256 bytes): control, configuration, status, statistics. */
export const TransmitQueue = {
  size: 256,
  numDeferred: 0,
  threshold: 4,
  ringAddress: 16,
  dataRingAddress: 24,
  completionRingAddress: 32,
  ringSize: 56,
  dataRingSize: 60,
  completionRingSize: 64,
  interrupt: 72,
  stopped: 80,
  error: 84,
  stats: 88,
} as const;

/** A receive queue descriptor (Vmxnet3_RxQueueDesc, 256 bytes). */
export const ReceiveQueue = {
  size: 256,
  updateProducer: 0,
  ringAddress: 16,
  ring2Address: 24,
  completionRingAddress: 32,
  ringSize: 56,
  ring2Size: 60,
  completionRingSize: 64,
  interrupt: 72,
  stopped: 80,
  error: 84,
  stats: 88,
} as const;

/** UPT1 transmit and receive statistics: ten 64-bit counters each, in this order. */
export const TRANSMIT_COUNTERS = [
  'tsoPackets',
  'tsoBytes',
  'unicastPackets',
  'unicastBytes',
  'multicastPackets',
  'multicastBytes',
  'broadcastPackets',
  'broadcastBytes',
  'errors',
  'discarded',
] as const;
export const RECEIVE_COUNTERS = [
  'lroPackets',
  'lroBytes',
  'unicastPackets',
  'unicastBytes',
  'multicastPackets',
  'multicastBytes',
  'broadcastPackets',
  'broadcastBytes',
  'outOfBuffers',
  'errors',
] as const;

/** Descriptors and completions are 16 bytes; the transmit data ring has 128-byte entries. */
export const DESCRIPTOR = 16;
export const DATA_DESCRIPTOR = 128;
/** Rings start 512-byte aligned and hold a multiple of 32 entries, at most 4096. */
export const RING_ALIGN = 512;
export const RING_MULTIPLE = 32;
export const MAX_RING = 4096;
export const INITIAL_GENERATION = 1;

/** Transmit descriptor: word 2 holds length (bits 0-13) and generation (bit 14); word 3 end of packet and completion request. */
export const TX_GENERATION_SHIFT = 14;
export const TX_END_OF_PACKET = 1 << 12;
export const TX_COMPLETION_REQUEST = 1 << 13;
/** Receive descriptor word 2: length (bits 0-13), buffer type (bit 14: 0 head, 1 body), generation (bit 31). */
export const RX_BODY = 1 << 14;
/** Completion word 3: generation in bit 31; receive completion word 0: index, end (14), start (15), ring (16-25); word 2: length, error (14). */
export const COMPLETION_GENERATION_SHIFT = 31;
export const RX_END_OF_PACKET = 1 << 14;
export const RX_START_OF_PACKET = 1 << 15;
export const RX_ERROR = 1 << 14;
export const LENGTH_MASK = 0x3fff;
export const INDEX_MASK = 0xfff;
