import type { NetClock, TimerHandle } from '../../clock.js';
import type { MemoryAccount } from '../../memory.js';
import type { IpAddress } from '../../wire/address.js';
import { TcpFlag, type TcpRepr, type TcpSegment } from '../../wire/tcp.js';
import { ConnectionTable } from './connection-table.js';
import { timestampOf } from './sender.js';
import { seqGt, seqLt } from './sequence.js';

/**
 * What a TIME-WAIT record is charged: the record (12 fields), its table entry and queue slot. A
 * connection costs ten times as much; Linux's tw_bucket is about 200 bytes.
 */
export const TIME_WAIT_BYTES = 512;

/** What TIME-WAIT keeps of a connection: its endpoints and the few numbers needed to answer the peer. */
export interface TimeWaitRecord {
  readonly localAddress: IpAddress;
  readonly localPort: number;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  /** Our SND.MAX (after our FIN) and the peer's RCV.NXT (after its FIN). */
  readonly sendNext: number;
  readonly receiveNext: number;
  /** The window field of our last segment, as sent. */
  readonly window: number;
  /** The peer's last timestamp (RFC 7323 TS.Recent), when timestamps are on. */
  readonly tsRecent: number;
  readonly timestamps: boolean;
  /** When it ends, and how long a wait is (restarted by a repeated FIN). */
  expiresAt: number;
  readonly durationMs: number;
  /** Over: expired, recycled, or taken over by a new connection. */
  ended: boolean;
}

/** What a connection entering TIME-WAIT leaves for its record. */
export interface TimeWaitSource {
  readonly localAddress: IpAddress;
  readonly localPort: number;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  readonly sender: { readonly sendMax: number };
  readonly receiveNext: number;
  readonly window: { advertise(receiveNext: number, held: number): number };
  readonly socket: { readonly heldBytes: number };
  readonly tsRecent: number;
  readonly timestampsEnabled: boolean;
  readonly options: { readonly timeWaitMs?: number };
}

/** The record's fields from a connection entering TIME-WAIT (2 MSL: `timeWaitMs`, 60 s by default). */
export function timeWaitOf(connection: TimeWaitSource): Omit<TimeWaitRecord, 'expiresAt' | 'ended'> {
  return {
    localAddress: connection.localAddress,
    localPort: connection.localPort,
    remoteAddress: connection.remoteAddress,
    remotePort: connection.remotePort,
    sendNext: connection.sender.sendMax,
    receiveNext: connection.receiveNext,
    window: connection.window.advertise(connection.receiveNext, connection.socket.heldBytes),
    tsRecent: connection.tsRecent,
    timestamps: connection.timestampsEnabled,
    durationMs: connection.options.timeWaitMs ?? 60_000,
  };
}

/** What the table needs: the clock, a way out for its ACKs, and where it counts. */
export interface TimeWaitHost {
  readonly clock: NetClock;
  /** Sends a bare segment for `record` (an ACK). */
  send(record: TimeWaitRecord, repr: TcpRepr): void;
  /** Its records are charged here (TIME_WAIT_BYTES each). */
  readonly memory?: MemoryAccount;
  /** Count records recycled before their time (too many, or memory short). */
  recycled?(): void;
  /** The number of records changed. */
  sizeChanged?(size: number): void;
}

/**
 * TIME-WAIT as a table of small records, not connections (as Linux's inet_timewait_sock): the side that
 * closed first keeps, for 2 MSL, only what it needs to acknowledge a repeated FIN and to tell an old
 * duplicate from a new connection (RFC 9293 §3.6, RFC 6191), and nothing of the connection's buffers,
 * timers or listeners.
 *
 * - One clock timer for the table: records end in the order they began (a FIN that restarts a record's
 *   wait sends it to the back when its first time comes).
 * - At most `maxEntries` records; past that, and whenever the memory budget cannot pay for a new one,
 *   the oldest is recycled (RFC 6191 lets a new connection take the endpoints of one in TIME-WAIT; Linux
 *   bounds its table by tcp_max_tw_buckets). So TIME-WAIT never exhausts memory, whatever the load.
 * - In TIME-WAIT a RST is ignored (RFC 1337), a FIN is acknowledged and restarts the wait, and a SYN
 *   newer than the old connection (sequence beyond RCV.NXT, or with timestamps a newer one) lets a new
 *   connection begin (RFC 6191); everything else is dropped.
 */
export class TimeWaitTable {
  private readonly table = new ConnectionTable<TimeWaitRecord>();
  /** Records in the order their waits end (entries of ended records are skipped). */
  private queue: TimeWaitRecord[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  private readonly expire = (): void => this.expireDue();

  constructor(
    private readonly host: TimeWaitHost,
    /** Records at most (recycled oldest first past it). */
    readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.table.size;
  }

  /** Starts TIME-WAIT for a connection that just entered it; undefined when no record can be kept. */
  add(fields: Omit<TimeWaitRecord, 'expiresAt' | 'ended'>): TimeWaitRecord | undefined {
    const existing = this.table.get(fields.localAddress, fields.localPort, fields.remoteAddress, fields.remotePort);
    if (existing) this.end(existing);
    while (this.table.size >= this.maxEntries && this.recycleOldest()) {}
    const memory = this.host.memory;
    if (memory) {
      while (!memory.reserve(TIME_WAIT_BYTES)) if (!this.recycleOldest()) return undefined;
    }
    if (this.table.size >= this.maxEntries) {
      memory?.release(TIME_WAIT_BYTES);
      return undefined;
    }
    const record: TimeWaitRecord = { ...fields, expiresAt: this.host.clock.now() + fields.durationMs, ended: false };
    this.table.add(record);
    this.queue.push(record);
    this.host.sizeChanged?.(this.table.size);
    if (!this.timer) this.timer = this.host.clock.setTimer(fields.durationMs, this.expire);
    return record;
  }

  get(localAddress: IpAddress, localPort: number, remoteAddress: IpAddress, remotePort: number): TimeWaitRecord | undefined {
    return this.table.get(localAddress, localPort, remoteAddress, remotePort);
  }

  /** Whether a record holds these ports with `remoteAddress` (an active open must not take them). */
  holds(localPort: number, remoteAddress: IpAddress, remotePort: number): boolean {
    return this.table.holds(localPort, remoteAddress, remotePort);
  }

  /**
   * A segment for a record: 'reopen' when it is a SYN that may start a new connection (the record is
   * gone then), else 'done' (answered or dropped).
   */
  receive(record: TimeWaitRecord, segment: TcpSegment): 'reopen' | 'done' {
    const flags = segment.flags;
    if (flags & TcpFlag.rst) return 'done'; // RFC 1337
    if (flags & TcpFlag.syn && !(flags & TcpFlag.ack)) {
      const newer = record.timestamps && segment.timestamps ? seqGt(segment.timestamps.value, record.tsRecent) : false;
      if (newer || seqGt(segment.sequence, record.receiveNext)) {
        this.end(record);
        return 'reopen';
      }
      return 'done';
    }
    if (flags & TcpFlag.fin) {
      // Our last ACK was lost: the peer's FIN again. Acknowledge it, and wait 2 MSL from now.
      if (record.timestamps && segment.timestamps && seqLt(segment.timestamps.value, record.tsRecent)) return 'done';
      this.acknowledge(record);
      record.expiresAt = this.host.clock.now() + record.durationMs;
    }
    return 'done';
  }

  /** Every live record (for diagnostics). */
  values(): IterableIterator<TimeWaitRecord> {
    return this.table.values();
  }

  /** Ends every record (the layer closes). */
  clear(): void {
    for (const record of [...this.table.values()]) this.end(record);
    this.timer?.cancel();
    this.timer = undefined;
    this.queue = [];
    this.head = 0;
  }

  /** Ends the oldest record before its time; false when there is none. */
  recycleOldest(): boolean {
    const record = this.oldest();
    if (!record) return false;
    this.end(record);
    this.host.recycled?.();
    return true;
  }

  private acknowledge(record: TimeWaitRecord): void {
    const repr: TcpRepr = {
      sourcePort: record.localPort,
      destinationPort: record.remotePort,
      sequence: record.sendNext,
      acknowledgment: record.receiveNext,
      flags: TcpFlag.ack,
      window: record.window,
    };
    if (record.timestamps) repr.timestamps = { value: timestampOf(this.host.clock), echo: record.tsRecent };
    this.host.send(record, repr);
  }

  private end(record: TimeWaitRecord): void {
    if (record.ended) return;
    record.ended = true;
    this.table.delete(record);
    this.host.memory?.release(TIME_WAIT_BYTES);
    this.host.sizeChanged?.(this.table.size);
  }

  /** The live record at the front of the queue (ended ones are dropped on the way), or undefined. */
  private oldest(): TimeWaitRecord | undefined {
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head]!.ended) this.head++;
    this.compact();
    return queue[this.head];
  }

  private expireDue(): void {
    this.timer = undefined;
    const now = this.host.clock.now();
    for (let record = this.oldest(); record; record = this.oldest()) {
      if (record.expiresAt > now) {
        // Restarted by a FIN after it was queued: back of the queue, unless it is the only one.
        if (this.queue.length - this.head > 1 && this.queue[this.head] === record && this.isRestarted(record)) {
          this.head++;
          this.queue.push(record);
          continue;
        }
        this.timer = this.host.clock.setTimer(record.expiresAt - now, this.expire);
        return;
      }
      this.end(record);
    }
  }

  /** Whether a record's wait now ends after that of the one queued behind it (its FIN came later). */
  private isRestarted(record: TimeWaitRecord): boolean {
    for (let i = this.head + 1; i < this.queue.length; i++) {
      const next = this.queue[i]!;
      if (!next.ended) return next.expiresAt < record.expiresAt;
    }
    return false;
  }

  private compact(): void {
    if (this.head >= 64 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
