import { NO_OFFLOADS, type NicOffloads } from '@uos/hw';

/** Feature bits (virtio 1.x §5.1.3, §6). */
export const VirtioNetFeature = {
  csum: 0n,
  guestCsum: 1n,
  mtu: 3n,
  mac: 5n,
  guestTso4: 7n,
  guestTso6: 8n,
  hostTso4: 11n,
  hostTso6: 12n,
  mergeableRxBuffers: 15n,
  status: 16n,
  eventIndex: 29n,
  version1: 32n,
} as const;
export const bit = (n: bigint): bigint => 1n << n;
const has = (features: bigint, n: bigint): boolean => (features & bit(n)) !== 0n;

/** Always asked for when offered. */
const BASE =
  bit(VirtioNetFeature.mac) | bit(VirtioNetFeature.status) | bit(VirtioNetFeature.mergeableRxBuffers) | bit(VirtioNetFeature.version1);
const OFFLOADS =
  bit(VirtioNetFeature.csum) |
  bit(VirtioNetFeature.guestCsum) |
  bit(VirtioNetFeature.hostTso4) |
  bit(VirtioNetFeature.hostTso6) |
  bit(VirtioNetFeature.guestTso4) |
  bit(VirtioNetFeature.guestTso6);

/** The largest IP datagram a TCP segment offloaded for segmentation may be (IPv4's total length). */
export const TSO_MAX_BYTES = 65535;

export interface NegotiationOptions {
  /** Ask for checksum and segmentation offloads (default true). */
  offloads?: boolean;
  /** Ask for event indices (default true). */
  eventIndex?: boolean;
}

/**
 * The features to accept from `offered`, and the offloads they give. The spec's dependencies hold: host
 * TSO needs CSUM; guest TSO needs GUEST_CSUM, and here mergeable buffers too (the receive buffers are
 * 2 KiB: a coalesced segment spans up to 33 of them). The legacy interface has only the low 32 bits.
 */
export function negotiate(
  offered: bigint,
  legacy: boolean,
  options: NegotiationOptions = {},
): { features: bigint; offloads: NicOffloads; eventIndex: boolean } {
  let wanted = BASE;
  if (options.offloads ?? true) wanted |= OFFLOADS;
  if (options.eventIndex ?? true) wanted |= bit(VirtioNetFeature.eventIndex);
  let features = offered & wanted & (legacy ? 0xffffffffn : 0xffffffffffffffffn);
  if (!has(features, VirtioNetFeature.csum)) features &= ~(bit(VirtioNetFeature.hostTso4) | bit(VirtioNetFeature.hostTso6));
  if (!has(features, VirtioNetFeature.guestCsum) || !has(features, VirtioNetFeature.mergeableRxBuffers)) {
    features &= ~(bit(VirtioNetFeature.guestTso4) | bit(VirtioNetFeature.guestTso6));
  }
  const tso4 = has(features, VirtioNetFeature.hostTso4);
  const tso6 = has(features, VirtioNetFeature.hostTso6);
  const offloads: NicOffloads =
    features & OFFLOADS
      ? Object.freeze({
          checksumTx: has(features, VirtioNetFeature.csum),
          checksumRx: has(features, VirtioNetFeature.guestCsum),
          tsoMaxBytes: tso4 || tso6 ? TSO_MAX_BYTES : 0,
          tso4,
          tso6,
          coalescedRx: has(features, VirtioNetFeature.guestTso4) || has(features, VirtioNetFeature.guestTso6),
        })
      : NO_OFFLOADS;
  return { features, offloads, eventIndex: has(features, VirtioNetFeature.eventIndex) };
}
