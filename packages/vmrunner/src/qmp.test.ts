import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UosError } from '@uos/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QMP_EVENTS_KEPT, QmpClient, QmpError } from './qmp.js';
import { qemuArgs } from './qemu.js';

const GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' }, capabilities: ['oob'] } };

interface Request {
  execute: string;
  arguments?: Record<string, unknown>;
  id?: unknown;
}

/** What the fake QEMU does with one request: write raw text to the connection. */
type Handler = (request: Request, connection: Socket, requests: Request[]) => void;

/** QEMU's line ending on QMP. */
const line = (message: object): string => `${JSON.stringify(message)}\r\n`;

let directory: string;
let servers: Server[];
let clients: QmpClient[];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'uos-qmp-test-'));
  servers = [];
  clients = [];
});

afterEach(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
  rmSync(directory, { recursive: true, force: true });
});

/**
 * A fake QMP server: sends the greeting (or `greetingText`), answers qmp_capabilities and hands every
 * other request to `handler`. Resolves with the socket path and the requests seen.
 */
async function fakeQemu(
  handler: Handler,
  options: { greetingText?: string; path?: string; listen?: boolean } = {},
): Promise<{ path: string; requests: Request[]; server: Server; connections: Socket[] }> {
  const path = options.path ?? join(directory, 'qmp.sock');
  const requests: Request[] = [];
  const connections: Socket[] = [];
  const server = createServer((connection) => {
    connections.push(connection);
    connection.write(options.greetingText ?? line(GREETING));
    let buffer = '';
    connection.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const request = JSON.parse(buffer.slice(0, newline)) as Request;
        buffer = buffer.slice(newline + 1);
        requests.push(request);
        if (request.execute === 'qmp_capabilities') connection.write(line({ return: {}, id: request.id }));
        else handler(request, connection, requests);
      }
    });
    connection.on('error', () => {});
  });
  servers.push(server);
  if (options.listen !== false) await new Promise<void>((r) => server.listen(path, r));
  return { path, requests, server, connections };
}

async function connect(path: string, timeoutMs?: number): Promise<QmpClient> {
  const client = await QmpClient.connect(path, timeoutMs === undefined ? {} : { timeoutMs });
  clients.push(client);
  return client;
}

const answer =
  (value: unknown): Handler =>
  (request, connection) =>
    connection.write(line({ return: value, id: request.id }));

describe('QmpClient', () => {
  it('reads the greeting and negotiates capabilities before anything else', async () => {
    const qemu = await fakeQemu(answer({}));
    const client = await connect(qemu.path);
    expect(client.greeting?.QMP.version.qemu).toEqual({ major: 7, minor: 2, micro: 22 });
    expect(qemu.requests.map((r) => r.execute)).toEqual(['qmp_capabilities']);
    expect(qemu.requests[0]!.arguments).toBeUndefined();
  });

  it('sends a command with its arguments and resolves with its return value', async () => {
    const qemu = await fakeQemu(answer({ status: 'running', running: true }));
    const client = await connect(qemu.path);
    await expect(client.execute('query-status')).resolves.toEqual({ status: 'running', running: true });
    await expect(client.execute<string>('human-monitor-command', { 'command-line': 'info pci' })).resolves.toEqual({
      status: 'running',
      running: true,
    });
    expect(qemu.requests[2]).toMatchObject({ execute: 'human-monitor-command', arguments: { 'command-line': 'info pci' } });
    expect(qemu.requests[1]!.arguments).toBeUndefined();
  });

  it("rejects a refused command with a qmp-error carrying QEMU's error description", async () => {
    const qemu = await fakeQemu((request, connection) =>
      connection.write(
        line({ error: { class: 'CommandNotFound', desc: `The command ${request.execute} has not been found` }, id: request.id }),
      ),
    );
    const client = await connect(qemu.path);
    const error = await client.execute('nonsense').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpError);
    expect(UosError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'qmp-error',
      command: 'nonsense',
      errorClass: 'CommandNotFound',
      description: 'The command nonsense has not been found',
    });
    expect((error as Error).message).toContain('The command nonsense has not been found');
    // The connection is still usable afterwards.
    expect(client.events).toEqual([]);
  });

  it('ignores events around and between answers and keeps them', async () => {
    const qemu = await fakeQemu((request, connection) => {
      connection.write(line({ timestamp: { seconds: 1, microseconds: 2 }, event: 'STOP' }));
      connection.write(line({ timestamp: { seconds: 1, microseconds: 3 }, event: 'RESUME' }));
      connection.write(line({ return: { n: request.id }, id: request.id }));
      connection.write(line({ event: 'RESET', data: { guest: true, reason: 'guest-reset' } }));
    });
    const client = await connect(qemu.path);
    const first = await client.execute<{ n: number }>('cont');
    const second = await client.execute<{ n: number }>('cont');
    expect(second.n).toBe(first.n + 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(client.events.map((e) => e.event)).toEqual(['STOP', 'RESUME', 'RESET', 'STOP', 'RESUME', 'RESET']);
    expect(client.events[2]!.data).toEqual({ guest: true, reason: 'guest-reset' });
  });

  it(`keeps only the last ${QMP_EVENTS_KEPT} events`, async () => {
    const qemu = await fakeQemu((request, connection) => {
      connection.write(Array.from({ length: 250 }, (_, i) => line({ event: `E${i}` })).join('') + line({ return: {}, id: request.id }));
    });
    const client = await connect(qemu.path);
    await client.execute('flood');
    expect(client.events).toHaveLength(QMP_EVENTS_KEPT);
    expect(client.events[0]!.event).toBe('E150');
    expect(client.events.at(-1)!.event).toBe('E249');
  });

  it('assembles messages split across chunks, even inside a multi-byte character', async () => {
    const qemu = await fakeQemu((request, connection) => {
      const bytes = Buffer.from(line({ event: 'SPLIT' }) + line({ return: { text: 'größe ✓' }, id: request.id }));
      let offset = 0;
      const drip = (): void => {
        if (offset >= bytes.length) return;
        connection.write(bytes.subarray(offset, offset + 3));
        offset += 3;
        setTimeout(drip, 1);
      };
      drip();
    });
    const client = await connect(qemu.path);
    await expect(client.execute('query-split')).resolves.toEqual({ text: 'größe ✓' });
    expect(client.events.map((e) => e.event)).toEqual(['SPLIT']);
  });

  it('handles the greeting split across chunks', async () => {
    const text = line(GREETING);
    const qemu = await fakeQemu(answer(1), { greetingText: text.slice(0, 10) });
    qemu.server.on('connection', (connection) => setTimeout(() => connection.write(text.slice(10)), 20));
    const client = await connect(qemu.path);
    expect(client.greeting?.QMP.capabilities).toEqual(['oob']);
  });

  it('handles several messages in one chunk: greeting and event together, answers to concurrent commands together', async () => {
    const held: Request[] = [];
    const qemu = await fakeQemu(
      (request, connection) => {
        held.push(request);
        if (held.length < 3) return;
        connection.write(held.map((r) => line({ return: `answer to ${r.execute}`, id: r.id })).join('') + line({ event: 'AFTER' }));
      },
      { greetingText: line(GREETING) + line({ event: 'BEFORE' }) },
    );
    const client = await connect(qemu.path);
    const answers = await Promise.all([client.execute('one'), client.execute('two'), client.execute('three')]);
    expect(answers).toEqual(['answer to one', 'answer to two', 'answer to three']);
    await new Promise((r) => setTimeout(r, 20));
    expect(client.events.map((e) => e.event)).toEqual(['BEFORE', 'AFTER']);
  });

  it('matches answers by id even out of order, and gives an answer without id to the oldest command', async () => {
    const held: Request[] = [];
    const qemu = await fakeQemu((request, connection) => {
      held.push(request);
      if (held.length === 2) {
        connection.write(line({ return: 'second', id: held[1]!.id }) + line({ return: 'first', id: held[0]!.id }));
      } else if (held.length === 3) {
        connection.write(line({ error: { class: 'GenericError', desc: 'JSON parse error' } }));
      }
    });
    const client = await connect(qemu.path);
    await expect(Promise.all([client.execute('a'), client.execute('b')])).resolves.toEqual(['first', 'second']);
    await expect(client.execute('c')).rejects.toMatchObject({ code: 'qmp-error', description: 'JSON parse error' });
  });

  it('retries while the socket does not exist yet', async () => {
    const qemu = await fakeQemu(answer('late'), { listen: false });
    setTimeout(() => qemu.server.listen(qemu.path), 300);
    const started = Date.now();
    const client = await connect(qemu.path);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await expect(client.execute('x')).resolves.toBe('late');
  });

  it('gives up with qmp-connect-failed when no socket appears in time', async () => {
    const started = Date.now();
    await expect(QmpClient.connect(join(directory, 'never.sock'), { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'qmp-connect-failed',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rejects waiting commands when QEMU goes away, and later commands too', async () => {
    const qemu = await fakeQemu((_request, connection) => setTimeout(() => connection.destroy(), 10));
    const client = await connect(qemu.path);
    await expect(client.execute('quit')).rejects.toMatchObject({ code: 'qmp-closed' });
    await expect(client.execute('query-status')).rejects.toMatchObject({ code: 'qmp-closed' });
  });

  it('close() rejects waiting commands', async () => {
    const qemu = await fakeQemu(() => {});
    const client = await connect(qemu.path);
    const waiting = client.execute('never-answered');
    client.close();
    await expect(waiting).rejects.toMatchObject({ code: 'qmp-closed' });
    await expect(client.execute('query-status')).rejects.toMatchObject({ code: 'qmp-closed' });
  });
});

describe('qemuArgs: QMP socket', () => {
  const base = { image: '/images/a.elf', machine: 'pc', memMiB: 32, accel: 'tcg' } as const;

  it('adds a unix QMP server that does not wait for a client', () => {
    const args = qemuArgs({ ...base, qmp: '/tmp/uos-qmp-abc/qmp.sock' });
    const at = args.indexOf('-qmp');
    expect(args[at + 1]).toBe('unix:/tmp/uos-qmp-abc/qmp.sock,server=on,wait=off');
  });

  it('doubles commas in the path (QEMU option escaping)', () => {
    expect(qemuArgs({ ...base, qmp: '/tmp/a,b/qmp.sock' })).toContain('unix:/tmp/a,,b/qmp.sock,server=on,wait=off');
  });

  it('has no QMP socket unless asked, and extra arguments stay last', () => {
    expect(qemuArgs(base)).not.toContain('-qmp');
    expect(qemuArgs({ ...base, qmp: '/q.sock', extra: ['-S'] }).at(-1)).toBe('-S');
  });
});
