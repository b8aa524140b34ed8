/**
 * The guest of the memory tests (issue 16): @uos/net over virtio-net with echo on 7, discard on 9, a
 * source on 19 (one pattern shared by every connection: the service itself holds nothing per client) and
 * the HTTP responder on 80.
 *
 * Start arguments: `static <address>/<prefix> <gateway> [option=value ...]` with the options
 * `budget=<bytes>` (memory.budgetBytes), `maxconn=<n>` (tcp.maxConnections), `maxtw=<n>`
 * (tcp.maxTimeWait) and `timewait=<ms>` (the listeners' TIME-WAIT).
 * Console commands, one per line, each answered by one line starting with `net: `:
 * `memory <tag>` (the heap after a collection, the budget and the connection counts as JSON),
 * `connections <tag>` (the first 20: state, remote port, bytes buffered and held), `stats <tag>`, `quit`.
 */
import '@uos/driver-virtionet';
import { nic } from '@uos/hw';
import { os, service } from '@uos/kernel';
import { Inet, type InetOptions, type ListenOptions, type TcpSocket, echo } from '@uos/net';
import { statman } from '@uos/statman';

/** Reads until the client ends, then answers how many bytes came. */
function discard(connection: TcpSocket): void {
  let bytes = 0;
  connection.onData((data) => {
    bytes += data.length;
  });
  connection.onEnd(() => {
    connection.write(new TextEncoder().encode(`${bytes}\n`));
    connection.end();
  });
}

/**
 * A minimal HTTP responder (one request per connection, then the server closes): the server's side of
 * TIME-WAIT, with nothing of an HTTP library's own caches in the heap the tests compare.
 */
function http(connection: TcpSocket): void {
  let request = '';
  connection.onData((data) => {
    request += String.fromCharCode(...data);
    if (!request.includes('\r\n\r\n')) return;
    const path = /^GET (\S+)/.exec(request)?.[1] ?? '/';
    const body = `hello from uOS: ${path}\n`;
    connection.write(
      new TextEncoder().encode(
        `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      ),
    );
    connection.end();
  });
  // A client that ends without a whole request (ab does, as it finishes) gets the end too: no CLOSE-WAIT left.
  connection.onEnd(() => connection.end());
}

const PATTERN = Uint8Array.from({ length: 65_536 }, (_, i) => i % 251);

/** Reads one line holding a byte count, sends that many bytes (0..250 repeating) from one shared pattern, ends. */
function source(connection: TcpSocket): void {
  let line = '';
  let total = -1;
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const offset = sent % 251;
      const result = connection.write(PATTERN.subarray(offset, offset + Math.min(65_536 - 251, total - sent)));
      if (!result.ok) return;
      sent += result.accepted;
      if (sent < total && result.accepted < 65_536 - 251) {
        connection.onDrain(pump);
        return;
      }
    }
    connection.end();
  };
  connection.onData((data) => {
    if (total >= 0) return;
    line += String.fromCharCode(...data);
    if (!line.includes('\n')) return;
    total = Number(line.trim());
    pump();
  });
}

export default service({
  start(args) {
    // The console's ring of recent lines (16 KiB) fills as the tests ask for figures: kept to 1 KiB, so
    // the heap the tests compare is the stack's.
    os.log.resize(1024);
    const device = nic('eth0');
    if (!device) {
      console.log('net: no eth0');
      os.exit(2);
      return;
    }
    const [, address, gateway, ...rest] = args;
    const settings = Object.fromEntries(rest.map((word) => word.split('=')).map(([k, v]) => [k, Number(v)]));
    const options: InetOptions = {
      ...(settings.budget ? { memory: { budgetBytes: settings.budget } } : {}),
      tcp: {
        ...(settings.maxconn ? { maxConnections: settings.maxconn } : {}),
        ...(settings.maxtw ? { maxTimeWait: settings.maxtw } : {}),
      },
    };
    const [ip, prefix] = (address ?? '10.0.2.15/24').split('/');
    // Limits the VM cannot hold throw here, at boot, with the figures.
    const inet = new Inet(device, {
      ...options,
      configuration: { address: ip!, prefixLength: Number(prefix), ...(gateway ? { gateway } : {}) },
    });
    const listen: ListenOptions = settings.timewait ? { timeWaitMs: settings.timewait } : {};
    inet.tcp.listen(7, echo, listen);
    inet.tcp.listen(9, discard, listen);
    inet.tcp.listen(19, source, listen);
    inet.tcp.listen(80, http, listen);

    const mine = (): Record<string, number> => {
      const prefix = `${inet.name}.`;
      return Object.fromEntries(Object.entries(statman.snapshot()).filter(([name]) => name.startsWith(prefix)));
    };
    const commands: Record<string, (words: string[]) => void> = {
      memory([tag = '-']) {
        const heap = os.heapUsage({ collect: true });
        const figures = {
          heapUsed: heap.usedBytes,
          heapPeak: heap.peakBytes,
          heapBlocks: heap.blocks,
          totalBytes: heap.totalBytes,
          freeBytes: heap.freeBytes,
          budget: inet.memory.limitBytes,
          budgetUsed: inet.memory.used,
          budgetPeak: inet.memory.peak,
          connections: inet.tcp.connectionCount - inet.tcp.timeWaitCount,
          timeWait: inet.tcp.timeWaitCount,
          refusedMemory: mine()[`${inet.name}.tcp.refused_memory`] ?? 0,
        };
        console.log(`net: memory ${tag} ${JSON.stringify(figures)}`);
      },
      connections([tag = '-']) {
        const list = inet.tcp.connections().map((c) => `${c.state}:${c.remotePort}:${c.bufferedBytes}:${c.heldBytes}`);
        console.log(`net: connections ${tag} ${list.length} ${list.slice(0, 20).join(' ')}`);
      },
      stats([tag = '-']) {
        console.log(`net: stats ${tag} ${JSON.stringify({ ...mine(), connections: inet.tcp.connectionCount })}`);
      },
      quit() {
        os.exit(0);
      },
    };
    let line = '';
    os.stdin.onData((text) => {
      line += text;
      let end: number;
      while ((end = line.search(/[\r\n]/)) >= 0) {
        const [command = '', ...words] = line.slice(0, end).trim().split(/\s+/);
        line = line.slice(end + 1);
        if (!command) continue;
        const run = commands[command];
        if (run) run(words);
        else console.log(`net: unknown command ${command}`);
      }
    });
    console.log(`net: ready ${inet} budget ${inet.memory.limitBytes}`);
  },
});
