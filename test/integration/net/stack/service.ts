/**
 * The guest of the network integration tests: @uos/net over whichever NIC the VM has (it imports both
 * the virtio-net and the vmxnet3 driver; eth0 is the first NIC found).
 *
 * Start arguments: `static <address>/<prefix> [gateway]` or `dhcp`.
 * Services: ICMP echo (the stack itself), TCP echo on 7, discard on 9 (answers the byte count when the
 * client ends), source on 19 (sends as many bytes as the first line asks), HTTP on 80 with @uos/http (the
 * page `hello from uOS: <path>`: what ../shared/bench/side-by-side/compare.sh and `pnpm bench` load).
 * Console commands, one per line: `resolve <name>`, `ping <address> <count>`, `stats <tag>`,
 * `connections`, `profile start|stop` (a window of `uos boot --profile`, used by `pnpm bench`), `quit`.
 * Every answer is one line starting with `net: `; the first, `net: ready <interface> checksum <platform|javascript>`,
 * says which Internet checksum the stack uses (the platform's native one in an image).
 */
import '@uos/driver-virtionet';
import '@uos/driver-vmxnet3';
import { nic } from '@uos/hw';
import { os, profiler, service } from '@uos/kernel';
import { serve } from '@uos/http';
import { DhcpClient, DnsResolver, IPV4_ANY, Inet, type TcpSocket, echo, formatIpAddress, formatIpv4Address } from '@uos/net';
import { checksumImplementation } from '@uos/net/wire';
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

/** Reads one line holding a byte count, sends that many bytes (a repeating 0..250 pattern), ends. */
function source(connection: TcpSocket): void {
  let line = '';
  let started = false;
  connection.onData((data) => {
    if (started) return;
    line += new TextDecoder().decode(data);
    if (!line.includes('\n')) return;
    started = true;
    const total = Number(line.trim());
    const chunk = Uint8Array.from({ length: 65_536 }, (_, i) => i % 251);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const offset = sent % 251;
        const piece = chunk.subarray(offset, offset + Math.min(65_536 - 251, total - sent));
        const result = connection.write(piece);
        if (!result.ok) return;
        sent += result.accepted;
        if (result.accepted < piece.length) {
          connection.onDrain(pump); // once, when the send buffer has room again
          return;
        }
      }
      connection.end();
    };
    pump();
  });
}

/** The HTTP page: a fetch handler on @uos/http (the path without parsing the whole URL). */
function hello(request: Request): Response {
  const url = request.url;
  return new Response(`hello from uOS: ${url.slice(url.indexOf('/', 8))}\n`);
}

export default service({
  async start(args) {
    const device = nic('eth0');
    if (!device) {
      console.log('net: no eth0');
      os.exit(2);
      return;
    }
    const inet = new Inet(device);
    const [mode, address, gateway] = args;
    if (mode === 'static' && address) {
      const [ip, prefix] = address.split('/');
      inet.configure({ address: ip!, prefixLength: Number(prefix), ...(gateway ? { gateway } : {}) });
    } else {
      const dhcp = new DhcpClient(inet, { hostname: 'uos-guest' });
      const lease = await dhcp.start();
      if (!lease.ok) {
        console.log(`net: dhcp failed: ${lease.error}`);
        os.exit(3);
        return;
      }
      console.log(
        `net: dhcp lease ${inet.address === lease.lease.address ? formatIpv4Address(inet.address) : '?'}/${inet.ip.prefixLength} gateway ${formatIpv4Address(inet.ip.gateway ?? IPV4_ANY)} dns ${inet.dnsServers.map(formatIpv4Address).join(',')} lease ${lease.lease.leaseSeconds}`,
      );
    }
    const resolver = new DnsResolver(inet);
    inet.tcp.listen(7, echo);
    inet.tcp.listen(9, discard);
    inet.tcp.listen(19, source);
    serve({ inet, port: 80, fetch: hello });

    const commands: Record<string, (words: string[]) => Promise<void> | void> = {
      async resolve([name]) {
        const answer = await resolver.resolve(name ?? '');
        console.log(
          answer.ok
            ? `net: resolved ${name} ${answer.addresses.map(formatIpv4Address).join(',')}`
            : `net: resolve ${name} failed: ${answer.error}`,
        );
      },
      async ping([destination, count]) {
        const times: string[] = [];
        for (let i = 0; i < Number(count ?? 1); i++) {
          const r = await inet.ping(destination ?? '');
          times.push(r.ok ? r.rttMs.toFixed(3) : r.error);
        }
        console.log(`net: ping ${destination} ${times.join(' ')}`);
      },
      stats([tag = '-']) {
        const prefix = `${inet.name}.`;
        const mine = Object.fromEntries(Object.entries(statman.snapshot()).filter(([name]) => name.startsWith(prefix)));
        console.log(`net: stats ${tag} ${JSON.stringify({ ...mine, connections: inet.tcp.connectionCount })}`);
      },
      connections() {
        const list = inet.tcp
          .connections()
          .map((c) => ({ ...c, localAddress: formatIpAddress(c.localAddress), remoteAddress: formatIpAddress(c.remoteAddress) }));
        console.log(`net: connections ${list.length} ${JSON.stringify(list)}`);
      },
      profile([what]) {
        if (what === 'start') profiler.start();
        else profiler.stop();
        console.log(`net: profile ${what === 'start' ? 'start' : 'stop'}`);
      },
      quit() {
        os.exit(0);
      },
    };

    let line = '';
    let queue = Promise.resolve();
    os.stdin.onData((text) => {
      line += text;
      let end: number;
      while ((end = line.search(/[\r\n]/)) >= 0) {
        const [command = '', ...words] = line.slice(0, end).trim().split(/\s+/);
        line = line.slice(end + 1);
        if (!command) continue;
        const run = commands[command];
        // One command at a time, in order.
        queue = queue.then(() => (run ? run(words) : console.log(`net: unknown command ${command}`)));
      }
    });
    console.log(
      `net: ready ${inet} checksum ${checksumImplementation()} (${Math.round(os.uptime())} ms after boot, timeline ${JSON.stringify(os.bootInfo().timeline)})`,
    );
  },
});
