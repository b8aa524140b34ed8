import { type StatHandle, statman } from '@uos/statman';

/**
 * Every statistic the stack reports, `<ifname>.<layer>.<counter>` in statman, in one table. The stack
 * keeps the handles, so counting is one increment.
 */
export const NetStat = {
  ethernet: ['rx_frames', 'rx_dropped', 'tx_frames', 'tx_queued', 'tx_dropped'],
  arp: ['requests_rx', 'requests_tx', 'replies_rx', 'replies_tx', 'cache_entries', 'resolutions_failed', 'queue_dropped', 'malformed'],
  ip: ['rx_packets', 'rx_bad_checksum', 'rx_malformed', 'rx_not_for_us', 'rx_unknown_protocol', 'tx_packets', 'tx_no_route',
    'fragments_rx', 'reassembled', 'reassembly_timeouts', 'reassembly_dropped', 'fragments_tx'],
  icmp: ['echo_requests_rx', 'echo_replies_tx', 'echo_replies_rx', 'unreachable_rx', 'unreachable_tx', 'rate_limited', 'malformed'],
  udp: ['datagrams_rx', 'datagrams_tx', 'no_port', 'bad_checksum', 'malformed', 'sockets'],
  tcp: ['segments_rx', 'segments_tx', 'retransmits', 'fast_retransmits', 'timeouts', 'bad_checksum', 'malformed', 'resets_rx',
    'resets_tx', 'challenge_acks', 'syn_dropped', 'connections_opened', 'connections_closed', 'connections_active',
    'listen_overflows', 'out_of_order', 'duplicate_segments', 'zero_window_probes', 'keepalives'],
} as const;

export type NetLayer = keyof typeof NetStat;
export type LayerStats<L extends NetLayer> = Record<(typeof NetStat)[L][number], StatHandle>;

/** The handles of one layer of one interface (gauges where the name says entries or active). */
export function layerStats<L extends NetLayer>(ifname: string, layer: L): LayerStats<L> {
  const handles = {} as Record<string, StatHandle>;
  for (const counter of NetStat[layer]) {
    const gauge = counter.endsWith('entries') || counter.endsWith('active') || counter === 'sockets';
    handles[counter] = statman.getOrCreate(`${ifname}.${layer}.${counter}`, { type: 'u64', kind: gauge ? 'gauge' : 'counter' });
  }
  return handles as LayerStats<L>;
}
