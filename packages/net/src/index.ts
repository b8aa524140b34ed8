/**
 * @uos/net: a TCP/IP stack in TypeScript, for uOS images and, unchanged, for Node (where its tests run
 * stacks against each other over simulated links).
 *
 * One `Inet` per network interface wires the layers: Ethernet (with 802.1Q parsing), ARP (a cache with
 * aging, a bounded queue of frames waiting for resolution, gratuitous ARP), IPv4 (checksums, bounded
 * fragment reassembly, a routing table with a default gateway), ICMP (echo, rate-limited unreachables,
 * ping), UDP sockets and TCP (RFC 9293 with MSS, window scaling, timestamps and PAWS, SACK both ways,
 * RFC 6298 RTO, NewReno, delayed ACK, Nagle, keepalive, half-close, TIME-WAIT, RFC 5961 challenge ACKs,
 * a bounded listen backlog, RFC 6528 ISNs, backpressure, zero-window probes). Each wire format is a
 * `XxxPacket` view checked before use plus a plain `XxxRepr` with `parseXxx`/`emitXxx`.
 *
 * Invariants: the data path never throws on what arrives from the network: malformed input is counted
 * (`<ifname>.<layer>.<counter>` in statman) and dropped; socket operations answer with result unions;
 * every queue, cache and buffer is bounded; time and randomness are injected (`NetClock`,
 * `RandomSource`), so tests drive them.
 */
export * from './address.js';
export * from './checksum.js';
export * from './wire.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './icmpv4.js';
export * from './udp.js';
export * from './tcp.js';
export * from './dhcp.js';
export * from './dns.js';
export { type NetClock, type RandomSource, type TimerHandle, systemClock, systemRandom, seededRandom, VirtualClock } from './clock.js';
export type { LinkDevice, LinkTransmitResult } from './link-device.js';
export { Inet } from './inet.js';
export type { InetConfiguration, InetOptions } from './inet.js';
export { LinkLayer } from './link-layer.js';
export { ArpLayer } from './arp-layer.js';
export type { ArpOptions } from './arp-layer.js';
export { Ipv4Layer } from './ipv4-layer.js';
export type { IpDatagram, IpSendResult, IpSendOptions, Route, PayloadWriter } from './ipv4-layer.js';
export { Reassembler } from './reassembly.js';
export type { ReassemblyLimits, ReassemblyOutcome } from './reassembly.js';
export { IcmpLayer } from './icmp-layer.js';
export type { PingOptions, PingResult, UnreachableReport } from './icmp-layer.js';
export { UdpLayer, UdpSocket } from './udp-layer.js';
export type { UdpBindResult, UdpMessage, UdpSendResult, UdpSocketError } from './udp-layer.js';
export { TcpLayer } from './tcp-layer.js';
export type { ConnectOptions, ConnectStart, ListenOptions, ListenResult, TcpListener } from './tcp-layer.js';
export { TcpConnection } from './tcp/connection.js';
export { echo } from './tcp/echo.js';
export type { CloseReason, ConnectResult, KeepAliveOptions, TcpOptions, TcpState, WriteResult } from './tcp/connection.js';
export { DhcpClient } from './dhcp-client.js';
export type { DhcpClientOptions, DhcpLease, DhcpStartResult, DhcpState } from './dhcp-client.js';
export { DnsResolver } from './dns-resolver.js';
export type { DnsResolveError, DnsResolveResult, DnsResolverOptions } from './dns-resolver.js';
export { NetError } from './errors.js';
export type { NetErrorCode } from './errors.js';
export { NetStat, freeStats, layerStats, statScope } from './stat-names.js';
export type { LayerStats, NetLayer, StatScope } from './stat-names.js';
