/**
 * @uos/net: the network stack.
 *
 * This layer will wire Ethernet, ARP, IPv4, ICMP, UDP and TCP (with MSS, window scaling, SACK,
 * timestamps, RFC 6298 RTO and NewReno), a DHCPv4 client and a DNS stub resolver over a `Nic`, in one
 * `Inet` constructor per interface. Wire formats are `XxxPacket` views over `Uint8Array` plus plain
 * `XxxRepr` objects; the data path returns results and never throws.
 *
 * Invariants (to hold when the layer lands): malformed input is counted and dropped, never thrown out of
 * the stack; every queue and cache is bounded.
 *
 * Status: not built yet (the network-stack issue). It exports nothing until then.
 */
export {};
