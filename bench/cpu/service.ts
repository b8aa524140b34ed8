import { service } from '@uos/kernel';

// The engine's speed on everyday JS, for `pnpm bench` (engine_cpu_ms) and for comparing builds of QuickJS
// (`uos build --optimize size|speed`). Each workload is a kind of work services do: objects and
// property access, closures and calls, strings, JSON, sorting, Maps, typed arrays, regular expressions.
// Start arguments: rounds (default 3). Prints `cpu: {"workload": ms, ..., "total": ms}` with each
// workload's fastest round, then exits.

interface Point {
  x: number;
  y: number;
  label: string;
}

function objects(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p: Point = { x: i, y: i * 2, label: 'p' };
    sum += p.x + p.y + p.label.length;
  }
  return sum;
}

class Counter {
  private value = 0;
  add(n: number): this {
    this.value += n;
    return this;
  }
  get total(): number {
    return this.value;
  }
}

function calls(n: number): number {
  const counter = new Counter();
  const step = (k: number): number => (k & 7) + 1;
  for (let i = 0; i < n; i++) counter.add(step(i));
  return counter.total;
}

function strings(n: number): number {
  let text = '';
  for (let i = 0; i < n; i++) text += `item ${i}, `;
  return text
    .split(', ')
    .map((s) => s.toUpperCase())
    .join('|').length;
}

function json(n: number): number {
  const value = { id: 1, name: 'squirrel', tags: ['red', 'grey'], position: { lat: 51.5, lon: -0.12 }, active: true };
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    value.id = i;
    const text = JSON.stringify(value);
    bytes += (JSON.parse(text) as { name: string }).name.length + text.length;
  }
  return bytes;
}

function sorting(n: number): number {
  let seed = 7;
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    values.push(seed);
  }
  values.sort((a, b) => a - b);
  return values[n >> 1]!;
}

function maps(n: number): number {
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) map.set(i * 7, i);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += map.get(i * 7) ?? 0;
  for (let i = 0; i < n; i += 2) map.delete(i * 7);
  return sum + map.size;
}

function typedArrays(n: number): number {
  const bytes = new Uint8Array(1500);
  let sum = 0;
  for (let round = 0; round < n; round++) {
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i + round) & 0xff;
    for (let i = 0; i < bytes.length; i += 2) sum = (sum + ((bytes[i]! << 8) | bytes[i + 1]!)) >>> 0;
  }
  return sum;
}

function regexps(n: number): number {
  const pattern = /^(GET|POST|PUT) (\/[\w/.-]*) HTTP\/1\.([01])$/;
  let matched = 0;
  for (let i = 0; i < n; i++) {
    const m = pattern.exec(`GET /api/squirrels/${i} HTTP/1.1`);
    if (m) matched += m[2]!.length;
  }
  return matched;
}

const WORKLOADS: [string, (n: number) => number, number][] = [
  ['objects', objects, 15_000],
  ['calls', calls, 60_000],
  ['strings', strings, 2_000],
  ['json', json, 600],
  ['sorting', sorting, 10_000],
  ['maps', maps, 15_000],
  ['typedArrays', typedArrays, 30],
  ['regexps', regexps, 5_000],
];

export default service({
  start([roundsArgument = '3']) {
    const rounds = Number(roundsArgument);
    const best: Record<string, number> = {};
    let check = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [name, run, n] of WORKLOADS) {
        const started = performance.now();
        check += run(n);
        const ms = performance.now() - started;
        best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, ms);
      }
    }
    let total = 0;
    for (const name in best) {
      best[name] = Math.round(best[name]! * 10) / 10;
      total += best[name]!;
    }
    console.log(`cpu: ${JSON.stringify({ ...best, total: Math.round(total * 10) / 10, check })}`);
  },
});
