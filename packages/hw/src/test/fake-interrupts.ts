/**
 * The interrupt side of a fake machine: what the kernel's `irq` calls and its event loop read, without
 * the native platform. Installed, it answers `irq.allocate`, `irq.routeGsi`, `irq.free` (a stand-in for
 * `globalThis.__uos` holding only the interrupt bindings) and puts an `EventLoop` of its own in the
 * kernel's loop slot, so a driver's `irq.subscribe` handlers run when a test calls `settle()`.
 *
 * Devices raise interrupts three ways: an MSI or MSI-X message (`message(address, data)`, checked
 * against the local APIC the way the CPU takes it), an edge on a vector (`raise`), or a level-triggered
 * legacy line (`setLine`): a line stays raised, turn after turn, until every device on it lowers it, as
 * the I/O APIC re-delivers a level interrupt the handler did not clear.
 */
import { EventLoop } from '@uos/kernel';

/** The first and last vectors `irq.allocate` hands out, as the native platform does. */
const FIRST_DYNAMIC = 64;
const LAST_DYNAMIC = 239;
const loopKey = Symbol.for('uos.kernel.event-loop');
const holder = globalThis as unknown as Record<string | symbol, unknown>;

export interface RoutedLine {
  gsi: number;
  vector: number;
  level: boolean;
  activeLow: boolean;
}

export class FakeInterruptController {
  /** Vectors taken by handlers (each entry is one turn's delivery of that vector). */
  readonly delivered: number[] = [];
  /** Legacy lines routed through `irq.routeGsi`. */
  readonly routed: RoutedLine[] = [];
  /** MSI/MSI-X messages that went nowhere (a wrong address): a driver bug the test can look for. */
  readonly strayMessages: { address: number; data: number }[] = [];
  /** The local APIC ID messages must name (the fake platform's `localApicId`). */
  apicId = 0;
  /** Milliseconds on the loop's clock; tests move it. */
  now = 0;
  readonly loop: EventLoop;
  private readonly pending = new Set<number>();
  private readonly allocated = new Set<number>();
  /** Per GSI, the sources that hold the line raised. */
  private readonly lines = new Map<number, Set<unknown>>();
  private saved: { native: unknown; loop: unknown } | undefined;

  constructor() {
    this.loop = new EventLoop({
      now: () => this.now,
      runMicrotasks: () => {},
      takeInterrupts: () => this.take(),
    });
  }

  /** Becomes the machine's interrupt controller and event loop (until `uninstall`). */
  install(): this {
    if (this.saved) return this;
    this.saved = { native: holder.__uos, loop: holder[loopKey] };
    holder.__uos = this.bindings();
    holder[loopKey] = this.loop;
    return this;
  }

  uninstall(): void {
    if (!this.saved) return;
    if (this.saved.native === undefined) delete holder.__uos;
    else holder.__uos = this.saved.native;
    if (this.saved.loop === undefined) delete holder[loopKey];
    else holder[loopKey] = this.saved.loop;
    this.saved = undefined;
  }

  /** An edge on `vector` (taken at the next turn; several edges before it count once, as on the APIC). */
  raise(vector: number): void {
    this.pending.add(vector);
  }

  /** An MSI or MSI-X message: delivered when `address` names this CPU's local APIC, else recorded as stray. */
  message(address: number, data: number): void {
    const apic = address >>> 0;
    if ((apic & 0xfff00000) >>> 0 !== 0xfee00000 || ((apic >>> 12) & 0xff) !== this.apicId || (data & 0xff) < 32) {
      this.strayMessages.push({ address, data });
      return;
    }
    this.raise(data & 0xff);
  }

  /** Raises (`high`) or lowers a level-triggered legacy line on behalf of `source` (lines are shared). */
  setLine(gsi: number, source: unknown, high: boolean): void {
    let sources = this.lines.get(gsi);
    if (!sources) this.lines.set(gsi, (sources = new Set()));
    if (high) sources.add(source);
    else sources.delete(source);
  }

  /** Whether a legacy line is raised. */
  lineRaised(gsi: number): boolean {
    return (this.lines.get(gsi)?.size ?? 0) > 0;
  }

  /** Whether a turn would run handlers. */
  get busy(): boolean {
    return this.pending.size > 0 || this.routed.some((r) => this.lineRaised(r.gsi));
  }

  /**
   * Runs event-loop turns until no interrupt is pending and no routed line is raised, letting promise
   * jobs and microtasks (a driver's batched notifications) run between turns. Returns the turns run.
   * Throws when interrupts keep coming after `maxTurns` (a handler that never clears its device).
   */
  async settle(maxTurns = 1000): Promise<number> {
    let turns = 0;
    await macrotask();
    while (this.busy) {
      if (turns >= maxTurns) {
        const raised = this.routed.filter((r) => this.lineRaised(r.gsi)).map((r) => `line ${r.gsi} (vector ${r.vector})`);
        throw new Error(`fake machine: interrupts still pending after ${maxTurns} turns: ${[...this.pending, ...raised].join(', ')}`);
      }
      this.loop.turn();
      turns++;
      await macrotask();
    }
    return turns;
  }

  private take(): number[] {
    const vectors = [...this.pending];
    this.pending.clear();
    for (const r of this.routed) if (r.level && this.lineRaised(r.gsi) && !vectors.includes(r.vector)) vectors.push(r.vector);
    this.delivered.push(...vectors);
    return vectors;
  }

  private allocate(count: number): number {
    if (!Number.isInteger(count) || count < 1 || count > 32) return -1;
    const size = 2 ** Math.ceil(Math.log2(count));
    for (let first = FIRST_DYNAMIC; first + count - 1 <= LAST_DYNAMIC; first += size) {
      let free = true;
      for (let v = first; v < first + count; v++) if (this.allocated.has(v)) free = false;
      if (!free) continue;
      for (let v = first; v < first + count; v++) this.allocated.add(v);
      return first;
    }
    return -1;
  }

  /** The interrupt bindings of `globalThis.__uos`; anything else a test reaches says it is not emulated. */
  private bindings(): object {
    const implemented: Record<string, unknown> = {
      irqAllocate: (count: number) => this.allocate(count),
      irqFree: (first: number, count: number) => {
        for (let v = first; v < first + count; v++) this.allocated.delete(v);
        for (const r of this.routed.filter((line) => line.vector >= first && line.vector < first + count))
          this.routed.splice(this.routed.indexOf(r), 1);
      },
      irqRouteGsi: (gsi: number, level: boolean, activeLow: boolean) => {
        const vector = this.allocate(1);
        if (vector >= 0) this.routed.push({ gsi, vector, level, activeLow });
        return vector;
      },
      irqRouteIsa: (line: number) => (line >= 0 && line < 16 ? 32 + line : -1),
      irqDone: () => {},
      irqCounts: () => new Array<number>(256).fill(0),
      panic: (reason: string, error?: unknown) => {
        throw error instanceof Error ? error : new Error(`${reason} ${String(error)}`);
      },
    };
    return new Proxy(implemented, {
      get: (target, name) => {
        if (typeof name !== 'string' || name in target) return target[name as string];
        return () => {
          throw new Error(`fake machine: the native binding ${name} is not emulated`);
        };
      },
    });
  }
}

/** The host's timer (Node's, under vitest): this file runs in Node and declares no uOS globals. */
const hostSetTimeout = (globalThis as unknown as { setTimeout(callback: () => void, ms: number): unknown }).setTimeout;

/** Resolves after every promise job and microtask queued before it has run. */
function macrotask(): Promise<void> {
  return new Promise((resolve) => hostSetTimeout(resolve, 0));
}
