import { describe, expect, it } from 'vitest';
import { IPV4_ANY, IPV4_BROADCAST, type IpAddress, type Ipv4Address, formatIpv4Address, ipv4Address } from '../wire/address.js';
import type { VirtualClock } from '../clock.js';
import { DhcpClient, type DhcpClientOptions, type DhcpLease } from './dhcp-client.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpPacket, type DhcpRepr, dhcpLength, emitDhcp, parseDhcp } from '../wire/dhcp.js';
import type { Inet } from '../iface/inet.js';
import { createTestNetwork } from '../test/index.js';

interface Received {
  repr: DhcpRepr;
  source: IpAddress;
  destination: IpAddress;
  at: number;
}

interface ServerOptions {
  leaseSeconds?: number;
  renewalSeconds?: number;
  rebindingSeconds?: number;
  /** Decides per message: 'answer' (default), 'ignore' or 'nak'. */
  policy?: (repr: DhcpRepr, destination: IpAddress) => 'answer' | 'ignore' | 'nak';
  offered?: string;
  /** Leave the transaction ID or the hardware address wrong on offers. */
  corrupt?: 'xid' | 'chaddr';
}

/** A small DHCP server on stack b (10.0.0.2), in the manner of dnsmasq: offers 10.0.0.50/24. */
function dhcpServer(inet: Inet, clock: VirtualClock, options: ServerOptions = {}) {
  const received: Received[] = [];
  const bound = inet.udp.bind(DHCP_SERVER_PORT);
  if (!bound.ok) throw new Error(bound.error);
  const socket = bound.socket;
  const offered = ipv4Address(options.offered ?? '10.0.0.50');
  const reply = (to: DhcpRepr, kind: 'offer' | 'ack' | 'nak', unicastTo?: Ipv4Address): void => {
    const repr: DhcpRepr = {
      operation: 'reply',
      transactionId: to.transactionId,
      seconds: 0,
      broadcast: to.broadcast,
      clientAddress: IPV4_ANY,
      yourAddress: kind === 'nak' ? IPV4_ANY : offered,
      serverAddress: IPV4_ANY,
      relayAddress: IPV4_ANY,
      clientHardware: to.clientHardware,
      messageType: { kind },
      serverIdentifier: inet.address,
    };
    if (kind !== 'nak') {
      Object.assign(repr, {
        subnetMask: ipv4Address('255.255.255.0'),
        routers: [ipv4Address('10.0.0.1')],
        dnsServers: [inet.address],
        domainName: 'test.lan',
        leaseSeconds: options.leaseSeconds ?? 3600,
      });
      if (options.renewalSeconds !== undefined) repr.renewalSeconds = options.renewalSeconds;
      if (options.rebindingSeconds !== undefined) repr.rebindingSeconds = options.rebindingSeconds;
    }
    if (kind === 'offer' && options.corrupt === 'xid') repr.transactionId = (repr.transactionId + 1) >>> 0;
    if (kind === 'offer' && options.corrupt === 'chaddr') repr.clientHardware = 0x02aabbccddee;
    const bytes = new Uint8Array(dhcpLength(repr));
    emitDhcp(repr, bytes);
    socket.send(unicastTo ?? IPV4_BROADCAST, DHCP_CLIENT_PORT, bytes);
  };
  socket.onMessage((message) => {
    const checked = DhcpPacket.checked(message.data);
    if (!checked.ok) return;
    const parsed = parseDhcp(checked.value);
    if (!parsed.ok) return;
    const repr = parsed.value;
    received.push({ repr, source: message.source, destination: message.destination, at: clock.now() });
    const decision = options.policy?.(repr, message.destination) ?? 'answer';
    if (decision === 'ignore') return;
    const kind = repr.messageType.kind;
    if (kind === 'discover') reply(repr, decision === 'nak' ? 'nak' : 'offer');
    else if (kind === 'request') {
      const renewing = repr.clientAddress !== IPV4_ANY;
      reply(repr, decision === 'nak' ? 'nak' : 'ack', renewing ? repr.clientAddress : undefined);
    }
  });
  return { received, kinds: () => received.map((r) => r.repr.messageType.kind), close: () => socket.close() };
}

/** Advances virtual time in 10 ms steps, letting promise continuations run, until done or the limit. */
async function run(clock: VirtualClock, done: () => boolean, limitMs: number): Promise<void> {
  const start = clock.now();
  while (!done() && clock.now() - start < limitMs) {
    clock.advance(10);
    await Promise.resolve();
  }
}

function setup(options: ServerOptions = {}, seed = 1, clientOptions: DhcpClientOptions = {}) {
  const network = createTestNetwork({ seed });
  network.a.unconfigure();
  const server = dhcpServer(network.b, network.clock, options);
  const client = new DhcpClient(network.a, { hostname: 'uos-test', ...clientOptions });
  return { ...network, server, client };
}

describe('DhcpClient', () => {
  it('takes a lease: DISCOVER, OFFER, REQUEST, ACK, and configures the interface', async () => {
    const { clock, a, server, client } = setup();
    const started = client.start();
    await run(clock, () => client.state === 'bound', 10_000);
    const result = await started;
    expect(result.ok).toBe(true);
    expect(server.kinds()).toEqual(['discover', 'request']);
    const [discover, request] = server.received;
    expect(discover!.source).toBe(IPV4_ANY);
    expect(discover!.destination).toBe(IPV4_BROADCAST);
    expect(discover!.repr.broadcast).toBe(true);
    expect(discover!.repr.hostname).toBe('uos-test');
    expect(discover!.repr.parameterRequestList).toContain(6);
    expect(request!.repr.requestedAddress).toBe(ipv4Address('10.0.0.50'));
    expect(request!.repr.serverIdentifier).toBe(ipv4Address('10.0.0.2'));
    expect(request!.repr.transactionId).toBe(discover!.repr.transactionId);
    expect(formatIpv4Address(a.address)).toBe('10.0.0.50');
    expect(a.ip.prefixLength).toBe(24);
    expect(a.ip.gateway).toBe(ipv4Address('10.0.0.1'));
    expect(a.dnsServers).toEqual([ipv4Address('10.0.0.2')]);
    const lease = client.lease!;
    expect(lease).toMatchObject({ leaseSeconds: 3600, renewalSeconds: 1800, rebindingSeconds: 3150, domainName: 'test.lan' });
    expect(client.toString()).toBe('bound 10.0.0.50/24 from 10.0.0.2');
  });

  it('the configured stack is usable: the server pings the new address', async () => {
    const { clock, b, client } = setup();
    void client.start();
    await run(clock, () => client.state === 'bound', 10_000);
    const pong = b.ping('10.0.0.50');
    await run(clock, () => false, 100);
    expect(await pong).toMatchObject({ ok: true });
  });

  it('retransmits with backoff when offers are lost, with a new transaction after each NAK', async () => {
    let discovers = 0;
    const { clock, server, client } = setup({
      policy: (r) => (r.messageType.kind === 'discover' && ++discovers <= 3 ? 'ignore' : 'answer'),
    });
    void client.start();
    await run(clock, () => client.state === 'bound', 60_000);
    expect(client.state).toBe('bound');
    const times = server.received.filter((r) => r.repr.messageType.kind === 'discover').map((r) => r.at);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 1 s, 2 s, 4 s, each ±1 s of jitter (but never below 100 ms).
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[0]).toBeLessThanOrEqual(1_510);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_000);
    expect(gaps[1]).toBeLessThanOrEqual(3_010);
    expect(gaps[2]).toBeGreaterThanOrEqual(3_000);
    expect(gaps[2]).toBeLessThanOrEqual(5_010);
    // The same transaction all along.
    expect(new Set(server.received.map((r) => r.repr.transactionId)).size).toBe(1);
  });

  it('answers timeout when no server answers, and keeps trying', async () => {
    const { clock, server, client } = setup({ policy: () => 'ignore' });
    const started = client.start();
    await run(clock, () => false, 31_000);
    expect(await started).toEqual({ ok: false, error: 'timeout' });
    const count = server.received.length;
    expect(count).toBeGreaterThanOrEqual(4);
    await run(clock, () => false, 70_000);
    expect(server.received.length).toBeGreaterThan(count);
    client.stop();
    const stopped = server.received.length;
    await run(clock, () => false, 200_000);
    expect(server.received.length).toBe(stopped);
  });

  it('ignores replies with a wrong transaction ID or hardware address', async () => {
    for (const corrupt of ['xid', 'chaddr'] as const) {
      const { clock, a, server, client } = setup({ corrupt });
      void client.start();
      await run(clock, () => false, 5_000);
      expect(client.state).toBe('selecting');
      expect(a.configured).toBe(false);
      expect(server.kinds().every((k) => k === 'discover')).toBe(true);
      client.stop();
    }
  });

  it('renews with the server at T1 (unicast) and keeps the address', async () => {
    const { clock, a, server, client } = setup({ leaseSeconds: 100 });
    void client.start();
    await run(clock, () => client.state === 'bound', 10_000);
    const leases: DhcpLease[] = [];
    client.onLease((l) => leases.push(l));
    const grantedAt = client.lease!.grantedAt;
    await run(clock, () => leases.length === 1, 60_000);
    expect(leases).toHaveLength(1);
    const renewal = server.received[2]!;
    expect(renewal.repr.messageType.kind).toBe('request');
    expect(renewal.at - grantedAt).toBeGreaterThanOrEqual(50_000);
    expect(renewal.at - grantedAt).toBeLessThan(50_100);
    expect(renewal.destination).toBe(ipv4Address('10.0.0.2'));
    expect(renewal.source).toBe(ipv4Address('10.0.0.50'));
    expect(renewal.repr.clientAddress).toBe(ipv4Address('10.0.0.50'));
    expect(renewal.repr.requestedAddress).toBeUndefined();
    expect(client.state).toBe('bound');
    expect(formatIpv4Address(a.address)).toBe('10.0.0.50');
  });

  it('rebinds by broadcast at T2 when the server does not answer renewals', async () => {
    let ignoreUnicast = false;
    const { clock, a, server, client } = setup({
      leaseSeconds: 1000,
      policy: (_, destination) => (ignoreUnicast && destination !== IPV4_BROADCAST ? 'ignore' : 'answer'),
    });
    void client.start();
    await run(clock, () => client.state === 'bound', 10_000);
    const original = client.lease!;
    ignoreUnicast = true;
    server.received.length = 0;
    await run(clock, () => client.state === 'rebinding', 1_000_000);
    expect(clock.now() - original.grantedAt).toBeGreaterThanOrEqual(875_000);
    await run(clock, () => client.state === 'bound', 1_000);
    expect(client.state).toBe('bound');
    expect(client.lease).not.toBe(original);
    expect(client.lease!.grantedAt).toBeGreaterThanOrEqual(original.grantedAt + 875_000);
    const rebind = server.received[server.received.length - 1]!;
    expect(rebind.destination).toBe(IPV4_BROADCAST);
    expect(rebind.repr.clientAddress).toBe(ipv4Address('10.0.0.50'));
    expect(server.received.slice(0, -1).every((r) => r.destination === ipv4Address('10.0.0.2'))).toBe(true);
    expect(formatIpv4Address(a.address)).toBe('10.0.0.50');
  });

  it('goes from renewing to rebinding to expiry without a server, then unconfigures and rediscovers', async () => {
    let answering = true;
    const { clock, a, server, client } = setup({ leaseSeconds: 1000, policy: () => (answering ? 'answer' : 'ignore') });
    void client.start();
    await run(clock, () => client.state === 'bound', 10_000);
    const grantedAt = client.lease!.grantedAt;
    answering = false;
    server.received.length = 0;
    let lost = 0;
    client.onLeaseLost(() => lost++);
    await run(clock, () => client.state === 'rebinding', 1_000_000);
    const renewals = server.received.filter((r) => r.repr.messageType.kind === 'request' && r.at - grantedAt < 875_000);
    // Renewals are unicast to the server, from T1 (500 s) until T2 (875 s), the next after half the time left.
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    expect(renewals.every((r) => r.destination === ipv4Address('10.0.0.2'))).toBe(true);
    expect(renewals[0]!.at - grantedAt).toBeGreaterThanOrEqual(500_000);
    expect(renewals[1]!.at - renewals[0]!.at).toBeGreaterThanOrEqual(60_000);
    expect(clock.now() - grantedAt).toBeGreaterThanOrEqual(875_000);
    server.received.length = 0;
    await run(clock, () => client.state === 'selecting', 1_000_000);
    const rebinds = server.received.filter((r) => r.repr.messageType.kind === 'request');
    expect(rebinds.length).toBeGreaterThanOrEqual(1);
    expect(rebinds.every((r) => r.destination === IPV4_BROADCAST && r.repr.clientAddress === ipv4Address('10.0.0.50'))).toBe(true);
    expect(clock.now() - grantedAt).toBeGreaterThanOrEqual(1_000_000);
    expect(lost).toBe(1);
    expect(a.configured).toBe(false);
    expect(client.lease).toBeUndefined();
    // The server is back: a new lease.
    answering = true;
    await run(clock, () => client.state === 'bound', 100_000);
    expect(formatIpv4Address(a.address)).toBe('10.0.0.50');
  });

  it('a NAK on renewal drops the address and starts over after a pause, never in a storm', async () => {
    let nak = false;
    const { clock, a, server, client } = setup({
      leaseSeconds: 100,
      policy: (r) => (nak && r.messageType.kind === 'request' ? 'nak' : 'answer'),
    });
    void client.start();
    await run(clock, () => client.state === 'bound', 10_000);
    nak = true;
    server.received.length = 0;
    let lost = 0;
    client.onLeaseLost(() => lost++);
    await run(clock, () => lost === 1, 100_000);
    expect(lost).toBe(1);
    expect(server.received[0]!.repr.clientAddress).toBe(ipv4Address('10.0.0.50'));
    expect(client.state).toBe('init');
    expect(a.configured).toBe(false);
    // The server refuses every request from now on: the client keeps asking, at most once a second.
    await run(clock, () => false, 20_000);
    const discovers = server.received.filter((r) => r.repr.messageType.kind === 'discover').length;
    expect(discovers).toBeGreaterThanOrEqual(5);
    expect(discovers).toBeLessThanOrEqual(11);
    expect(lost).toBe(1);
    nak = false;
    await run(clock, () => client.state === 'bound', 10_000);
    expect(a.configured).toBe(true);
  });

  it('release sends DHCPRELEASE to the server and unconfigures', async () => {
    const { clock, a, server, client } = setup();
    void client.start();
    await run(clock, () => client.state === 'bound', 10_000);
    const released = client.release();
    await run(clock, () => false, 100);
    await released;
    const release = server.received[server.received.length - 1]!;
    expect(release.repr.messageType.kind).toBe('release');
    expect(release.repr.clientAddress).toBe(ipv4Address('10.0.0.50'));
    expect(release.repr.serverIdentifier).toBe(ipv4Address('10.0.0.2'));
    expect(a.configured).toBe(false);
    expect(client.state).toBe('stopped');
    expect(await client.start()).toEqual({ ok: false, error: 'stopped' });
  });

  it('gets a lease through a lossy link', async () => {
    for (const seed of [3, 4, 5]) {
      const network = createTestNetwork({ seed, faults: { drop: 0.3, duplicate: 0.1, reorder: 0.1 } });
      network.a.unconfigure();
      dhcpServer(network.b, network.clock);
      const client = new DhcpClient(network.a);
      void client.start();
      await run(network.clock, () => client.state === 'bound', 200_000);
      expect(client.state).toBe('bound');
      expect(formatIpv4Address(network.a.address)).toBe('10.0.0.50');
      client.stop();
    }
  });

  it('reports port-in-use when something else holds port 68', async () => {
    const { a, client } = setup();
    const squatter = a.udp.bind(DHCP_CLIENT_PORT);
    expect(squatter.ok).toBe(true);
    expect(await client.start()).toEqual({ ok: false, error: 'port-in-use' });
  });

  it('probes a new address by ARP before using it, when asked (RFC 5227)', async () => {
    const { clock, a, b, server, client } = setup({}, 1, { probeAddress: { probes: 2, intervalMs: 500 } });
    const probesBefore = b.arp.stats.requests_rx.value;
    void client.start();
    await run(clock, () => client.state === 'probing', 10_000);
    const ackAt = clock.now();
    expect(a.configured).toBe(false);
    await run(clock, () => client.state === 'bound', 10_000);
    expect(clock.now() - ackAt).toBeGreaterThanOrEqual(990);
    expect(b.arp.stats.requests_rx.value - probesBefore).toBeGreaterThanOrEqual(2);
    expect(formatIpv4Address(a.address)).toBe('10.0.0.50');
    expect(server.kinds()).toEqual(['discover', 'request']);
    expect(client.declined).toEqual([]);
  });

  it('declines an address another host answers for, and starts over 10 s later', async () => {
    // The server offers its own address: its ARP layer answers the probe.
    const { clock, a, server, client } = setup({ offered: '10.0.0.2' }, 1, { probeAddress: { probes: 3, intervalMs: 1000 } });
    void client.start();
    await run(clock, () => server.kinds().includes('decline'), 20_000);
    const decline = server.received.find((r) => r.repr.messageType.kind === 'decline')!;
    expect(decline.repr.requestedAddress).toBe(ipv4Address('10.0.0.2'));
    expect(decline.repr.serverIdentifier).toBe(ipv4Address('10.0.0.2'));
    expect(decline.destination).toBe(IPV4_BROADCAST);
    expect(client.declined).toEqual([ipv4Address('10.0.0.2')]);
    expect(client.state).toBe('init');
    expect(a.configured).toBe(false);
    const declinedAt = decline.at;
    await run(clock, () => server.received.filter((r) => r.repr.messageType.kind === 'discover').length === 2, 20_000);
    const rediscover = server.received.filter((r) => r.repr.messageType.kind === 'discover')[1]!;
    expect(rediscover.at - declinedAt).toBeGreaterThanOrEqual(10_000);
    client.stop();
  });
});
