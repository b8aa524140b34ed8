import { createServer } from 'node:net';
import { VmRunnerError } from './errors.js';
import type { NetConfig, VmConfig } from './vm-config.js';

/** A guest port reachable from the host: `uos boot --publish [ADDRESS:]HOST:GUEST[/tcp|/udp]`. */
export interface PortForward {
  /** The host address QEMU listens on (default 127.0.0.1: only this machine). */
  address: string;
  hostPort: number;
  guestPort: number;
  protocol: 'tcp' | 'udp';
}

function port(text: string, spec: string, which: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 65535) {
    throw new VmRunnerError('usage', `--publish ${spec}: the ${which} port must be a number from 1 to 65535, not "${text}"`);
  }
  return value;
}

/** Reads `8080:80`, `0.0.0.0:8080:80`, `5353:53/udp`. */
export function parsePublish(spec: string): PortForward {
  const [ports = '', protocol = 'tcp', ...extra] = spec.split('/');
  if (extra.length > 0 || (protocol !== 'tcp' && protocol !== 'udp')) {
    throw new VmRunnerError('usage', `--publish ${spec}: the protocol after "/" must be tcp or udp`);
  }
  const parts = ports.split(':');
  if (parts.length !== 2 && parts.length !== 3) {
    throw new VmRunnerError('usage', `--publish ${spec}: expected HOST:GUEST or ADDRESS:HOST:GUEST, such as 8080:80`);
  }
  const address = parts.length === 3 ? parts[0]! : '127.0.0.1';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address) || address.split('.').some((byte) => Number(byte) > 255)) {
    throw new VmRunnerError('usage', `--publish ${spec}: the host address must be an IPv4 address such as 127.0.0.1 or 0.0.0.0`);
  }
  return {
    address,
    hostPort: port(parts[parts.length - 2]!, spec, 'host'),
    guestPort: port(parts[parts.length - 1]!, spec, 'guest'),
    protocol,
  };
}

/**
 * Adds the forwards to the VM's first NIC on QEMU's user networking (`hostfwd`). A VM whose NICs all use
 * tap needs none (the host reaches the guest's own address) and gets a note saying so; a VM without a
 * NIC, or with only socket or dgram ones, cannot be published to.
 */
export function publishPorts(config: VmConfig, forwards: readonly PortForward[]): { config: VmConfig; note?: string } {
  if (forwards.length === 0) return { config };
  const net = config.net ?? [];
  const index = net.findIndex((n) => n.backend === 'user');
  if (index < 0) {
    if (net.some((n) => n.backend === 'tap')) {
      return {
        config,
        note: "--publish: the VM's NIC is on a tap device, so nothing is forwarded: the host reaches the guest at its own address",
      };
    }
    throw new VmRunnerError(
      'usage',
      `--publish needs a NIC on QEMU's user networking; add "net": [{ "device": "virtio-net-pci", "backend": "user" }] to vm.json`,
    );
  }
  const user = net[index]!;
  const rules = forwards.map((f) => `hostfwd=${f.protocol}:${f.address}:${f.hostPort}-:${f.guestPort}`).join(',');
  const published: NetConfig = { ...user, name: user.name ? `${user.name},${rules}` : rules };
  return { config: { ...config, net: net.map((n, i) => (i === index ? published : n)) } };
}

/** Resolves when nothing on this host listens on the forward's address and port, else rejects saying so. */
export function checkHostPort(forward: PortForward): Promise<void> {
  if (forward.protocol === 'udp') return Promise.resolve();
  return new Promise((resolveCheck, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'is in use on this host' : `cannot be listened on (${error.message})`;
      reject(
        new VmRunnerError(
          'usage',
          `--publish ${forward.hostPort}:${forward.guestPort}: port ${forward.hostPort} on ${forward.address} ${why}; pick another, e.g. --publish ${forward.hostPort + 1}:${forward.guestPort}`,
        ),
      );
    });
    server.listen({ port: forward.hostPort, host: forward.address, exclusive: true }, () => server.close(() => resolveCheck()));
  });
}

/** `listening on http://10.0.2.15:80/`, the line services print once they serve (@uos/http does). */
const LISTENING = /\blistening on (https?):\/\/(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?/;

/**
 * Watches serial output for a service's "listening on" line and says where to point a browser: the
 * published host port for a forwarded guest port, else (tap) the guest's own address. Each address is
 * announced once. Returns the lines to print for a chunk of output.
 */
export function listenAnnouncer(forwards: readonly PortForward[], tap: boolean): (text: string) => string[] {
  let pending = '';
  const announced = new Set<string>();
  return (text) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop() ?? '';
    const out: string[] = [];
    for (const line of lines) {
      const match = LISTENING.exec(line);
      if (!match) continue;
      const [, scheme = 'http', address = '', portText] = match;
      const guestPort = portText ? Number(portText) : scheme === 'https' ? 443 : 80;
      const forward = forwards.find((f) => f.protocol === 'tcp' && f.guestPort === guestPort);
      let message: string | undefined;
      if (forward) {
        const host = forward.address === '0.0.0.0' || forward.address === '127.0.0.1' ? 'localhost' : forward.address;
        message = `uos: open ${scheme}://${host}:${forward.hostPort}/ (the guest's port ${guestPort}, published on ${forward.address}:${forward.hostPort})`;
      } else if (tap) {
        message = `uos: the service listens on ${scheme}://${address}${portText ? `:${portText}` : ''}/ (the guest's address on the tap device)`;
      }
      if (message && !announced.has(message)) {
        announced.add(message);
        out.push(message);
      }
    }
    return out;
  };
}
