/**
 * `/metrics`: the dashboard's numbers in the Prometheus text exposition format (version 0.0.4). Every
 * statman statistic becomes a series: a counter gets `_total`, a leading interface name becomes the
 * `interface` label, the port of `<if>.http.<port>.*` a `port` label and `kernel.irq.vector_<n>` a
 * `vector` label, so that each family has one name and one type.
 */
import { statman } from '@uos/statman';
import type { Stats } from './stats.js';

/** Prometheus spells units out (promtool flags `_ms`): statman's short words, and the one "us" that is no unit. */
const UNIT_WORDS: Record<string, string> = { for_us: 'for_this_host', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds' };

interface Family {
  type: 'counter' | 'gauge';
  help: string;
  samples: string[];
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labels(pairs: Record<string, string>): string {
  const entries = Object.entries(pairs);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
}

function number(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
}

/** The Prometheus text for a stats snapshot. */
export function prometheusText(stats: Stats, interfaces: readonly string[]): string {
  const families = new Map<string, Family>();
  const add = (name: string, type: Family['type'], help: string, value: number, pairs: Record<string, string> = {}): void => {
    let family = families.get(name);
    if (!family) families.set(name, (family = { type, help, samples: [] }));
    if (family.type !== type) return; // one type per family: a clashing stat is left out rather than break the page
    family.samples.push(`${name}${labels(pairs)} ${number(value)}`);
  };

  add('uos_uptime_seconds', 'gauge', 'Seconds since the VM booted.', stats.uptimeMs / 1000);
  if (stats.build) {
    add('uos_build_info', 'gauge', 'The service and the platform this image was built from.', 1, {
      service: stats.build.service,
      platform: stats.build.platform,
      engine: stats.build.engine,
      boot: stats.build.boot,
    });
  }
  const hz = stats.cpu.tscHz || 1;
  add('uos_cpu_seconds_total', 'counter', 'CPU time since boot, halted (idle) or not (busy).', stats.cpu.haltedCycles / hz, {
    mode: 'idle',
  });
  add(
    'uos_cpu_seconds_total',
    'counter',
    'CPU time since boot, halted (idle) or not (busy).',
    (stats.cpu.totalCycles - stats.cpu.haltedCycles) / hz,
    {
      mode: 'busy',
    },
  );
  if (stats.memory.totalBytes !== undefined) add('uos_memory_total_bytes', 'gauge', 'Usable physical memory.', stats.memory.totalBytes);
  add('uos_memory_free_bytes', 'gauge', 'Physical memory not in use.', stats.memory.freeBytes);
  add('uos_heap_used_bytes', 'gauge', "Bytes in live blocks of the engine's heap.", stats.memory.heapUsedBytes);
  if (stats.memory.jsObjects !== undefined) add('uos_js_objects', 'gauge', 'Objects the JavaScript engine holds.', stats.memory.jsObjects);
  const states = new Map<string, number>();
  for (const c of stats.connections) states.set(c.state, (states.get(c.state) ?? 0) + 1);
  for (const [state, count] of states) add('uos_tcp_connections', 'gauge', 'TCP connections by state.', count, { state });
  add('acorn_squirrels', 'gauge', 'Squirrels in the drey.', stats.squirrels);

  for (const entry of statman) {
    const segments = entry.name.split('.');
    const pairs: Record<string, string> = {};
    if (interfaces.includes(segments[0]!)) pairs.interface = segments.shift()!;
    if (segments[0] === 'http' && /^\d+$/.test(segments[1] ?? '')) pairs.port = segments.splice(1, 1)[0]!;
    const vector = /^vector_(\d+)$/.exec(segments[segments.length - 1] ?? '');
    if (segments[0] === 'kernel' && segments[1] === 'irq' && vector) {
      segments[segments.length - 1] = 'interrupts';
      pairs.vector = vector[1]!;
    }
    const base = `uos_${segments.join('_').replace(/[^a-zA-Z0-9_]/g, '_')}`.replace(
      /_(for_us|ms|us|ns)(?=_|$)/g,
      (_, word: string) => `_${UNIT_WORDS[word]}`,
    );
    const name = entry.kind === 'counter' ? `${base.replace(/_total$/, '')}_total` : base;
    add(name, entry.kind, `statman ${entry.kind} ${segments.join('.')}`, entry.value, pairs);
  }

  let text = '';
  for (const [name, family] of families) {
    text += `# HELP ${name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${family.type}\n`;
    text += `${family.samples.join('\n')}\n`;
  }
  return text;
}
