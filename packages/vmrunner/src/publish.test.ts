import { createServer } from 'node:net';
import { UosError } from '@uos/errors';
import { describe, expect, it } from 'vitest';
import { checkHostPort, listenAnnouncer, parsePublish, publishPorts } from './publish.js';
import { qemuArgs } from './qemu.js';

function usageError(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (UosError.isInstance(error) && error.code === 'usage') return error.message;
    throw error;
  }
  return expect.fail('expected a usage error');
}

describe('--publish', () => {
  it('reads HOST:GUEST, ADDRESS:HOST:GUEST and a protocol', () => {
    expect(parsePublish('8080:80')).toEqual({ address: '127.0.0.1', hostPort: 8080, guestPort: 80, protocol: 'tcp' });
    expect(parsePublish('0.0.0.0:8443:443/tcp')).toEqual({ address: '0.0.0.0', hostPort: 8443, guestPort: 443, protocol: 'tcp' });
    expect(parsePublish('5353:53/udp')).toMatchObject({ hostPort: 5353, guestPort: 53, protocol: 'udp' });
  });

  it.each([
    ['80', /expected HOST:GUEST/],
    ['a:b:c:d', /expected HOST:GUEST/],
    ['8080:0', /guest port must be a number from 1 to 65535, not "0"/],
    ['70000:80', /host port must be a number/],
    ['x:80', /host port/],
    ['8080:80/sctp', /tcp or udp/],
    ['localhost:8080:80', /IPv4 address/],
    ['300.1.1.1:8080:80', /IPv4 address/],
  ])('refuses %s', (spec, message) => {
    expect(usageError(() => parsePublish(spec))).toMatch(message);
  });

  it('adds hostfwd rules to the first user-networking NIC, after its own options', () => {
    const config = {
      mem: '16M',
      net: [
        { device: 'virtio-net-pci', backend: 'tap' as const, name: 'tap0' },
        { device: 'virtio-net-pci', backend: 'user' as const, name: 'restrict=on' },
      ],
    };
    const { config: published, note } = publishPorts(config, [parsePublish('8080:80'), parsePublish('0.0.0.0:5353:53/udp')]);
    expect(note).toBeUndefined();
    expect(published.net![1]!.name).toBe('restrict=on,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:5353-:53');
    expect(config.net[1]!.name).toBe('restrict=on'); // the caller's config is left alone
    const args = qemuArgs({ image: 'x.elf', machine: 'pc', memMiB: 16, accel: 'tcg', net: published.net! });
    expect(args).toContain('user,id=net1,restrict=on,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:5353-:53');
    const bare = publishPorts({ net: [{ device: 'e1000', backend: 'user' }] }, [parsePublish('8080:80')]);
    expect(bare.config.net![0]!.name).toBe('hostfwd=tcp:127.0.0.1:8080-:80');
  });

  it('leaves a tap VM alone with a note, and refuses a VM without a NIC it can forward to', () => {
    const tap = publishPorts({ net: [{ device: 'virtio-net-pci', backend: 'tap', name: 'tap0' }] }, [parsePublish('8080:80')]);
    expect(tap.note).toMatch(/tap device, so nothing is forwarded/);
    expect(usageError(() => publishPorts({}, [parsePublish('8080:80')]))).toMatch(/needs a NIC on QEMU's user networking/);
    expect(publishPorts({}, [])).toEqual({ config: {} });
  });

  it('says when the host port is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as { port: number }).port;
    try {
      await expect(checkHostPort(parsePublish(`${taken}:80`))).rejects.toThrow(
        new RegExp(`port ${taken} on 127.0.0.1 is in use on this host`),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(checkHostPort(parsePublish(`${taken}:80`))).resolves.toBeUndefined();
  });

  it('points the browser at the published port once the service listens', () => {
    const announce = listenAnnouncer([parsePublish('8080:80'), parsePublish('0.0.0.0:9000:9000')], false);
    expect(announce('booting\nacorn: listen')).toEqual([]);
    expect(announce('ing on http://10.0.2.15:80/\r\n')).toEqual([
      "uos: open http://localhost:8080/ (the guest's port 80, published on 127.0.0.1:8080)",
    ]);
    expect(announce('http: listening on http://10.0.2.15/\n')).toEqual([]); // the same address, said once
    expect(announce('listening on http://10.0.2.15:9000\n')).toEqual([
      "uos: open http://localhost:9000/ (the guest's port 9000, published on 0.0.0.0:9000)",
    ]);
    expect(announce('listening on http://10.0.2.15:81/\n')).toEqual([]);
  });

  it("names the guest's own address on a tap device", () => {
    const announce = listenAnnouncer([], true);
    expect(announce('http: listening on http://10.0.0.2:80/\n')).toEqual([
      "uos: the service listens on http://10.0.0.2:80/ (the guest's address on the tap device)",
    ]);
  });
});
