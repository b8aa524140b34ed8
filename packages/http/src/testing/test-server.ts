/**
 * Test support: a server core over fake sockets and a hand-driven clock, with its own statman.
 */
import { Statman } from '@uos/statman';
import type { FetchHandler } from '../server/http-connection.js';
import { HttpServerCore, type ServerClock } from '../server/http-server.js';
import type { HttpLimits } from '../server/limits.js';
import type { Request } from '../web/request.js';
import { FakeSocket } from './fake-socket.js';

export class ManualClock implements ServerClock {
  time = 0;
  private timers: { at: number; callback: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.time;
  }

  setTimer(ms: number, callback: () => void): { cancel(): void } {
    const timer = { at: this.time + ms, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Moves time on, running due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = Math.max(this.time, due.at);
      due.cancelled = true;
      due.callback();
    }
    this.time = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}

export interface TestServer {
  core: HttpServerCore;
  clock: ManualClock;
  errors: { error: unknown; request: Request }[];
  /** A new connection (a FakeSocket; `sendCapacity`/`autoRead` as FakeSocket's). */
  connect(sendCapacity?: number, autoRead?: boolean): FakeSocket;
}

export function testServer(handler: FetchHandler, limits: HttpLimits = {}): TestServer {
  const clock = new ManualClock();
  const errors: { error: unknown; request: Request }[] = [];
  const core = new HttpServerCore(
    handler,
    { ...limits, onError: (error, request) => errors.push({ error, request }) },
    clock,
    'test0.http.80',
    new Statman(),
  );
  return {
    core,
    clock,
    errors,
    connect(sendCapacity, autoRead) {
      const socket = new FakeSocket(sendCapacity, autoRead);
      core.accept(socket);
      return socket;
    },
  };
}

/** Waits `ms` of real time (Node's timers). */
export function sleep(ms: number): Promise<void> {
  const host = globalThis as unknown as { setTimeout(callback: () => void, ms: number): unknown };
  return new Promise((resolve) => host.setTimeout(resolve, ms));
}

/** Lets promise jobs and timers of 0 ms run (handlers, stream pumps). */
export function settle(): Promise<void> {
  return sleep(0);
}
