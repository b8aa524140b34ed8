import {
  DATA_DESCRIPTOR,
  DESCRIPTOR,
  DRIVER_VERSION,
  GUEST_INFO,
  MAGIC,
  MODERATION_ADAPTIVE,
  RING_ALIGN,
  RING_MULTIPLE,
  ReceiveMode,
  ReceiveQueue,
  Shared,
  TransmitQueue,
} from './layout.js';

/** Ring 1 (body buffers) exists, as the device expects, but holds none. */
export const BODY_RING_SIZE = RING_MULTIPLE;

/** Byte offsets in the driver's one DMA region: the shared area, the queue descriptors, the rings. */
export interface ControlLayout {
  transmitQueue: number;
  receiveQueue: number;
  transmitDescriptors: number;
  transmitCompletions: number;
  transmitData: number;
  transmitSize: number;
  receiveDescriptors: number;
  bodyDescriptors: number;
  receiveCompletions: number;
  receiveSize: number;
  receiveCompletionSize: number;
  /** Bytes in all. */
  size: number;
}

const align = (n: number): number => Math.ceil(n / RING_ALIGN) * RING_ALIGN;

/**
 * Where everything goes: the shared area at 0 (8-byte aligned), the queue descriptors at 1024 (128-byte
 * aligned, transmit then receive), then each ring 512-byte aligned. One page-aligned allocation holds it.
 */
export function controlLayout(transmitSize: number, receiveSize: number): ControlLayout {
  const transmitQueue = 1024;
  const receiveQueue = transmitQueue + TransmitQueue.size;
  const transmitDescriptors = align(receiveQueue + ReceiveQueue.size);
  const transmitCompletions = align(transmitDescriptors + transmitSize * DESCRIPTOR);
  const receiveDescriptors = align(transmitCompletions + transmitSize * DESCRIPTOR);
  const bodyDescriptors = align(receiveDescriptors + receiveSize * DESCRIPTOR);
  const receiveCompletions = align(bodyDescriptors + BODY_RING_SIZE * DESCRIPTOR);
  const receiveCompletionSize = receiveSize + BODY_RING_SIZE;
  const transmitData = align(receiveCompletions + receiveCompletionSize * DESCRIPTOR);
  return {
    transmitQueue,
    receiveQueue,
    transmitDescriptors,
    transmitCompletions,
    transmitData,
    transmitSize,
    receiveDescriptors,
    bodyDescriptors,
    receiveCompletions,
    receiveSize,
    receiveCompletionSize,
    size: transmitData + transmitSize * DATA_DESCRIPTOR,
  };
}

export interface SharedAreaConfiguration {
  mtu: number;
  interruptCount: number;
  /** The interrupt index of each cause (all below `interruptCount`: the caller checked). */
  interrupts: { event: number; receive: number; transmit: number };
}

/**
 * Writes what the device reads at activation and never changes: the driver-shared area (magic, driver
 * and guest information, one queue each way, MTU, one receive buffer per frame, auto-masked interrupts
 * with adaptive moderation, unicast + broadcast + all-multicast reception, no offloads) and the queue
 * descriptors' ring addresses, sizes and interrupt indexes. `base` is the region's physical address.
 */
export function writeSharedArea(v: DataView, base: number, layout: ControlLayout, c: SharedAreaConfiguration): void {
  const set64 = (at: number, value: number): void => {
    v.setUint32(at, value % 4294967296, true);
    v.setUint32(at + 4, Math.floor(value / 4294967296), true);
  };
  v.setUint32(Shared.magic, MAGIC, true);
  v.setUint32(Shared.driverVersion, DRIVER_VERSION, true);
  v.setUint32(Shared.guestInfo, GUEST_INFO, true);
  v.setUint32(Shared.revisionSupported, 1, true);
  v.setUint32(Shared.uptVersionSupported, 1, true);
  set64(Shared.uptFeatures, 0); // no checksum offload, VLAN stripping or LRO: frames arrive as sent
  set64(Shared.queueDescriptorsAddress, base + layout.transmitQueue);
  v.setUint32(Shared.queueDescriptorsLength, TransmitQueue.size + ReceiveQueue.size, true);
  v.setUint32(Shared.mtu, c.mtu, true);
  v.setUint16(Shared.maxReceiveFragments, 1, true);
  v.setUint8(Shared.transmitQueues, 1);
  v.setUint8(Shared.receiveQueues, 1);
  v.setUint8(Shared.autoMask, 1);
  v.setUint8(Shared.interruptCount, c.interruptCount);
  v.setUint8(Shared.eventInterrupt, c.interrupts.event);
  for (let i = 0; i < c.interruptCount; i++) v.setUint8(Shared.moderationLevels + i, MODERATION_ADAPTIVE);
  v.setUint32(Shared.receiveMode, ReceiveMode.unicast | ReceiveMode.broadcast | ReceiveMode.allMulticast, true);

  const t = layout.transmitQueue;
  set64(t + TransmitQueue.ringAddress, base + layout.transmitDescriptors);
  set64(t + TransmitQueue.dataRingAddress, base + layout.transmitData);
  set64(t + TransmitQueue.completionRingAddress, base + layout.transmitCompletions);
  v.setUint32(t + TransmitQueue.ringSize, layout.transmitSize, true);
  v.setUint32(t + TransmitQueue.dataRingSize, layout.transmitSize, true);
  v.setUint32(t + TransmitQueue.completionRingSize, layout.transmitSize, true);
  v.setUint8(t + TransmitQueue.interrupt, c.interrupts.transmit);

  const r = layout.receiveQueue;
  set64(r + ReceiveQueue.ringAddress, base + layout.receiveDescriptors);
  set64(r + ReceiveQueue.ring2Address, base + layout.bodyDescriptors);
  set64(r + ReceiveQueue.completionRingAddress, base + layout.receiveCompletions);
  v.setUint32(r + ReceiveQueue.ringSize, layout.receiveSize, true);
  v.setUint32(r + ReceiveQueue.ring2Size, BODY_RING_SIZE, true);
  v.setUint32(r + ReceiveQueue.completionRingSize, layout.receiveCompletionSize, true);
  v.setUint8(r + ReceiveQueue.interrupt, c.interrupts.receive);
}
