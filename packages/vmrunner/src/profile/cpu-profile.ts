/**
 * The outputs of `uos boot --profile`: a Chrome DevTools CPU profile (the `.cpuprofile` JSON that Chrome
 * DevTools, VS Code and speedscope open), folded stacks (the input of flamegraph.pl) and a summary of the
 * functions with the most samples of their own.
 */
import type { GuestProfile } from './guest-buffer.js';
import { type Frame, StackResolver, type Symbolizer, samplesInWindows } from './stacks.js';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  hitCount: number;
  children?: number[];
}

/** Chrome's Profiler.Profile: times in microseconds; `samples[i]` is a node id, `timeDeltas[i]` the time since the previous sample. */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ResolvedProfile {
  /** Each sample's stack (outermost first) and time in microseconds since boot. */
  stacks: { frames: Frame[]; timeUs: number }[];
  startUs: number;
  endUs: number;
  hz: number;
  taken: number;
  dropped: number;
}

/** Resolves the samples of the profile's windows (or the whole run) to stacks. */
export function resolveProfile(profile: GuestProfile, symbols: Symbolizer): ResolvedProfile {
  const resolver = new StackResolver(profile, symbols);
  const samples = samplesInWindows(profile);
  const stacks = samples.map((s) => ({ frames: resolver.stack(s), timeUs: Math.round(s.timeNs / 1000) }));
  const periodUs = profile.hz > 0 ? Math.round(1e6 / profile.hz) : 0;
  const first = profile.windows.length ? Math.round(profile.windows[0]!.startNs / 1000) : (stacks[0]?.timeUs ?? 0) - periodUs;
  const startUs = Math.max(0, Math.min(first, stacks[0]?.timeUs ?? first));
  const endUs = stacks.length ? stacks[stacks.length - 1]!.timeUs : startUs;
  return { stacks, startUs, endUs, hz: profile.hz, taken: profile.taken, dropped: profile.dropped };
}

export function toCpuProfile(resolved: ResolvedProfile): CpuProfile {
  const root: CpuProfileNode = {
    id: 1,
    callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
    hitCount: 0,
    children: [],
  };
  const nodes = [root];
  const childrenOf = new Map<number, Map<string, CpuProfileNode>>();
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let previous = resolved.startUs;
  for (const { frames, timeUs } of resolved.stacks) {
    let node = root;
    for (const frame of frames) {
      let children = childrenOf.get(node.id);
      if (!children) childrenOf.set(node.id, (children = new Map()));
      let child = children.get(frame.id);
      if (!child) {
        child = {
          id: nodes.length + 1,
          callFrame: {
            functionName: frame.functionName,
            scriptId: '0',
            url: frame.url,
            lineNumber: frame.lineNumber,
            columnNumber: frame.columnNumber,
          },
          hitCount: 0,
        };
        nodes.push(child);
        children.set(frame.id, child);
        (node.children ??= []).push(child.id);
      }
      node = child;
    }
    node.hitCount++;
    samples.push(node.id);
    timeDeltas.push(timeUs - previous);
    previous = timeUs;
  }
  return { nodes, startTime: resolved.startUs, endTime: resolved.endUs, samples, timeDeltas };
}

function label(frame: Frame): string {
  const text = frame.kind === 'js' && frame.url ? `${frame.functionName} (${frame.url}:${frame.lineNumber + 1})` : frame.functionName;
  return text.replace(/[;\n]/g, '_'); // ';' separates frames and a line ends a stack
}

/** Folded stacks, one line per distinct stack: `outer;inner count`, sorted. */
export function toFolded(resolved: ResolvedProfile): string {
  const counts = new Map<string, number>();
  for (const { frames } of resolved.stacks) {
    const key = frames.map(label).join(';');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([stack, count]) => `${stack} ${count}\n`)
    .join('');
}

export interface ProfileEntry {
  name: string;
  url: string;
  /** 1-based; 0 when there is none. */
  line: number;
  kind: Frame['kind'];
  /** Samples with this function innermost, and with it anywhere on the stack. */
  self: number;
  total: number;
}

/** Functions by samples of their own, most first. */
export function summarize(resolved: ResolvedProfile): { samples: number; entries: ProfileEntry[] } {
  const byId = new Map<string, ProfileEntry>();
  for (const { frames } of resolved.stacks) {
    const seen = new Set<string>();
    frames.forEach((frame, i) => {
      let entry = byId.get(frame.id);
      if (!entry) {
        entry = { name: frame.functionName, url: frame.url, line: frame.lineNumber + 1, kind: frame.kind, self: 0, total: 0 };
        byId.set(frame.id, entry);
      }
      if (!seen.has(frame.id)) entry.total++;
      seen.add(frame.id);
      if (i === frames.length - 1) entry.self++;
    });
  }
  const entries = [...byId.values()].sort((a, b) => b.self - a.self || b.total - a.total || (a.name < b.name ? -1 : 1));
  return { samples: resolved.stacks.length, entries };
}

/**
 * What is wrong with a CPU profile, if anything: ids unique and the root first, every child a node with
 * this one as its only parent and every node reachable from the root, every sample a node, hit counts
 * equal to the samples of each node, one non-negative time delta per sample, and the deltas summing to
 * endTime - startTime.
 */
export function validateCpuProfile(profile: CpuProfile): string[] {
  const problems: string[] = [];
  const byId = new Map<number, CpuProfileNode>();
  for (const node of profile.nodes) {
    if (byId.has(node.id)) problems.push(`node id ${node.id} is used twice`);
    byId.set(node.id, node);
  }
  const root = profile.nodes[0];
  if (root?.callFrame.functionName !== '(root)') problems.push('the first node is not (root)');
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) {
      if (!byId.has(child)) problems.push(`node ${node.id} has a child ${child} that is no node`);
      if (parentOf.has(child)) problems.push(`node ${child} has two parents, ${parentOf.get(child)} and ${node.id}`);
      parentOf.set(child, node.id);
    }
  }
  const reached = new Set<number>();
  const stack = root ? [root.id] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    stack.push(...(byId.get(id)?.children ?? []));
  }
  for (const node of profile.nodes) if (!reached.has(node.id)) problems.push(`node ${node.id} is not reachable from the root`);
  const hits = new Map<number, number>();
  for (const id of profile.samples) {
    if (!byId.has(id)) problems.push(`sample node ${id} is no node`);
    hits.set(id, (hits.get(id) ?? 0) + 1);
  }
  for (const node of profile.nodes) {
    if (node.hitCount !== (hits.get(node.id) ?? 0))
      problems.push(`node ${node.id} counts ${node.hitCount} hits for ${hits.get(node.id) ?? 0} samples`);
  }
  if (profile.timeDeltas.length !== profile.samples.length) {
    problems.push(`${profile.timeDeltas.length} time deltas for ${profile.samples.length} samples`);
  }
  if (profile.timeDeltas.some((d) => !(d >= 0))) problems.push('a time delta is negative');
  const sum = profile.timeDeltas.reduce((a, b) => a + b, 0);
  if (profile.startTime + sum !== profile.endTime) {
    problems.push(`startTime ${profile.startTime} + the deltas ${sum} is not endTime ${profile.endTime}`);
  }
  return problems;
}
