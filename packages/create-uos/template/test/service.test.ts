// Boots the service in QEMU (TCG or KVM) and talks to it the way a client would: through QEMU's user
// network, with the echo port forwarded to a free port on 127.0.0.1.
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type VmConfig, buildImage, loadVmConfig, withVm } from '@uos/vmrunner';
import { expect, it } from 'vitest';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function echoOnce(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.end(text));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

it('boots, takes a DHCP lease and echoes over TCP', async () => {
  const { image } = await buildImage({ serviceDir });
  const port = await freePort();
  const config: VmConfig = loadVmConfig(fileURLToPath(new URL('../vm.json', import.meta.url)));
  config.net = [{ device: 'virtio-net-pci', backend: 'user', name: `hostfwd=tcp:127.0.0.1:${port}-:7` }];
  await withVm({ image, config }, async (vm) => {
    await vm.waitFor(/echo on \d+\.\d+\.\d+\.\d+:7/);
    expect(await echoOnce(port, 'hello, uOS')).toBe('hello, uOS');
  });
});
