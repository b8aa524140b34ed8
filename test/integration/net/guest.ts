/**
 * The guest side of the network integration tests: @uos/net over the virtio-net driver. Start arguments:
 *   static <address>/<prefix> [gateway]   or   dhcp
 * Services: ICMP echo (the stack), TCP echo on port 7, a minimal HTTP responder on port 80.
 * Console commands (one per line): resolve <name> | ping <address> <count> | stats | connections | quit
 */
import '@uos/driver-virtionet';
import { nic } from '@uos/hw';
import { os, service } from '@uos/kernel';
import { DhcpClient, DnsResolver, Inet, type TcpConnection, formatIpv4Address } from '@uos/net';
import { statman } from '@uos/statman';

function echo(connection: TcpConnection): void {
  // Backpressure both ways: stop reading while the send buffer is full.
  connection.onData((data) => {
    const result = connection.write(data);
    if (result.ok && result.accepted < data.length) {
      const rest = data.subarray(result.accepted);
      void connection.writeAll(rest);
    }
  });
  connection.onEnd(() => connection.end());
}

function http(connection: TcpConnection): void {
  let request = '';
  connection.onData((data) => {
    request += new TextDecoder().decode(data);
    if (!request.includes('\r\n\r\n')) return;
    const path = /^GET (\S+)/.exec(request)?.[1] ?? '/';
    const body = `hello from uOS: ${path}\n`;
    connection.write(new TextEncoder().encode(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
    connection.end();
  });
}

export default service({
  async start(args) {
    const device = nic('eth0');
    if (!device) {
      console.log('net: no eth0');
      os.exit(2);
    }
    const inet = new Inet(device);
    const [mode, address, gateway] = args;
    if (mode === 'static') {
      const [ip, prefix] = address!.split('/');
      inet.configure({ address: ip!, prefixLength: Number(prefix), ...(gateway ? { gateway } : {}) });
    } else {
      const dhcp = new DhcpClient(inet);
      const lease = await dhcp.start();
      if (!lease.ok) {
        console.log(`net: dhcp failed: ${lease.error}`);
        os.exit(3);
      }
      console.log(`net: dhcp lease ${formatIpv4Address(inet.address)}/${inet.ip.prefixLength} gateway ${formatIpv4Address(inet.ip.gateway ?? 0)} dns ${inet.dnsServers.map(formatIpv4Address).join(',')}`);
    }
    const resolver = new DnsResolver(inet);
    inet.tcp.listen(7, echo);
    inet.tcp.listen(80, http);

    let line = '';
    os.stdin.onData(async (text) => {
      line += text;
      let end: number;
      while ((end = line.search(/[\r\n]/)) >= 0) {
        const [command, ...words] = line.slice(0, end).trim().split(/\s+/);
        line = line.slice(end + 1);
        if (command === 'resolve') {
          const answer = await resolver.resolve(words[0]!);
          console.log(answer.ok ? `net: resolved ${words[0]} ${answer.addresses.map(formatIpv4Address).join(',')}` : `net: resolve ${words[0]} failed: ${answer.error}`);
        } else if (command === 'ping') {
          const times: string[] = [];
          for (let i = 0; i < Number(words[1] ?? 1); i++) {
            const r = await inet.ping(words[0]!);
            times.push(r.ok ? r.rttMs.toFixed(2) : r.error);
          }
          console.log(`net: ping ${words[0]} ${times.join(' ')}`);
        } else if (command === 'stats') {
          console.log(`net: stats ${JSON.stringify(statman.snapshot())}`);
        } else if (command === 'connections') {
          console.log(`net: connections ${inet.tcp.connectionCount}`);
        } else if (command === 'quit') {
          os.exit(0);
        }
      }
    });
    console.log(`net: ready ${inet}`);
  },
});
