/**
 * What the dashboard shows, gathered in one place: `/api/stats` sends it once, `/api/stats/stream` every
 * second while someone watches, `/metrics` turns it into Prometheus text.
 */
import type { HttpServer } from '@uos/http';
import { nics } from '@uos/hw';
import { os, profiler } from '@uos/kernel';
import { formatIpAddress, formatIpv4Address, type Inet } from '@uos/net';
import { statman } from '@uos/statman';

export interface ConnectionRow {
  local: string;
  remote: string;
  state: string;
  bytesIn: number;
  bytesOut: number;
}

/** The TCP connection table, from @uos/net's diagnostics (bytes in and out per connection). */
export function connectionTable(inet: Inet): ConnectionRow[] {
  return inet.tcp.connections().map((c) => ({
    local: `${formatIpAddress(c.localAddress)}:${c.localPort}`,
    remote: `${formatIpAddress(c.remoteAddress)}:${c.remotePort}`,
    state: c.state,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
  }));
}

const LOG_LINES = 60;
let readyAtMs: number | undefined;

/** Notes that the service listens: the dashboard shows how long after boot that was. */
export function markReady(): void {
  readyAtMs = Math.round(os.uptime());
}
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');

/**
 * Everything the dashboard shows, as plain JSON-ready data. `parts: 'changing'` leaves out what does not
 * change while the VM runs (build, memory map), for the stream's events after its first.
 */
export function collectStats(inet: Inet, server: HttpServer | undefined, squirrels: number, parts: 'all' | 'changing' = 'all') {
  const boot = os.bootInfo();
  const build = JSON.parse(boot.build) as { service?: string; engine?: string; boot?: string; packages?: string[] };
  const cpu = os.cpuStats();
  const all = parts === 'all';
  // The statistics first: the kernel's collector reads the heap figures into them, so the stream's events
  // take those rather than walking the engine's heap a second time (memoryUsage counts every object).
  const stats = statman.snapshot();
  const memory = all ? os.memoryUsage() : undefined;
  return {
    uptimeMs: Math.round(os.uptime()),
    build: !all
      ? undefined
      : {
          service: build.service ?? 'acorn',
          platform: boot.version,
          engine: build.engine ?? '',
          boot: boot.protocol,
          packages: build.packages ?? [],
          /** Boot stages (milliseconds since the kernel's entry), then the moment the service listened. */
          timeline: [
            ...boot.timeline.map(([stage, ms]): [string, number] => [stage, Math.round(ms * 10) / 10]),
            ['listening', readyAtMs ?? -1] as [string, number],
          ],
        },
    cpu: { haltedCycles: cpu.haltedCycles, totalCycles: cpu.totalCycles, wakeups: cpu.wakeups, tscHz: cpu.tscHz, timer: cpu.timer },
    memory: {
      ...(memory
        ? {
            totalBytes: memory.totalBytes,
            peakUsedBytes: memory.peakUsedBytes,
            jsObjects: memory.jsObjects,
            kernelBytes: memory.kernelBytes,
            payloadBytes: memory.payloadBytes,
          }
        : {}),
      freeBytes: memory?.freeBytes ?? stats['kernel.memory.free_bytes'] ?? 0,
      heapUsedBytes: memory?.heapUsedBytes ?? stats['kernel.heap.used_bytes'] ?? 0,
      heapPeakBytes: memory?.heapPeakBytes ?? stats['kernel.heap.peak_bytes'] ?? 0,
      map: !all
        ? undefined
        : os.memoryMap().regions.map((r) => ({ name: r.name, kind: r.kind, start: r.start, end: r.end, access: r.access })),
    },
    nics: nics().map((n) => ({
      name: n.name,
      driver: n.driver,
      mac: hex(n.mac),
      mtu: n.mtu,
      linkUp: n.linkUp,
      address: n.name === inet.name ? `${formatIpv4Address(inet.address)}/${inet.ip.prefixLength}` : null,
      gateway: n.name === inet.name && inet.ip.gateway !== undefined ? formatIpv4Address(inet.ip.gateway) : null,
      rxPackets: n.stats.rxPackets.value,
      rxBytes: n.stats.rxBytes.value,
      txPackets: n.stats.txPackets.value,
      txBytes: n.stats.txBytes.value,
    })),
    connections: connectionTable(inet),
    // The server's counters are in `stats` too (<ifname>.http.<port>.*); the dashboard needs these two.
    http: server ? { port: server.port, connections: server.connections, requests: server.stats().requests } : null,
    squirrels,
    stats,
    log: os.log.read().slice(-LOG_LINES),
    hottest: profiler.top(8).map((e) => ({ name: e.name, kind: e.kind, where: e.url ? `${e.url}:${e.line}` : '', share: e.share })),
  };
}

export type Stats = ReturnType<typeof collectStats>;

/**
 * The stream's events after each client's first: what changed since the previous tick. Statistics come
 * as a delta (`statsDelta: true`: the values that changed, null for a statistic that is gone) and the
 * log only when it changed; most of the ~250 statistics are still between two seconds, and every byte
 * sent costs the guest TCP segments. A client merges each event into its last state; its first event
 * (the whole snapshot) is taken after the previous tick, so whatever changed since comes in the next delta.
 */
export function streamEncoder(collect: () => Stats): () => string {
  let lastStats: Record<string, number> = {};
  let lastLog = '';
  return () => {
    const snapshot = collect();
    const delta: Record<string, number | null> = {};
    for (const [name, value] of Object.entries(snapshot.stats)) if (lastStats[name] !== value) delta[name] = value;
    for (const name of Object.keys(lastStats)) if (!(name in snapshot.stats)) delta[name] = null;
    lastStats = snapshot.stats;
    const log = snapshot.log;
    const logKey = `${log.length}\n${log[log.length - 1] ?? ''}`;
    const logChanged = logKey !== lastLog;
    lastLog = logKey;
    return JSON.stringify({ ...snapshot, stats: delta, statsDelta: true, log: logChanged ? log : undefined });
  };
}
