import { type Socket, createConnection } from 'node:net';
import { VmRunnerError } from './errors.js';

/** QEMU's first message on a QMP connection. */
export interface QmpGreeting {
  QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
}

/** An asynchronous QMP event, e.g. `{ event: 'RESUME', timestamp: { seconds, microseconds } }`. */
export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

/** A QMP command that QEMU answered with an error; `errorClass` and `description` are QEMU's own. */
export class QmpError extends VmRunnerError {
  static override readonly kind = 'QmpError';

  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly description: string,
  ) {
    super('qmp-error', `QMP command ${command} failed: ${description} (${errorClass})`);
  }
}

export interface QmpConnectOptions {
  /** How long to retry while QEMU has not created the socket yet. Default 5000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 50 ms. */
  retryMs?: number;
}

/** How many events `QmpClient.events` keeps. */
export const QMP_EVENTS_KEPT = 100;

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolveConnect, reject) => {
    const socket = createConnection(path);
    const onError = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolveConnect(socket);
    });
  });
}

/**
 * A client of QEMU's machine protocol (QMP) on a unix socket: newline-delimited JSON, a greeting, then
 * `qmp_capabilities`, then commands answered in order. Asynchronous events are kept (the last 100),
 * never mistaken for answers.
 */
export class QmpClient {
  /** The last `QMP_EVENTS_KEPT` asynchronous events, oldest first. */
  readonly events: QmpEvent[] = [];
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private greetingWaiter: { resolve: (greeting: QmpGreeting) => void; reject: (error: Error) => void } | undefined;
  private readonly greetingReceived: Promise<QmpGreeting>;
  private closedError: Error | undefined;
  /** QEMU's greeting (its version and capabilities), once connected. */
  greeting: QmpGreeting | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    this.greetingReceived = new Promise((resolveGreeting, reject) => {
      this.greetingWaiter = { resolve: resolveGreeting, reject };
    });
    this.greetingReceived.catch(() => {}); // handled by connect()
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', (error) =>
      this.fail(new VmRunnerError('qmp-closed', `the QMP connection at ${path} failed: ${error.message}`, { cause: error })),
    );
    socket.on('close', () => this.fail(new VmRunnerError('qmp-closed', `the QMP connection at ${path} closed (did QEMU exit?)`)));
  }

  /**
   * Connects to QEMU's QMP socket (retrying while QEMU creates it), reads the greeting and negotiates
   * capabilities; the client is then ready for `execute`.
   */
  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const retryMs = options.retryMs ?? 50;
    const deadline = Date.now() + timeoutMs;
    let socket: Socket | undefined;
    for (;;) {
      try {
        socket = await connectOnce(path);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const retriable = code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EAGAIN';
        if (!retriable || Date.now() >= deadline) {
          throw new VmRunnerError(
            'qmp-connect-failed',
            `cannot connect to QMP at ${path} within ${timeoutMs} ms: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
    const client = new QmpClient(socket, path);
    const remaining = Math.max(deadline - Date.now(), 1000);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.handshake(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new VmRunnerError('qmp-connect-failed', `QEMU sent no QMP greeting on ${path} within ${remaining} ms`)),
            remaining,
          );
        }),
      ]);
    } catch (error) {
      client.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  private async handshake(): Promise<void> {
    this.greeting = await this.greetingReceived;
    await this.execute('qmp_capabilities');
  }

  /** Runs a QMP command; resolves with its `return` value, rejects with a `QmpError` carrying QEMU's `error.desc`. */
  execute<T = unknown>(command: string, args?: object): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const message = { execute: command, ...(args !== undefined ? { arguments: args } : {}), id };
    return new Promise<T>((resolveCommand, reject) => {
      this.pending.set(id, { command, resolve: resolveCommand as (value: unknown) => void, reject });
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Closes the connection; commands still waiting are rejected. */
  close(): void {
    this.fail(new VmRunnerError('qmp-closed', `the QMP connection at ${this.path} was closed`));
    this.socket.destroy();
  }

  private fail(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    this.greetingWaiter?.reject(error);
    this.greetingWaiter = undefined;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line) this.dispatch(line);
    }
  }

  private dispatch(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.fail(new VmRunnerError('qmp-protocol', `QEMU sent a QMP message that is not JSON: ${line.slice(0, 200)}`));
      this.socket.destroy();
      return;
    }
    if ('QMP' in message) {
      this.greetingWaiter?.resolve(message as unknown as QmpGreeting);
      this.greetingWaiter = undefined;
      return;
    }
    if (typeof message.event === 'string') {
      this.events.push(message as unknown as QmpEvent);
      if (this.events.length > QMP_EVENTS_KEPT) this.events.splice(0, this.events.length - QMP_EVENTS_KEPT);
      return;
    }
    if (!('return' in message) && !('error' in message)) return; // nothing this client understands
    // Answers carry our id; one without (QEMU could not parse the request) belongs to the oldest command.
    const id = typeof message.id === 'number' && this.pending.has(message.id) ? message.id : this.pending.keys().next().value;
    if (id === undefined) return;
    const waiter = this.pending.get(id)!;
    this.pending.delete(id);
    if ('error' in message) {
      const error = (message.error ?? {}) as { class?: unknown; desc?: unknown };
      waiter.reject(new QmpError(waiter.command, String(error.class ?? 'GenericError'), String(error.desc ?? 'no description')));
    } else {
      waiter.resolve(message.return);
    }
  }
}
