import { IPV4_ANY, type Ipv4Address, formatIpv4Address, ipv4Address } from '../wire/address.js';
import { ArpLayer, type ArpOptions } from './arp-layer.js';
import { type NetClock, type RandomSource, systemClock, systemRandom } from '../clock.js';
import { IcmpLayer, type PingOptions, type PingResult } from './icmp-layer.js';
import { Ipv4Layer } from './ipv4-layer.js';
import type { LinkDevice } from './link-device.js';
import { LinkLayer } from './link-layer.js';
import type { ReassemblyLimits } from './reassembly.js';
import { CONNECTION_BYTES, TcpLayer, type TcpLimits } from '../socket/tcp/tcp-layer.js';
import { TIME_WAIT_BYTES } from '../socket/tcp/time-wait.js';
import { MemoryBudget, type MemoryOptions, checkLimit, createBudget } from '../memory.js';
import { UdpLayer } from '../socket/udp/udp-layer.js';
import { freeStats, layerStats, statScope } from '../stat-names.js';
import type { Statman } from '@uos/statman';
import { NetError } from '../errors.js';

export interface InetConfiguration {
  address: Ipv4Address | string;
  prefixLength: number;
  gateway?: Ipv4Address | string;
  dnsServers?: (Ipv4Address | string)[];
}

export interface InetOptions {
  /** A static configuration; without one the interface starts unconfigured (DHCP configures it). */
  configuration?: InetConfiguration;
  clock?: NetClock;
  random?: RandomSource;
  arp?: ArpOptions;
  reassembly?: ReassemblyLimits;
  /**
   * The 802.1Q VLAN (1..4094) the interface is on: frames out are tagged with it and only frames tagged
   * with it are taken. Without it, tagged frames are dropped (priority-tagged VLAN 0 frames excepted).
   * One Inet per VLAN on a device.
   */
  vlan?: number;
  /** Where the statistics go (`<ifname>.<layer>.<counter>`); the global `statman` unless given. */
  statman?: Statman;
  /**
   * The memory budget for what peers make the stack keep (see MemoryOptions; by default half the VM's
   * free memory in an image). A `MemoryBudget` may be shared by several interfaces.
   */
  memory?: MemoryOptions | MemoryBudget;
  /** Limits of TCP: connections and TIME-WAIT records at once. */
  tcp?: TcpLimits;
}

const address = (a: Ipv4Address | string): Ipv4Address => (typeof a === 'string' ? ipv4Address(a) : a);

/**
 * The IPv4 stack of one network interface, wired in one place (IncludeOS's Inet): Ethernet at the bottom,
 * ARP and IPv4 above it, ICMP, UDP and TCP above IPv4. More than one interface means more than one Inet.
 */
export class Inet {
  readonly link: LinkLayer;
  readonly arp: ArpLayer;
  readonly ip: Ipv4Layer;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  readonly tcp: TcpLayer;
  readonly clock: NetClock;
  readonly random: RandomSource;
  /** The memory budget every layer charges (`<ifname>.memory.*`). */
  readonly memory: MemoryBudget;
  dnsServers: Ipv4Address[] = [];
  private readonly configuredListeners = new Set<(inet: Inet) => void>();

  constructor(
    readonly device: LinkDevice,
    options: InetOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    const vlan = options.vlan;
    if (vlan !== undefined && (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094)) {
      throw new NetError('invalid-option', `a VLAN ID is an integer 1..4094, not ${vlan}`);
    }
    // A VLAN's interface is named as Linux names it (eth0.10), statistics included.
    const scope = statScope(vlan === undefined ? device.name : `${device.name}.${vlan}`, options.statman);
    // The memory budget, and the limits checked against it: too little memory for them says so now.
    const memory = options.memory instanceof MemoryBudget ? options.memory : createBudget(options.memory);
    checkLimit(memory, 'tcp.maxConnections', options.tcp?.maxConnections ?? Number.POSITIVE_INFINITY, CONNECTION_BYTES);
    checkLimit(memory, 'tcp.maxTimeWait', options.tcp?.maxTimeWait ?? 0, TIME_WAIT_BYTES);
    this.memory = memory;
    memory.attach(layerStats(scope, 'memory'));
    // Ethernet
    this.link = new LinkLayer(device, scope, vlan === undefined ? { memory: memory.account() } : { vlan, memory: memory.account() });
    // Ethernet -> ARP
    this.arp = new ArpLayer(this.link, this.clock, options.arp, memory.account());
    // Ethernet -> IP4 (sending through ARP)
    this.ip = new Ipv4Layer(this.link, this.arp, this.clock, this.random, options.reassembly, memory.account());
    // IP4 -> ICMP
    this.icmp = new IcmpLayer(this.ip, this.clock, this.random, scope);
    // IP4 -> UDP
    this.udp = new UdpLayer(this.ip, this.icmp, this.random, scope);
    // IP4 -> TCP
    this.tcp = new TcpLayer(this.ip, this.clock, this.random, scope, memory, options.tcp);
    if (options.configuration) this.configure(options.configuration);
  }

  /** The device's name, with `.<vlan>` on a VLAN: the prefix of the statistics. */
  get name(): string {
    return this.link.scope.ifname;
  }

  get address(): Ipv4Address {
    return this.ip.address;
  }

  get configured(): boolean {
    return this.ip.address !== IPV4_ANY;
  }

  /** Sets address, prefix, gateway and DNS servers, and announces the address (gratuitous ARP). */
  configure(configuration: InetConfiguration): void {
    const own = address(configuration.address);
    if (!Number.isInteger(configuration.prefixLength) || configuration.prefixLength < 0 || configuration.prefixLength > 32) {
      throw new NetError('invalid-configuration', `prefix length must be an integer 0..32, not ${configuration.prefixLength}`);
    }
    if (own !== this.ip.address) this.giveUpAddress();
    this.ip.configure(own, configuration.prefixLength, configuration.gateway === undefined ? undefined : address(configuration.gateway));
    this.arp.address = own;
    this.dnsServers = (configuration.dnsServers ?? []).map(address);
    this.arp.announce();
    for (const listener of [...this.configuredListeners]) listener(this);
  }

  /** Drops the address (a lease ended): no routes, and connections bound to the address are reset. */
  unconfigure(): void {
    if (!this.configured) return;
    this.giveUpAddress();
    this.ip.unconfigure();
    this.arp.address = IPV4_ANY;
    this.dnsServers = [];
    for (const listener of [...this.configuredListeners]) listener(this);
  }

  private giveUpAddress(): void {
    if (this.ip.address !== IPV4_ANY) this.tcp.abortBoundTo(this.ip.address);
    this.arp.flush();
  }

  /** Called whenever the interface is (re)configured or unconfigured. */
  onConfigured(listener: (inet: Inet) => void): () => void {
    this.configuredListeners.add(listener);
    return () => this.configuredListeners.delete(listener);
  }

  ping(destination: Ipv4Address | string, options?: PingOptions): Promise<PingResult> {
    return this.icmp.ping(address(destination), options);
  }

  toString(): string {
    return `${this.name} ${formatIpv4Address(this.ip.address)}/${this.ip.prefixLength}`;
  }

  /** Resets every connection, stops every timer, detaches from the device and frees the statistics. */
  close(): void {
    this.tcp.close();
    this.icmp.close();
    this.ip.close();
    this.arp.flush();
    this.link.close();
    freeStats(this.link.scope);
  }
}
