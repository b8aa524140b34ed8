/**
 * @uos/net: a TCP/IP stack in TypeScript, for uOS images and, unchanged, for Node (where its tests run
 * stacks against each other over simulated links). This root export is what services use; the packet
 * formats are `@uos/net/wire`, the test devices `@uos/net/test`; the layers are internal.
 *
 * One `Inet` per network interface wires the layers (src/iface/): Ethernet (with 802.1Q parsing), ARP (a
 * cache with aging, a bounded queue of frames waiting for resolution, gratuitous ARP), IPv4 (checksums,
 * bounded fragment reassembly, a routing table with a default gateway), ICMP (echo, rate-limited
 * unreachables, ping); above IP, UDP sockets and TCP (src/socket/: RFC 9293 with MSS, window scaling,
 * timestamps and PAWS, SACK both ways, RFC 6298 RTO, NewReno, delayed ACK, Nagle, keepalive, half-close,
 * TIME-WAIT, RFC 5961 challenge ACKs, a bounded listen backlog with SYN cookies beyond it, RFC 6528
 * ISNs, backpressure both ways, zero-window probes, a timer that ends every state waiting for the peer),
 * and the applications (src/app/): a DHCP client, a DNS stub resolver, echo. What attackers send is
 * dropped, limited and counted (docs/architecture/network.md, Hardening).
 * Services hold `TcpSocket`s and `UdpSocket`s, never the engines behind them.
 *
 * Invariants: the data path never throws on what arrives from the network: malformed input is counted
 * (`<ifname>.<layer>.<counter>` in statman) and dropped; socket operations answer with result unions and
 * only a caller's own bad arguments throw (a `NetError`); every queue, cache and buffer is bounded; time,
 * randomness and the platform's checksum are injected (`NetClock`, `RandomSource`, the
 * `Symbol.for('uos.net.checksum')` slot), so the package imports no platform and tests drive all three;
 * the transport layers depend on the `IpLayer` interface and `IpAddress`, not on IPv4.
 */
export {
  type IpAddress,
  type Ipv4Address,
  type Ipv6Address,
  type MacAddress,
  IPV4_ANY,
  IPV4_BROADCAST,
  MAC_BROADCAST,
  formatIpAddress,
  formatIpv4Address,
  formatMac,
  ipv4Address,
  ipv4FromNumber,
  isIpv4,
  parseIpv4Address,
  parseMac,
  prefixMask,
} from './wire/address.js';
export { type NetClock, type RandomSource, type TimerHandle, systemClock, systemRandom } from './clock.js';
export type { LinkDevice, LinkTransmitResult } from './iface/link-device.js';
export { Inet } from './iface/inet.js';
export type { InetConfiguration, InetOptions } from './iface/inet.js';
export type { ArpOptions } from './iface/arp-layer.js';
export type { IpSendResult } from './iface/ip-layer.js';
export type { Route } from './iface/routes.js';
export type { ReassemblyLimits } from './iface/reassembly.js';
export type { PingOptions, PingResult } from './iface/icmp-layer.js';
export type { UdpBindResult, UdpMessage, UdpSendResult, UdpSocket, UdpSocketError } from './socket/udp/udp-layer.js';
export type { ConnectOptions, ConnectStart, ListenOptions, ListenResult, TcpListener } from './socket/tcp/tcp-layer.js';
export type { KeepAliveOptions, TcpOptions } from './socket/tcp/options.js';
export type { CloseReason, ConnectResult, TcpDiagnostics, TcpSocket, TcpState, WriteResult } from './socket/tcp/tcp-socket.js';
export { echo } from './app/echo.js';
export { DhcpClient } from './app/dhcp-client.js';
export type { DhcpClientOptions, DhcpLease, DhcpStartResult, DhcpState } from './app/dhcp-client.js';
export { DnsResolver } from './app/dns-resolver.js';
export type { DnsResolveError, DnsResolveResult, DnsResolverOptions } from './app/dns-resolver.js';
export { NetError } from './errors.js';
export type { NetErrorCode } from './errors.js';
export { NetStat } from './stat-names.js';
export type { NetLayer } from './stat-names.js';
