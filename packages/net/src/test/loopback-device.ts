/**
 * A simulated Ethernet wire for tests: `linkPair` joins two devices so that what one transmits the other
 * receives, and a lone `LoopbackDevice` receives its own frames. Frames travel through the injected
 * `NetClock` (after `latencyMs`, 0 by default, but never inside `transmit`, so a stack is never re-entered
 * from its own send), in the order they were sent.
 */
import type { NetClock } from '../clock.js';
import { ETHERNET_HEADER_LENGTH, VLAN_TAG_LENGTH } from '../wire/ethernet.js';
import type { LinkDevice, LinkTransmitResult } from '../iface/link-device.js';
import { NetError } from '../errors.js';

export interface LoopbackDeviceOptions {
  clock: NetClock;
  /** Milliseconds from `transmit` to delivery (0 by default: the next turn of the clock). */
  latencyMs?: number;
  /** The largest Ethernet payload; longer frames are refused with 'too-large'. 1500 by default. */
  mtu?: number;
  /** Six bytes; 02:00:00:00:00:01 by default. */
  mac?: Uint8Array;
  /** The interface name (a statman name segment); 'lo' by default. */
  name?: string;
  /**
   * The device at the other end of the wire: this device's frames arrive there and its frames arrive
   * here. Without it the device receives its own frames. `peer` must not already be joined to another.
   */
  peer?: LoopbackDevice;
}

export interface LoopbackStats {
  /** Frames accepted by `transmit`. */
  transmitted: number;
  /** Frames handed to this device's listeners. */
  received: number;
  /** Frames `transmit` refused (too large). */
  refused: number;
}

const OK: LinkTransmitResult = { ok: true };
const EMPTY = new Uint8Array(0);

/** 02:00:00:00:00:<last>: locally administered, unicast. */
function defaultMac(last: number): Uint8Array {
  return Uint8Array.of(0x02, 0, 0, 0, 0, last);
}

function checkedMac(mac: Uint8Array): Uint8Array {
  if (mac.length !== 6) throw new NetError('invalid-option', `a MAC address has 6 bytes, not ${mac.length}`);
  return mac.slice();
}

function checkedNonNegative(what: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new NetError('invalid-option', `${what} must be a finite number >= 0, not ${value}`);
  return value;
}

export class LoopbackDevice implements LinkDevice {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly latencyMs: number;
  readonly stats: LoopbackStats = { transmitted: 0, received: 0, refused: 0 };
  private readonly clock: NetClock;
  private peer: LoopbackDevice = this;
  /** Frames on the wire from this device, oldest first (from `outgoingHead`). */
  private readonly outgoing: Uint8Array[] = [];
  private outgoingHead = 0;
  /** When each frame on the wire is due at the other end (beside `outgoing`). */
  private readonly dueAt: number[] = [];
  /** The instant the last delivery timer was set for (-1: none pending). */
  private scheduledFor = -1;
  private receiveListeners: ((frame: Uint8Array) => void)[] = [];
  private batchEndListeners: (() => void)[] = [];

  constructor(options: LoopbackDeviceOptions) {
    this.clock = options.clock;
    this.latencyMs = checkedNonNegative('latencyMs', options.latencyMs ?? 0);
    const mtu = options.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 0) throw new NetError('invalid-option', `mtu must be an integer >= 0, not ${mtu}`);
    this.mtu = mtu;
    this.mac = checkedMac(options.mac ?? defaultMac(1));
    this.name = options.name ?? 'lo';
    const peer = options.peer;
    if (peer) {
      if (peer.peer !== peer) throw new Error(`${peer.name} is already joined to ${peer.peer.name}`);
      this.peer = peer;
      peer.peer = this;
    }
  }

  /** Frames this device has sent that have not arrived yet. */
  get inFlight(): number {
    return this.outgoing.length - this.outgoingHead;
  }

  transmit(frame: Uint8Array): LinkTransmitResult {
    const tagged = frame[12] === 0x81 && frame[13] === 0x00; // an 802.1Q tag does not count against the MTU
    if (frame.length > this.mtu + ETHERNET_HEADER_LENGTH + (tagged ? VLAN_TAG_LENGTH : 0)) {
      this.stats.refused++;
      return { ok: false, error: 'too-large' };
    }
    this.stats.transmitted++;
    this.outgoing.push(frame.slice());
    const due = this.clock.now() + this.latencyMs;
    this.dueAt.push(due);
    // One timer per instant frames are due at (not one per frame): it delivers, oldest first, the frames
    // due by then that were on the wire when it fired.
    if (due !== this.scheduledFor) {
      this.scheduledFor = due;
      this.clock.setTimer(this.latencyMs, () => this.deliverDue(due));
    }
    return OK;
  }

  onReceive(listener: (frame: Uint8Array) => void): () => void {
    this.receiveListeners = [...this.receiveListeners, listener];
    return () => {
      this.receiveListeners = this.receiveListeners.filter((l) => l !== listener);
    };
  }

  /** The wire is never busy, so `listener` is never called. */
  onWritable(_listener: () => void): () => void {
    return () => {};
  }

  /**
   * Delivers, oldest first, the frames due by `due` (the instant this timer was set for, whatever the
   * clock says when it fires) that were on the wire already (not those their delivery sends).
   */
  private deliverDue(due: number): void {
    if (this.scheduledFor === due) this.scheduledFor = -1;
    for (let n = this.outgoing.length - this.outgoingHead; n > 0 && this.dueAt[this.outgoingHead]! <= due; n--) this.deliverOldest();
    // The frames that arrive together are one batch, as one interrupt's frames are.
    const ends = this.peer.batchEndListeners;
    for (let i = 0; i < ends.length; i++) ends[i]!();
  }

  /** Called after the frames due at one instant were all received (one batch, as one interrupt's). */
  onReceiveBatchEnd(listener: () => void): () => void {
    this.batchEndListeners = [...this.batchEndListeners, listener];
    return () => {
      this.batchEndListeners = this.batchEndListeners.filter((l) => l !== listener);
    };
  }

  private deliverOldest(): void {
    if (this.outgoingHead >= this.outgoing.length) return;
    const frame = this.outgoing[this.outgoingHead]!;
    this.outgoing[this.outgoingHead] = EMPTY;
    this.outgoingHead++;
    if (this.outgoingHead === this.outgoing.length) {
      this.outgoing.length = 0;
      this.dueAt.length = 0;
      this.outgoingHead = 0;
    }
    this.peer.receive(frame);
  }

  /** Hands `frame` to every listener; a listener's exception propagates (out of the clock, to the test). */
  private receive(frame: Uint8Array): void {
    this.stats.received++;
    // The list is replaced, never mutated, when listeners come and go, so this iteration is stable.
    const listeners = this.receiveListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!(frame);
  }
}

export interface LinkPairOptions {
  clock: NetClock;
  /** Milliseconds each way (0 by default; delivery still goes through the clock). */
  latencyMs?: number;
  /** Both devices' MTU; 1500 by default. */
  mtu?: number;
  /** 02:00:00:00:00:01 by default. */
  macA?: Uint8Array;
  /** 02:00:00:00:00:02 by default. */
  macB?: Uint8Array;
  /** Interface names (statman name segments); ['link-a', 'link-b'] by default. */
  names?: readonly [string, string];
}

/** Two devices joined by a wire: what one transmits, the other receives. */
export function linkPair(options: LinkPairOptions): [LoopbackDevice, LoopbackDevice] {
  const common = { clock: options.clock, latencyMs: options.latencyMs, mtu: options.mtu };
  const a = new LoopbackDevice({ ...common, mac: options.macA ?? defaultMac(1), name: options.names?.[0] ?? 'link-a' });
  const b = new LoopbackDevice({ ...common, mac: options.macB ?? defaultMac(2), name: options.names?.[1] ?? 'link-b', peer: a });
  return [a, b];
}
