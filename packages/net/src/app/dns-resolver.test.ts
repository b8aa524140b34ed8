/**
 * The DNS stub resolver against DNS servers written here: stack b of a test network answers on UDP and
 * TCP port 53, and a raw responder on b's side of the wire plays servers at other addresses (reached
 * through b as the gateway) and forges datagrams from addresses no stack holds. Virtual time drives the
 * timeouts and the cache.
 */
import { describe, expect, it } from 'vitest';
import { type IpAddress, type Ipv4Address, formatIpv4Address, ipv4Address, macFromBytes } from '../wire/address.js';
import type { VirtualClock } from '../clock.js';
import { DNS_PORT, DnsPacket, type DnsRecord, type DnsRepr, DnsTypeValue, dnsLength, emitDns, parseDns } from '../wire/dns.js';
import { DnsResolver, type DnsResolveResult, type DnsResolverOptions } from './dns-resolver.js';
import { EthernetPacket, EtherTypeValue } from '../wire/ethernet.js';
import type { Inet } from '../iface/inet.js';
import { IpProtocolValue, Ipv4Packet } from '../wire/ipv4.js';
import { NetError } from '../errors.js';
import { UdpPacket } from '../wire/udp.js';
import type { UdpSocket } from '../socket/udp/udp-layer.js';
import { type TestNetwork, createTestNetwork, udpFrame } from '../test/index.js';

const SERVER = ipv4Address('10.0.0.2');
const FAR_SERVER = ipv4Address('192.0.2.53');
const CLASS_IN = 1;

// ---------------------------------------------------------------- messages

const A = (name: string, address: string, ttl = 300): DnsRecord => ({
  name,
  type: DnsTypeValue.a,
  class: CLASS_IN,
  ttl,
  data: { kind: 'a', address: ipv4Address(address) },
});
const CNAME = (name: string, target: string, ttl = 300): DnsRecord => ({
  name,
  type: DnsTypeValue.cname,
  class: CLASS_IN,
  ttl,
  data: { kind: 'cname', name: target },
});

function wireName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.')) out.push(label.length, ...Array.from(label, (c) => c.charCodeAt(0)));
  out.push(0);
  return out;
}

const u32 = (value: number): number[] => [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];

/** An SOA for `zone` with the record TTL and the MINIMUM field given (what RFC 2308 takes the negative TTL from). */
function SOA(zone: string, ttl: number, minimum: number): DnsRecord {
  const data = Uint8Array.from([
    ...wireName(`ns.${zone}`),
    ...wireName(`hostmaster.${zone}`),
    ...u32(2024010101),
    ...u32(7200),
    ...u32(900),
    ...u32(1209600),
    ...u32(minimum),
  ]);
  return { name: zone, type: DnsTypeValue.soa, class: CLASS_IN, ttl, data: { kind: 'unknown', type: DnsTypeValue.soa, data } };
}

/** The reply to `query`: its ID and question echoed, QR and RA set, NOERROR and empty sections unless `fields` say otherwise. */
function reply(query: DnsRepr, fields: Partial<DnsRepr> = {}): DnsRepr {
  return {
    ...query,
    response: true,
    recursionAvailable: true,
    responseCode: 0,
    answers: [],
    authorities: [],
    additionals: [],
    ...fields,
  };
}

function encode(repr: DnsRepr): Uint8Array {
  const bytes = new Uint8Array(dnsLength(repr));
  emitDns(repr, bytes);
  return bytes;
}

function decode(bytes: Uint8Array): DnsRepr | undefined {
  const packet = DnsPacket.checked(bytes);
  if (!packet.ok) return undefined;
  const parsed = parseDns(packet.value);
  return parsed.ok ? parsed.value : undefined;
}

const questionOf = (query: DnsRepr): string => query.questions[0]!.name.toLowerCase();

// ---------------------------------------------------------------- servers

interface Seen {
  transport: 'udp' | 'tcp';
  /** Where the query came from. */
  source: IpAddress;
  port: number;
  query: DnsRepr;
}

/** Answers a query: the reply to send, or undefined to send nothing. */
type Handler = (query: DnsRepr, seen: Seen) => DnsRepr | undefined;

interface Server {
  /** Every query that arrived, in order. */
  seen: Seen[];
  /** The server's UDP socket on port 53, for sending by hand. */
  socket: UdpSocket;
}

/** A DNS server on `inet`, UDP and TCP port 53 (TCP messages framed by a two-byte length). */
function dnsServer(inet: Inet, handler: Handler): Server {
  const seen: Seen[] = [];
  const bound = inet.udp.bind(DNS_PORT);
  if (!bound.ok) throw new Error(bound.error);
  const socket = bound.socket;
  socket.onMessage((message) => {
    const query = decode(message.data.slice());
    if (!query) return;
    const entry: Seen = { transport: 'udp', source: message.source, port: message.sourcePort, query };
    seen.push(entry);
    const answer = handler(query, entry);
    if (answer) socket.send(message.source, message.sourcePort, encode(answer));
  });
  const listening = inet.tcp.listen(DNS_PORT, (connection) => {
    let buffer = new Uint8Array(0);
    connection.onData((data) => {
      const joined = new Uint8Array(buffer.length + data.length);
      joined.set(buffer);
      joined.set(data, buffer.length);
      buffer = joined;
      while (buffer.length >= 2) {
        const length = (buffer[0]! << 8) | buffer[1]!;
        if (buffer.length < 2 + length) break;
        const query = decode(buffer.slice(2, 2 + length));
        buffer = buffer.slice(2 + length);
        if (!query) continue;
        const entry: Seen = { transport: 'tcp', source: connection.remoteAddress, port: connection.remotePort, query };
        seen.push(entry);
        const answer = handler(query, entry);
        if (!answer) continue;
        const message = encode(answer);
        const framed = new Uint8Array(2 + message.length);
        framed[0] = message.length >>> 8;
        framed[1] = message.length & 0xff;
        framed.set(message, 2);
        connection.write(framed);
      }
    });
    connection.onEnd(() => connection.end());
  });
  if (!listening.ok) throw new Error(listening.error);
  return { seen, socket };
}

/** Puts a UDP datagram on b's side of the wire as if `source` had sent it to a: no stack needs that address. */
function forgeUdp(net: TestNetwork, source: Ipv4Address, sourcePort: number, destinationPort: number, payload: Uint8Array): void {
  net.wire[1].transmit(
    udpFrame(
      {
        sourceMac: macFromBytes(net.wire[1].mac),
        destinationMac: macFromBytes(net.wire[0].mac),
        source,
        destination: net.a.address,
      },
      { source: sourcePort, destination: destinationPort },
      payload,
    ),
  );
}

/**
 * A DNS server at `address` (off a's subnet, reached through b as the gateway) made of raw frames: it
 * reads what a puts on the wire for `address`:53 and answers with forged frames from that address.
 */
function farServer(net: TestNetwork, address: Ipv4Address, handler: Handler): Seen[] {
  const seen: Seen[] = [];
  net.wire[1].onReceive((frame) => {
    const ethernet = EthernetPacket.checked(frame);
    if (!ethernet.ok || ethernet.value.etherType !== EtherTypeValue.ipv4) return;
    const ip = Ipv4Packet.checked(ethernet.value.payload);
    if (!ip.ok || ip.value.destination !== address || ip.value.protocol !== IpProtocolValue.udp) return;
    const udp = UdpPacket.checked(ip.value.payload);
    if (!udp.ok || udp.value.destinationPort !== DNS_PORT) return;
    const query = decode(udp.value.payload.slice());
    if (!query) return;
    const entry: Seen = { transport: 'udp', source: ip.value.source, port: udp.value.sourcePort, query };
    seen.push(entry);
    const answer = handler(query, entry);
    if (answer) forgeUdp(net, address, DNS_PORT, udp.value.sourcePort, encode(answer));
  });
  return seen;
}

// ---------------------------------------------------------------- driving

let network = 0;

/** A test network whose stack a has b as its DNS server. */
function setup(): TestNetwork {
  const n = network++;
  const net = createTestNetwork({ seed: n + 1, names: [`dns${n}a`, `dns${n}b`] });
  net.a.dnsServers = [SERVER];
  return net;
}

/** Advances virtual time 1 ms at a time, letting promise continuations run between steps, until `promise` settles. */
async function settle<T>(clock: VirtualClock, promise: Promise<T>, limitMs = 120_000): Promise<T> {
  let outcome: { value: T } | undefined;
  void promise.then((value) => {
    outcome = { value };
  });
  const start = clock.now();
  for (;;) {
    for (let i = 0; i < 20 && !outcome; i++) await Promise.resolve();
    if (outcome) return outcome.value;
    if (clock.now() - start > limitMs) throw new Error(`not settled after ${limitMs} ms of virtual time`);
    clock.advance(1);
  }
}

/** Advances virtual time 1 ms at a time, letting promise continuations run, until `done()`. */
async function advanceUntil(clock: VirtualClock, done: () => boolean, limitMs = 10_000): Promise<void> {
  const start = clock.now();
  while (!done()) {
    if (clock.now() - start > limitMs) throw new Error(`not done after ${limitMs} ms of virtual time`);
    clock.advance(1);
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
}

/** Resolves `name` and lets virtual time run until the answer. */
function resolve(net: TestNetwork, resolver: DnsResolver, name: string): Promise<DnsResolveResult> {
  return settle(net.clock, resolver.resolve(name));
}

function addresses(result: DnsResolveResult): string[] {
  if (!result.ok) throw new Error(`resolve failed: ${result.error}`);
  return result.addresses.map(formatIpv4Address);
}

/** A zone for handlers: answers what it holds for the name asked, NXDOMAIN with an SOA otherwise. */
function zone(records: DnsRecord[]): Handler {
  return (query) => {
    const own = records.filter((r) => r.name.toLowerCase() === questionOf(query));
    return own.length ? reply(query, { answers: own }) : reply(query, { responseCode: 3, authorities: [SOA('example.test', 3600, 60)] });
  };
}

function resolverFor(net: TestNetwork, options?: DnsResolverOptions): DnsResolver {
  return new DnsResolver(net.a, options);
}

// ---------------------------------------------------------------- tests

describe('DnsResolver answers', () => {
  it('resolves A records with one recursive query of type A, class IN', async () => {
    const net = setup();
    const server = dnsServer(net.b, zone([A('www.example.test', '192.0.2.10', 120), A('www.example.test', '192.0.2.11', 60)]));
    const resolver = resolverFor(net);
    const result = await resolve(net, resolver, 'www.example.test');
    expect(result).toEqual({
      ok: true,
      name: 'www.example.test',
      canonicalName: 'www.example.test',
      addresses: [ipv4Address('192.0.2.10'), ipv4Address('192.0.2.11')],
      ttlSeconds: 60,
      fromCache: false,
    });
    expect(server.seen).toHaveLength(1);
    const query = server.seen[0]!.query;
    expect(query).toMatchObject({ response: false, opcode: 0, recursionDesired: true, answers: [], authorities: [], additionals: [] });
    expect(query.questions).toEqual([{ name: 'www.example.test', type: DnsTypeValue.a, class: CLASS_IN }]);
    expect(server.seen[0]!.source).toBe(net.a.address);
    expect(net.a.udp.stats.sockets.value).toBe(0); // the query's socket was closed
  });

  it('takes a trailing dot and any case, and a reply that echoes the question in another case', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) => {
      const echoed = { ...query, questions: [{ ...query.questions[0]!, name: 'WwW.eXaMpLe.TeSt' }] };
      return reply(echoed, { answers: [A('WWW.EXAMPLE.TEST', '192.0.2.10')] });
    });
    const resolver = resolverFor(net);
    const result = await resolve(net, resolver, 'Www.Example.Test.');
    expect(result).toMatchObject({ ok: true, name: 'Www.Example.Test', addresses: [ipv4Address('192.0.2.10')] });
    expect(server.seen[0]!.query.questions[0]!.name).toBe('Www.Example.Test');
  });

  it('follows a CNAME chain held in the answer, with the smallest TTL along it', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) =>
      reply(query, {
        answers: [
          // Out of order, with an unrelated record the chain does not reach.
          A('host.example.test', '192.0.2.20', 600),
          CNAME('web.example.test', 'host.example.test', 90),
          A('other.example.test', '192.0.2.66', 600),
          CNAME('www.example.test', 'web.example.test', 300),
        ],
      }),
    );
    const resolver = resolverFor(net);
    const result = await resolve(net, resolver, 'www.example.test');
    expect(result).toEqual({
      ok: true,
      name: 'www.example.test',
      canonicalName: 'host.example.test',
      addresses: [ipv4Address('192.0.2.20')],
      ttlSeconds: 90,
      fromCache: false,
    });
    expect(server.seen).toHaveLength(1);
  });

  it('queries the end of a CNAME chain again when the answer stops short of A records', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) => {
      if (questionOf(query) === 'alias.example.test')
        return reply(query, { answers: [CNAME('alias.example.test', 'target.example.net', 45)] });
      if (questionOf(query) === 'target.example.net') return reply(query, { answers: [A('target.example.net', '198.51.100.7', 500)] });
      return reply(query, { responseCode: 3 });
    });
    const resolver = resolverFor(net);
    const result = await resolve(net, resolver, 'alias.example.test');
    expect(result).toMatchObject({
      ok: true,
      canonicalName: 'target.example.net',
      addresses: [ipv4Address('198.51.100.7')],
      ttlSeconds: 45,
    });
    expect(server.seen.map((s) => questionOf(s.query))).toEqual(['alias.example.test', 'target.example.net']);
  });

  it("reports a CNAME loop in the answer as 'cname-loop'", async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) =>
      reply(query, {
        answers: [
          CNAME('a.example.test', 'b.example.test'),
          CNAME('b.example.test', 'c.example.test'),
          CNAME('c.example.test', 'A.example.test'),
        ],
      }),
    );
    const resolver = resolverFor(net);
    expect(await resolve(net, resolver, 'a.example.test')).toEqual({ ok: false, error: 'cname-loop' });
    expect(server.seen).toHaveLength(1);
  });

  it('follows at most 8 CNAMEs over re-queries: 8 reach the address, 9 are a loop', async () => {
    const net = setup();
    // n<i>.example.test is a CNAME for n<i+1>; the chain from `start` ends in an A record after `length` links.
    let end = 8;
    const server = dnsServer(net.b, (query) => {
      const i = Number(/^n(\d+)\./.exec(questionOf(query))![1]);
      if (i >= end) return reply(query, { answers: [A(`n${i}.example.test`, '192.0.2.88')] });
      return reply(query, { answers: [CNAME(`n${i}.example.test`, `n${i + 1}.example.test`)] });
    });
    const resolver = resolverFor(net, { cacheSize: 0 });
    const eight = await resolve(net, resolver, 'n0.example.test');
    expect(eight).toMatchObject({ ok: true, canonicalName: 'n8.example.test', addresses: [ipv4Address('192.0.2.88')] });
    expect(server.seen).toHaveLength(9);
    end = 9;
    server.seen.length = 0;
    expect(await resolve(net, resolver, 'n0.example.test')).toEqual({ ok: false, error: 'cname-loop' });
    expect(server.seen).toHaveLength(9); // n0..n8 asked; n8's CNAME would be the ninth link
  });

  it("reports NXDOMAIN as 'not-found' and caches it for the SOA's negative TTL", async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) => reply(query, { responseCode: 3, authorities: [SOA('example.test', 3600, 60)] }));
    const resolver = resolverFor(net);
    expect(await resolve(net, resolver, 'missing.example.test')).toEqual({ ok: false, error: 'not-found' });
    expect(server.seen).toHaveLength(1);
    net.clock.advance(59_000);
    expect(await resolve(net, resolver, 'MISSING.example.test')).toEqual({ ok: false, error: 'not-found' });
    expect(server.seen).toHaveLength(1); // from the cache
    expect(resolver.cacheEntries).toBe(1);
    net.clock.advance(2_000);
    expect(await resolve(net, resolver, 'missing.example.test')).toEqual({ ok: false, error: 'not-found' });
    expect(server.seen).toHaveLength(2); // the negative entry expired after min(3600, 60) s
  });

  it('caps the negative TTL by maxNegativeTtlSeconds, and does not cache an NXDOMAIN without an SOA', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) =>
      questionOf(query) === 'nosoa.example.test'
        ? reply(query, { responseCode: 3 })
        : reply(query, { responseCode: 3, authorities: [SOA('example.test', 3600, 3600)] }),
    );
    const resolver = resolverFor(net, { maxNegativeTtlSeconds: 10 });
    expect(await resolve(net, resolver, 'capped.example.test')).toEqual({ ok: false, error: 'not-found' });
    net.clock.advance(9_000);
    expect(await resolve(net, resolver, 'capped.example.test')).toEqual({ ok: false, error: 'not-found' });
    expect(server.seen).toHaveLength(1);
    net.clock.advance(2_000);
    expect(await resolve(net, resolver, 'capped.example.test')).toEqual({ ok: false, error: 'not-found' });
    expect(server.seen).toHaveLength(2);

    expect(await resolve(net, resolver, 'nosoa.example.test')).toEqual({ ok: false, error: 'not-found' });
    expect(await resolve(net, resolver, 'nosoa.example.test')).toEqual({ ok: false, error: 'not-found' });
    expect(server.seen).toHaveLength(4);
  });

  it("reports NOERROR without A records as 'no-data'", async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) =>
      reply(query, {
        // Records of other names or types do not make an answer.
        answers: [A('elsewhere.example.test', '192.0.2.99')],
        authorities: [SOA('example.test', 300, 300)],
      }),
    );
    const resolver = resolverFor(net);
    expect(await resolve(net, resolver, 'mx-only.example.test')).toEqual({ ok: false, error: 'no-data' });
    expect(server.seen).toHaveLength(1);
  });

  it('answers an IPv4 literal at once, without a packet', async () => {
    const net = setup();
    const resolver = resolverFor(net);
    const result = await resolver.resolve('10.0.0.5');
    expect(result).toMatchObject({
      ok: true,
      name: '10.0.0.5',
      canonicalName: '10.0.0.5',
      addresses: [ipv4Address('10.0.0.5')],
      fromCache: false,
    });
    expect(net.a.udp.stats.datagrams_tx.value).toBe(0);
    expect(net.a.ip.stats.tx_packets.value).toBe(0);
  });
});

describe('DnsResolver refuses', () => {
  it("answers 'invalid-name' for names that cannot be sent, without a packet", async () => {
    const net = setup();
    const server = dnsServer(net.b, zone([]));
    const resolver = resolverFor(net);
    const label63 = 'a'.repeat(63);
    const bad = [
      '',
      '.',
      'a..b',
      '.leading',
      'trailing..',
      `${'a'.repeat(64)}.test`,
      'has space.test',
      'back\\slash.test',
      'tab\t.test',
      'caf\u00e9.test',
      `${label63}.${label63}.${label63}.${'b'.repeat(62)}`,
    ];
    expect(bad[bad.length - 1]!.length).toBe(254);
    for (const name of bad) expect(await resolver.resolve(name), name).toEqual({ ok: false, error: 'invalid-name' });
    expect(net.a.udp.stats.datagrams_tx.value).toBe(0);
    // The longest name that fits (253 characters, 63-byte labels) is asked for.
    const longest = `${label63}.${label63}.${label63}.${'b'.repeat(61)}`;
    expect(longest.length).toBe(253);
    expect(await resolve(net, resolver, `${longest}.`)).toEqual({ ok: false, error: 'not-found' });
    expect(server.seen.map((s) => s.query.questions[0]!.name)).toEqual([longest]);
  });

  it("answers 'no-servers' and 'unconfigured' without a packet", async () => {
    const net = setup();
    net.a.dnsServers = [];
    expect(await resolverFor(net).resolve('www.example.test')).toEqual({ ok: false, error: 'no-servers' });
    expect(await resolverFor(net, { servers: [] }).resolve('www.example.test')).toEqual({ ok: false, error: 'no-servers' });
    net.a.unconfigure();
    expect(await resolverFor(net, { servers: ['10.0.0.2'] }).resolve('www.example.test')).toEqual({ ok: false, error: 'unconfigured' });
    expect(net.a.udp.stats.datagrams_tx.value).toBe(0);
  });

  it('takes the servers from inet.dnsServers at query time, or from the options', async () => {
    const net = setup();
    const server = dnsServer(net.b, zone([A('www.example.test', '192.0.2.10')]));
    net.a.dnsServers = [];
    const resolver = resolverFor(net);
    expect(await resolver.resolve('www.example.test')).toEqual({ ok: false, error: 'no-servers' });
    net.a.dnsServers = [SERVER];
    expect(addresses(await resolve(net, resolver, 'www.example.test'))).toEqual(['192.0.2.10']);
    net.a.dnsServers = [];
    expect(addresses(await resolve(net, resolverFor(net, { servers: ['10.0.0.2'] }), 'www.example.test'))).toEqual(['192.0.2.10']);
    expect(server.seen).toHaveLength(2);
  });

  it('throws a NetError for options that make no sense', () => {
    const net = setup();
    expect(() => resolverFor(net, { attempts: 0 })).toThrow(NetError);
    expect(() => resolverFor(net, { timeoutMs: -1 })).toThrow(NetError);
    expect(() => resolverFor(net, { cacheSize: 1.5 })).toThrow(NetError);
    expect(() => resolverFor(net, { servers: ['not an address'] })).toThrow(NetError);
  });
});

describe('DnsResolver retries', () => {
  it('retries after a timeout with a new ID and port, and takes the second answer', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) => {
      if (server.seen.length === 1) return undefined; // the first query is lost
      return reply(query, { answers: [A('www.example.test', '192.0.2.10')] });
    });
    const resolver = resolverFor(net);
    const start = net.clock.now();
    expect(addresses(await resolve(net, resolver, 'www.example.test'))).toEqual(['192.0.2.10']);
    expect(server.seen).toHaveLength(2);
    expect(net.clock.now() - start).toBeGreaterThanOrEqual(2000);
    expect(net.clock.now() - start).toBeLessThan(2100);
    const [first, second] = server.seen;
    expect(first!.port).not.toBe(second!.port);
    expect(first!.query.id).not.toBe(second!.query.id);
    expect(net.a.udp.stats.sockets.value).toBe(0);
  });

  it("answers 'unreachable' at once when nothing listens on the server's port 53 (ICMP port unreachable)", async () => {
    const net = setup();
    // No DNS server on b: b answers each query with a port-unreachable quoting it.
    const resolver = resolverFor(net, { attempts: 3, timeoutMs: 2000 });
    const start = net.clock.now();
    expect(await resolve(net, resolver, 'www.example.test')).toEqual({ ok: false, error: 'unreachable' });
    expect(net.clock.now() - start).toBeLessThan(100);
    expect(net.b.icmp.stats.unreachable_tx.value).toBe(3);
    expect(net.a.icmp.stats.unreachable_rx.value).toBe(3);
    expect(net.a.udp.stats.sockets.value).toBe(0);
  });

  it("answers 'timeout' after `attempts` queries that all went unanswered", async () => {
    const net = setup();
    const server = dnsServer(net.b, () => undefined);
    const resolver = resolverFor(net, { attempts: 4, timeoutMs: 1500 });
    const start = net.clock.now();
    expect(await resolve(net, resolver, 'www.example.test')).toEqual({ ok: false, error: 'timeout' });
    expect(server.seen).toHaveLength(4);
    expect(net.clock.now() - start).toBeGreaterThanOrEqual(6000);
    expect(net.clock.now() - start).toBeLessThan(6100);
    expect(net.a.udp.stats.sockets.value).toBe(0);

    const defaults = resolverFor(net);
    server.seen.length = 0;
    expect(await resolve(net, defaults, 'www.example.test')).toEqual({ ok: false, error: 'timeout' });
    expect(server.seen).toHaveLength(3);
  });

  it('moves on to the next server at once after SERVFAIL, and takes its answer', async () => {
    const net = setup();
    net.a.configure({ address: '10.0.0.1', prefixLength: 24, gateway: '10.0.0.2', dnsServers: ['10.0.0.2', '192.0.2.53'] });
    const first = dnsServer(net.b, (query) => reply(query, { responseCode: 2 }));
    const second = farServer(net, FAR_SERVER, (query) => reply(query, { answers: [A('www.example.test', '192.0.2.10')] }));
    const resolver = resolverFor(net);
    const start = net.clock.now();
    expect(addresses(await resolve(net, resolver, 'www.example.test'))).toEqual(['192.0.2.10']);
    expect(first.seen).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect(net.clock.now() - start).toBeLessThan(100); // no timeout was waited out
  });

  it('cycles through the servers when they do not answer', async () => {
    const net = setup();
    net.a.configure({ address: '10.0.0.1', prefixLength: 24, gateway: '10.0.0.2', dnsServers: ['10.0.0.2', '192.0.2.53'] });
    const first = dnsServer(net.b, () => undefined);
    const second = farServer(net, FAR_SERVER, () => undefined);
    expect(await resolve(net, resolverFor(net, { attempts: 5 }), 'www.example.test')).toEqual({ ok: false, error: 'timeout' });
    expect(first.seen).toHaveLength(3);
    expect(second).toHaveLength(2);
  });

  it("reports 'server-failure' when every attempt got SERVFAIL, 'refused' when every one got REFUSED", async () => {
    const net = setup();
    let code = 2;
    const server = dnsServer(net.b, (query) => reply(query, { responseCode: code }));
    const resolver = resolverFor(net);
    expect(await resolve(net, resolver, 'www.example.test')).toEqual({ ok: false, error: 'server-failure' });
    expect(server.seen).toHaveLength(3);
    code = 5;
    expect(await resolve(net, resolver, 'www.example.test')).toEqual({ ok: false, error: 'refused' });
    expect(server.seen).toHaveLength(6);
    code = 4; // NOTIMP: a failure like any other
    expect(await resolve(net, resolver, 'www.example.test')).toEqual({ ok: false, error: 'server-failure' });
    expect(server.seen).toHaveLength(9);
  });

  it('retries a truncated answer over TCP with the same query, and takes the full answer', async () => {
    const net = setup();
    const many = Array.from({ length: 40 }, (_, i) => A('big.example.test', `198.51.100.${i + 1}`));
    const server = dnsServer(net.b, (query, seen) =>
      seen.transport === 'udp' ? reply(query, { truncated: true, answers: many.slice(0, 1) }) : reply(query, { answers: many }),
    );
    const resolver = resolverFor(net);
    const result = await resolve(net, resolver, 'big.example.test');
    expect(addresses(result)).toEqual(many.map((r) => formatIpv4Address((r.data as { address: Ipv4Address }).address)));
    expect(server.seen.map((s) => s.transport)).toEqual(['udp', 'tcp']);
    expect(server.seen[1]!.query.id).toBe(server.seen[0]!.query.id);
    expect(server.seen[1]!.query.questions).toEqual(server.seen[0]!.query.questions);
  });
});

describe('DnsResolver defends', () => {
  it('ignores replies with the wrong ID, port, source, question or QR bit, and waits for the real one', async () => {
    const net = setup();
    const bound = net.b.udp.bind(5353);
    if (!bound.ok) throw new Error(bound.error);
    const other = bound.socket;
    const spoof = (query: DnsRepr, address: string, fields: Partial<DnsRepr> = {}): Uint8Array =>
      encode(reply(query, { answers: [A(query.questions[0]!.name, address)], ...fields }));
    const server = dnsServer(net.b, (query, seen) => {
      const to = seen.source;
      const port = seen.port;
      server.socket.send(to, port, spoof(query, '6.6.6.1', { id: query.id ^ 0x0101 }));
      other.send(to, port, spoof(query, '6.6.6.2'));
      const elsewhere = { ...query, questions: [{ ...query.questions[0]!, name: 'evil.example.test' }] };
      server.socket.send(
        to,
        port,
        encode(reply(elsewhere, { answers: [A('www.example.test', '6.6.6.3'), A('evil.example.test', '6.6.6.3')] })),
      );
      server.socket.send(to, port, spoof(query, '6.6.6.4', { response: false }));
      const aaaa = { ...query, questions: [{ ...query.questions[0]!, type: DnsTypeValue.aaaa }] };
      server.socket.send(to, port, encode(reply(aaaa, { answers: [A('www.example.test', '6.6.6.5')] })));
      forgeUdp(net, ipv4Address('10.0.0.99'), DNS_PORT, port, spoof(query, '6.6.6.6'));
      // The real answer comes half a second after the forgeries.
      net.clock.setTimer(500, () => server.socket.send(to, port, spoof(query, '192.0.2.10')));
      return undefined;
    });
    const resolver = resolverFor(net);
    const start = net.clock.now();
    expect(addresses(await resolve(net, resolver, 'www.example.test'))).toEqual(['192.0.2.10']);
    expect(net.clock.now() - start).toBeGreaterThanOrEqual(500);
    expect(server.seen).toHaveLength(1); // one attempt: the forgeries neither ended it nor failed it
  });

  it('asks from a different random port with a different random ID each time', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) => reply(query, { answers: [A(query.questions[0]!.name, '192.0.2.10')] }));
    const resolver = resolverFor(net);
    for (let i = 0; i < 12; i++) await resolve(net, resolver, `host${i}.example.test`);
    expect(server.seen).toHaveLength(12);
    const ports = server.seen.map((s) => s.port);
    const ids = server.seen.map((s) => s.query.id);
    expect(new Set(ports).size).toBe(12);
    expect(new Set(ids).size).toBe(12);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(49152);
    // Not a counter: the gaps between consecutive values are not all the same.
    expect(new Set(ids.slice(1).map((id, i) => (id - ids[i]! + 0x10000) % 0x10000)).size).toBeGreaterThan(1);
    expect(new Set(ports.slice(1).map((port, i) => port - ports[i]!)).size).toBeGreaterThan(1);
    expect(net.a.udp.stats.sockets.value).toBe(0);
  });
});

describe('DnsResolver cache', () => {
  it('answers from the cache without a packet until the TTL runs out', async () => {
    const net = setup();
    const server = dnsServer(net.b, zone([A('www.example.test', '192.0.2.10', 60)]));
    const resolver = resolverFor(net);
    expect(await resolve(net, resolver, 'www.example.test')).toMatchObject({ ok: true, fromCache: false, ttlSeconds: 60 });
    const sent = net.a.udp.stats.datagrams_tx.value;
    net.clock.advance(20_000);
    const hit = await resolver.resolve('WWW.example.test.');
    expect(hit).toEqual({
      ok: true,
      name: 'WWW.example.test',
      canonicalName: 'www.example.test',
      addresses: [ipv4Address('192.0.2.10')],
      ttlSeconds: 40,
      fromCache: true,
    });
    expect(net.a.udp.stats.datagrams_tx.value).toBe(sent);
    expect(server.seen).toHaveLength(1);
    expect(resolver.cacheEntries).toBe(1);
    net.clock.advance(40_000);
    expect(resolver.cacheEntries).toBe(0);
    expect(await resolve(net, resolver, 'www.example.test')).toMatchObject({ ok: true, fromCache: false });
    expect(server.seen).toHaveLength(2);
  });

  it('caches a CNAME chain under the name asked for the smallest TTL along it', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) =>
      reply(query, {
        answers: [CNAME('www.example.test', 'host.example.test', 10), A('host.example.test', '192.0.2.20', 600)],
      }),
    );
    const resolver = resolverFor(net);
    await resolve(net, resolver, 'www.example.test');
    net.clock.advance(9_000);
    expect(await resolver.resolve('www.example.test')).toMatchObject({ ok: true, fromCache: true, canonicalName: 'host.example.test' });
    net.clock.advance(1_000);
    expect(await resolve(net, resolver, 'www.example.test')).toMatchObject({ ok: true, fromCache: false });
    expect(server.seen).toHaveLength(2);
  });

  it('does not cache an answer with TTL 0', async () => {
    const net = setup();
    const server = dnsServer(net.b, zone([A('www.example.test', '192.0.2.10', 0)]));
    const resolver = resolverFor(net);
    expect(await resolve(net, resolver, 'www.example.test')).toMatchObject({ ok: true, ttlSeconds: 0, fromCache: false });
    expect(resolver.cacheEntries).toBe(0);
    expect(await resolve(net, resolver, 'www.example.test')).toMatchObject({ ok: true, fromCache: false });
    expect(server.seen).toHaveLength(2);
  });

  it('holds at most cacheSize names, dropping the least recently used', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) => reply(query, { answers: [A(query.questions[0]!.name, '192.0.2.10', 3600)] }));
    const resolver = resolverFor(net, { cacheSize: 2 });
    await resolve(net, resolver, 'one.example.test');
    await resolve(net, resolver, 'two.example.test');
    expect(await resolver.resolve('one.example.test')).toMatchObject({ fromCache: true }); // one is now the most recent
    await resolve(net, resolver, 'three.example.test');
    expect(resolver.cacheEntries).toBe(2);
    expect(server.seen).toHaveLength(3);
    expect(await resolver.resolve('one.example.test')).toMatchObject({ fromCache: true });
    expect(await resolver.resolve('three.example.test')).toMatchObject({ fromCache: true });
    expect(await resolve(net, resolver, 'two.example.test')).toMatchObject({ ok: true, fromCache: false });
    expect(server.seen).toHaveLength(4);
    expect(resolver.cacheEntries).toBe(2);
  });

  it('shares one query among concurrent resolves of the same name', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query) => reply(query, { answers: [A(query.questions[0]!.name, '192.0.2.10')] }));
    const resolver = resolverFor(net);
    const all = Promise.all([
      resolver.resolve('www.example.test'),
      resolver.resolve('WWW.EXAMPLE.TEST'),
      resolver.resolve('www.example.test.'),
      resolver.resolve('mail.example.test'),
    ]);
    const results = await settle(net.clock, all);
    expect(results.map((r) => r.ok && r.name)).toEqual(['www.example.test', 'WWW.EXAMPLE.TEST', 'www.example.test', 'mail.example.test']);
    for (const result of results) expect(result).toMatchObject({ ok: true, addresses: [ipv4Address('192.0.2.10')], fromCache: false });
    expect(server.seen.map((s) => questionOf(s.query))).toEqual(['www.example.test', 'mail.example.test']);
  });

  it('empties the cache when the interface is reconfigured', async () => {
    const net = setup();
    const server = dnsServer(net.b, zone([A('www.example.test', '192.0.2.10')]));
    const resolver = resolverFor(net);
    await resolve(net, resolver, 'www.example.test');
    expect(resolver.cacheEntries).toBe(1);
    net.a.configure({ address: '10.0.0.1', prefixLength: 24, dnsServers: ['10.0.0.2'] });
    expect(resolver.cacheEntries).toBe(0);
    expect(await resolve(net, resolver, 'www.example.test')).toMatchObject({ ok: true, fromCache: false });
    expect(server.seen).toHaveLength(2);
  });
});

describe('DnsResolver close', () => {
  it("answers pending resolves with 'timeout' at once, closes their sockets and stops sending", async () => {
    const net = setup();
    const server = dnsServer(net.b, () => undefined);
    const resolver = resolverFor(net);
    const pending = resolver.resolve('www.example.test');
    net.clock.advance(100);
    expect(server.seen).toHaveLength(1);
    expect(net.a.udp.stats.sockets.value).toBe(1);
    resolver.close();
    expect(await settle(net.clock, pending, 0)).toEqual({ ok: false, error: 'timeout' });
    expect(net.a.udp.stats.sockets.value).toBe(0);
    net.clock.advance(10_000);
    expect(server.seen).toHaveLength(1); // no retries after close
    expect(await resolver.resolve('www.example.test')).toEqual({ ok: false, error: 'timeout' });
    expect(await resolver.resolve('10.1.2.3')).toMatchObject({ ok: true });
  });

  it('aborts a TCP retry in progress', async () => {
    const net = setup();
    const server = dnsServer(net.b, (query, seen) => (seen.transport === 'udp' ? reply(query, { truncated: true }) : undefined));
    const resolver = resolverFor(net);
    const pending = resolver.resolve('www.example.test');
    await advanceUntil(net.clock, () => server.seen.length >= 2);
    expect(server.seen.map((s) => s.transport)).toEqual(['udp', 'tcp']);
    expect(net.a.tcp.connectionCount).toBe(1);
    resolver.close();
    expect(await settle(net.clock, pending, 0)).toEqual({ ok: false, error: 'timeout' });
    expect(net.a.tcp.connectionCount).toBe(0);
  });
});
