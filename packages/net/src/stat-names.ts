import { type StatHandle, type Statman, statman } from '@uos/statman';

/**
 * Every statistic the stack reports, `<ifname>.<layer>.<counter>` in statman, in one table. The stack
 * keeps the handles, so counting is one increment.
 */
export const NetStat = {
  ethernet: ['rx_frames', 'rx_dropped', 'rx_bad_source', 'rx_wrong_vlan', 'rx_too_long', 'tx_frames', 'tx_queued', 'tx_dropped'],
  arp: [
    'requests_rx',
    'requests_tx',
    'replies_rx',
    'replies_tx',
    'cache_entries',
    'resolutions_failed',
    'queue_dropped',
    'invalid_sender',
    'malformed',
  ],
  ip: [
    'rx_packets',
    'rx_bad_checksum',
    'rx_malformed',
    'rx_not_for_us',
    'rx_unknown_protocol',
    'rx_martian',
    'tx_packets',
    'tx_no_route',
    'fragments_rx',
    'reassembled',
    'reassembly_timeouts',
    'reassembly_dropped',
    'reassembly_overlaps',
    'reassembly_evicted',
    'fragments_duplicate',
    'fragments_tx',
  ],
  icmp: ['echo_requests_rx', 'echo_replies_tx', 'echo_replies_rx', 'unreachable_rx', 'unreachable_tx', 'rate_limited', 'malformed'],
  memory: ['budget_bytes', 'used_bytes', 'peak_bytes', 'pressure_entered', 'refused'],
  udp: ['datagrams_rx', 'datagrams_tx', 'no_port', 'zero_port', 'bad_checksum', 'malformed', 'sockets'],
  tcp: [
    'segments_rx',
    'segments_tx',
    'retransmits',
    'fast_retransmits',
    'timeouts',
    'bad_checksum',
    'malformed',
    'resets_rx',
    'resets_tx',
    'resets_limited',
    'challenge_acks',
    'challenge_acks_limited',
    'syn_dropped',
    'syn_cookies_sent',
    'syn_cookies_accepted',
    'syn_cookies_rejected',
    'listen_discarded',
    'connections_opened',
    'connections_closed',
    'connections_active',
    'listen_overflows',
    'time_wait',
    'time_wait_recycled',
    'connections_peak',
    'buffer_bytes',
    'buffer_bytes_peak',
    'refused_memory',
    'refused_limit',
    'rx_dropped_memory',
    'out_of_order',
    'out_of_order_dropped',
    'duplicate_segments',
    'zero_window_probes',
    'tail_loss_probes',
    'keepalives',
  ],
} as const;

export type NetLayer = keyof typeof NetStat;
export type LayerStats<L extends NetLayer> = Record<(typeof NetStat)[L][number], StatHandle>;

/** Where one interface's statistics live: its name, and the registry (the global `statman` unless given). */
export interface StatScope {
  readonly ifname: string;
  readonly registry: Statman;
}

export function statScope(ifname: string, registry: Statman = statman): StatScope {
  return { ifname, registry };
}

/** The handles of one layer of one interface (gauges where the name says entries or active). */
export function layerStats<L extends NetLayer>(scope: StatScope, layer: L): LayerStats<L> {
  const handles = {} as Record<string, StatHandle>;
  for (const counter of NetStat[layer]) {
    const gauge =
      counter.endsWith('entries') ||
      counter.endsWith('active') ||
      counter.endsWith('_bytes') ||
      counter.endsWith('_peak') ||
      counter === 'sockets' ||
      counter === 'time_wait';
    handles[counter] = scope.registry.getOrCreate(`${scope.ifname}.${layer}.${counter}`, {
      type: 'u64',
      kind: gauge ? 'gauge' : 'counter',
    });
  }
  return handles as LayerStats<L>;
}

/** The u64 words for counting inline on per-packet paths (statman's `u64Words`). */
export { u64Words } from '@uos/statman';

/** Frees every statistic of the interface (when its stack is closed for good). */
export function freeStats(scope: StatScope): void {
  for (const [layer, counters] of Object.entries(NetStat)) {
    for (const counter of counters) scope.registry.free(`${scope.ifname}.${layer}.${counter}`);
  }
}
