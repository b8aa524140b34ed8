/**
 * Turns the guest's raw samples into call stacks of named frames, outermost first: the JS functions
 * (named by the guest's function records, placed in TypeScript through the image's line map), then the
 * native functions the innermost JS function was in, from the interrupted RIP up to the interpreter
 * (symbolised with the image's symbol table). Time in the interpreter itself (QuickJS's JS_CallInternal)
 * is the JS function's own; time halted in the loop is "(idle)".
 */
import { PayloadKind, extractPayload } from '../payload.js';
import { readLineMap } from '../line-map.js';
import { decodeSymbols } from '../symbols.js';
import { type GuestProfile, type GuestSample, KeyKind, type SampleKey, keyId } from './guest-buffer.js';

/** A frame as Chrome's CPU profile names it (line and column 0-based, -1 when there is none). */
export interface Frame {
  /** Identity in the call tree: one per function. */
  id: string;
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
  kind: 'js' | 'native' | 'idle' | 'other';
}

export interface Symbolizer {
  /** The symbol holding `address`: its name and start, or undefined outside the image's text. */
  symbol(address: number): { name: string; start: number } | undefined;
  /** The TypeScript source and 1-based line of a bundle line. */
  source(bundleLine: number): { source: string; line: number } | undefined;
}

/** Symbols and line map from a built image's payload. */
export function imageSymbolizer(image: Uint8Array): Symbolizer {
  const payload = extractPayload(image) ?? [];
  const symbolTable = payload.find((s) => s.kind === PayloadKind.symbols);
  const lineMap = payload.find((s) => s.kind === PayloadKind.lineMap);
  const entries = symbolTable ? decodeSymbols(symbolTable.data) : [];
  const starts = entries.map((e) => e.address);
  const lookupLine = lineMap ? readLineMap(lineMap.data) : () => undefined;
  return {
    symbol(address) {
      let low = 0;
      let high = starts.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (starts[mid]! <= address) low = mid + 1;
        else high = mid;
      }
      const entry = entries[low - 1];
      return entry ? { name: entry.name, start: entry.address } : undefined;
    },
    source: lookupLine,
  };
}

export const IDLE_FRAME: Frame = { id: 'idle', functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1, kind: 'idle' };
export const PROGRAM_FRAME: Frame = { id: 'program', functionName: '(program)', url: '', lineNumber: -1, columnNumber: -1, kind: 'other' };
export const TRUNCATED_FRAME: Frame = {
  id: 'truncated',
  functionName: '(deeper frames not sampled)',
  url: '',
  lineNumber: -1,
  columnNumber: -1,
  kind: 'other',
};

/** QuickJS's functions that put a frame on its frame list: native frames above them are JS frames' own. */
function isInterpreter(name: string): boolean {
  return /^(JS_CallInternal|js_call_c_function)(\.|$)/.test(name);
}

function hex(address: number): string {
  return `0x${address.toString(16)}`;
}

/** Resolves samples to stacks, caching frames per function. */
export class StackResolver {
  private readonly frames = new Map<string, Frame>();

  constructor(
    private readonly profile: GuestProfile,
    private readonly symbols: Symbolizer,
  ) {}

  private nativeFrame(address: number, isReturnAddress: boolean): Frame {
    const symbol = this.symbols.symbol(isReturnAddress ? address - 1 : address);
    const id = symbol ? `n:${symbol.start}` : `n?:${address}`;
    let frame = this.frames.get(id);
    if (!frame) {
      frame = { id, functionName: symbol?.name ?? `(native ${hex(address)})`, url: '', lineNumber: -1, columnNumber: -1, kind: 'native' };
      this.frames.set(id, frame);
    }
    return frame;
  }

  private jsFrame(key: SampleKey): Frame {
    const id = keyId(key);
    let frame = this.frames.get(id);
    if (frame) return frame;
    if (key.kind === KeyKind.js) {
      const fn = this.profile.functions.get(id);
      const place = fn && fn.bundleLine > 0 ? this.symbols.source(fn.bundleLine) : undefined;
      frame = {
        id,
        functionName: fn ? fn.name || '(anonymous)' : `(JS function ${hex(key.address)})`,
        url: place?.source ?? '',
        lineNumber: place ? place.line - 1 : -1,
        columnNumber: place ? 0 : -1,
        kind: 'js',
      };
    } else {
      const symbol = this.symbols.symbol(key.address);
      const name = symbol && symbol.start === key.address ? symbol.name : `(C function ${hex(key.address)})`;
      frame = { id, functionName: name, url: '', lineNumber: -1, columnNumber: -1, kind: 'native' };
    }
    this.frames.set(id, frame);
    return frame;
  }

  /** The sample's frames, outermost first (never empty). */
  stack(sample: GuestSample): Frame[] {
    if (sample.idle) return [IDLE_FRAME];
    const frames: Frame[] = sample.truncated ? [TRUNCATED_FRAME] : [];
    for (let i = sample.js.length - 1; i >= 0; i--) frames.push(this.jsFrame(sample.js[i]!));
    const natives = sample.native.map((address, i) => this.nativeFrame(address, i > 0));
    let own = natives.findIndex((f) => isInterpreter(f.functionName));
    if (own < 0 || !sample.js.length) own = natives.length;
    const mine = natives.slice(0, own).reverse();
    const innermost = sample.js[0];
    if (innermost?.kind === KeyKind.c && mine[0]?.id === `n:${innermost.address}`) mine.shift();
    frames.push(...mine);
    return frames.length ? frames : [PROGRAM_FRAME];
  }
}

/** The samples inside the profile's windows (all of them when the service marked none). */
export function samplesInWindows(profile: GuestProfile): GuestSample[] {
  if (!profile.windows.length) return profile.samples;
  return profile.samples.filter((s) => profile.windows.some((w) => s.timeNs >= w.startNs && s.timeNs <= w.stopNs));
}
