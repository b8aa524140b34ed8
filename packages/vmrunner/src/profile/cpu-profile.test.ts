import { describe, expect, it } from 'vitest';
import { resolveProfile, summarize, toCpuProfile, toFolded, validateCpuProfile } from './cpu-profile.js';
import { type GuestProfile, type GuestSample, KeyKind, keyId } from './guest-buffer.js';
import type { Symbolizer } from './stacks.js';

// A text section: [start, name], sorted.
const SYMBOLS: [number, string][] = [
  [0x100000, 'js_run'],
  [0x100400, 'heap_malloc'],
  [0x100800, 'js_malloc.lto_priv.0'],
  [0x100c00, 'JS_NewObjectFromShape'],
  [0x101000, 'JS_CallInternal'],
  [0x110000, 'js_call_c_function.lto_priv.0'],
  [0x110400, 'js_checksum_sum'],
  [0x110800, 'js_array_push'],
  [0x111000, 'service_main'],
];

const symbols: Symbolizer = {
  symbol(address) {
    let found: { name: string; start: number } | undefined;
    for (const [start, name] of SYMBOLS) if (start <= address) found = { name, start };
    return found;
  },
  source(bundleLine) {
    return bundleLine >= 100 ? { source: 'service.ts', line: bundleLine - 90 } : undefined;
  },
};

const main = { kind: KeyKind.js, address: 0x200010 } as const; // start (service.ts:10)
const parse = { kind: KeyKind.js, address: 0x200020 } as const; // parse (service.ts:20)
const anonymous = { kind: KeyKind.js, address: 0x200030 } as const;
const checksum = { kind: KeyKind.c, address: 0x110400 } as const;

const functions = new Map([
  [keyId(main), { name: 'start', bundleLine: 100 }],
  [keyId(parse), { name: 'parse', bundleLine: 110 }],
  [keyId(anonymous), { name: '', bundleLine: 0 }],
]);

function sample(ms: number, js: GuestSample['js'], native: number[], extra: Partial<GuestSample> = {}): GuestSample {
  return { timeNs: ms * 1e6, idle: false, truncated: false, native, js, ...extra };
}

function profile(samples: GuestSample[], windows: GuestProfile['windows'] = []): GuestProfile {
  return { hz: 1000, samples, functions, windows, taken: samples.length, dropped: 0 };
}

const INTERPRETER = 0x101234;
// Return addresses of the interpreter and of the call trampoline, one past a call instruction.
const IN_INTERPRETER = 0x101500;
const IN_TRAMPOLINE = 0x110100;

describe('CPU profiles from guest samples', () => {
  const samples = [
    // parse interpreting its own bytecode (three times)
    sample(10, [parse, main], [INTERPRETER, IN_INTERPRETER, IN_INTERPRETER]),
    sample(11, [parse, main], [INTERPRETER]),
    sample(12, [parse, main], [INTERPRETER]),
    // parse allocating: heap_malloc <- js_malloc <- JS_NewObjectFromShape <- the interpreter
    sample(13, [parse, main], [0x100410, 0x100810, 0x100c10, IN_INTERPRETER, IN_INTERPRETER]),
    // the checksum native, called from parse through the trampoline
    sample(14, [checksum, parse, main], [0x110420, IN_TRAMPOLINE, IN_INTERPRETER]),
    // idle in the loop's hlt
    sample(15, [], [], { idle: true }),
    // the loop's own native code, no JS running
    sample(16, [], [0x100010, 0x111008]),
    // an anonymous function deeper than the sampler keeps
    sample(17, [anonymous], [INTERPRETER], { truncated: true }),
  ];

  it('builds stacks: JS functions outermost first, then the natives the innermost one was in', () => {
    const resolved = resolveProfile(profile(samples), symbols);
    const names = resolved.stacks.map((s) => s.frames.map((f) => f.functionName).join(' > '));
    expect(names).toEqual([
      'start > parse',
      'start > parse',
      'start > parse',
      'start > parse > JS_NewObjectFromShape > js_malloc.lto_priv.0 > heap_malloc',
      'start > parse > js_checksum_sum',
      '(idle)',
      'service_main > js_run',
      '(deeper frames not sampled) > (anonymous)',
    ]);
    const parseFrame = resolved.stacks[0]!.frames[1]!;
    expect(parseFrame).toMatchObject({ url: 'service.ts', lineNumber: 19, columnNumber: 0, kind: 'js' });
    expect(resolved.stacks[4]!.frames[2]).toMatchObject({ url: '', lineNumber: -1, kind: 'native' });
  });

  it('writes a profile whose nodes, samples and time deltas agree', () => {
    const cpu = toCpuProfile(resolveProfile(profile(samples), symbols));
    expect(validateCpuProfile(cpu)).toEqual([]);
    expect(cpu.samples).toHaveLength(samples.length);
    expect(cpu.startTime).toBe(9000); // one period before the first sample
    expect(cpu.endTime).toBe(17000);
    expect(cpu.timeDeltas).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000]);
    const parseNode = cpu.nodes.find((n) => n.callFrame.functionName === 'parse')!;
    expect(parseNode.hitCount).toBe(3);
    expect(parseNode.children).toHaveLength(2); // JS_NewObjectFromShape and js_checksum_sum
    expect(cpu.nodes[0]!.children!.map((id) => cpu.nodes[id - 1]!.callFrame.functionName)).toEqual([
      'start',
      '(idle)',
      'service_main',
      '(deeper frames not sampled)',
    ]);
  });

  it('keeps only the samples inside the windows the service marked', () => {
    const resolved = resolveProfile(profile(samples, [{ startNs: 11.5e6, stopNs: 14e6 }]), symbols);
    expect(resolved.stacks.map((s) => s.timeUs)).toEqual([12000, 13000, 14000]);
    const cpu = toCpuProfile(resolved);
    expect(cpu.startTime).toBe(11500);
    expect(cpu.timeDeltas).toEqual([500, 1000, 1000]);
    expect(validateCpuProfile(cpu)).toEqual([]);
  });

  it('writes folded stacks for flamegraph.pl and a summary by self samples', () => {
    const resolved = resolveProfile(profile(samples), symbols);
    expect(toFolded(resolved).split('\n')).toEqual([
      '(deeper frames not sampled);(anonymous) 1',
      '(idle) 1',
      'service_main;js_run 1',
      'start (service.ts:10);parse (service.ts:20) 3',
      'start (service.ts:10);parse (service.ts:20);JS_NewObjectFromShape;js_malloc.lto_priv.0;heap_malloc 1',
      'start (service.ts:10);parse (service.ts:20);js_checksum_sum 1',
      '',
    ]);
    const { entries } = summarize(resolved);
    expect(entries[0]).toMatchObject({ name: 'parse', url: 'service.ts', line: 20, self: 3, total: 5 });
    expect(entries.find((e) => e.name === 'start')).toMatchObject({ self: 0, total: 5 });
  });

  it('finds what is wrong with a broken profile', () => {
    const cpu = toCpuProfile(resolveProfile(profile(samples), symbols));
    cpu.samples[0] = 999;
    cpu.timeDeltas.pop();
    cpu.nodes[1]!.hitCount += 1;
    cpu.nodes.push({ ...cpu.nodes[2]!, id: 500, children: [] });
    const problems = validateCpuProfile(cpu).join('\n');
    expect(problems).toMatch(/sample node 999 is no node/);
    expect(problems).toMatch(/7 time deltas for 8 samples/);
    expect(problems).toMatch(/node 2 counts 1 hits for 0 samples/);
    expect(problems).toMatch(/node 500 is not reachable/);
  });
});
