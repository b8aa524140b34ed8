/** The consumer project's sources: what a new user writes after reading the README. */

export const HELLO_SERVICE = `import { nics } from '@uos/hw';
import { service } from '@uos/kernel';

export default service({
  start() {
    const check = new TextDecoder().decode(new TextEncoder().encode('\\u2713'));
    const timer: ReturnType<typeof setTimeout> = setTimeout(() => undefined, 0);
    clearTimeout(timer);
    console.log(\`hello from a consumer: \${check} \${[1, 2].length} \${nics().length === 0 ? 'NIC-less' : 'with NICs'}\`);
  },
});
`;

export const ECHO_SERVICE = `import '@uos/driver-virtionet';
import { nic } from '@uos/hw';
import { os, service } from '@uos/kernel';
import { DhcpClient, Inet, echo, formatIpv4Address } from '@uos/net';

export default service({
  async start() {
    const eth0 = nic('eth0');
    if (!eth0) throw new Error('no eth0');
    const inet = new Inet(eth0);
    const dhcp = await new DhcpClient(inet).start();
    if (!dhcp.ok) throw new Error(\`no DHCP lease: \${dhcp.error}\`);
    inet.tcp.listen(7, (connection) => {
      echo(connection);
      connection.onClose((reason) => {
        console.log(\`echo: connection closed (\${reason})\`);
        os.exit(reason === 'normal' ? 0 : 1);
      });
    });
    console.log(\`echo: listening on \${formatIpv4Address(dhcp.lease.address)}:7\`);
  },
});
`;

/**
 * The HTTP example of @uos/http's README: a Hono app (from the registry) served on port 80, with a path
 * parameter and JSON; `/bye` answers and then ends the VM with status 0.
 */
export const HTTP_SERVICE = `import '@uos/driver-virtionet';
import { httpService } from '@uos/http';
import { os } from '@uos/kernel';
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello from Hono in a consumer image'));
app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name'), at: new URL(c.req.url).pathname }));
app.get('/bye', (c) => {
  setTimeout(() => os.exit(0), 50);
  return c.text('bye');
});

export default httpService(app);
`;

/** Node-side code: the runner's API and the service modules, under Node's globals. */
export const NODE_SIDE = `import { type BuildResult, buildImage, withVm } from '@uos/vmrunner';
import hello from '../services/hello/service.js';

const timer: NodeJS.Timeout = setTimeout(() => undefined, 1);
clearTimeout(timer);

export async function bootHello(): Promise<number | undefined> {
  const built: BuildResult = await buildImage({ serviceDir: new URL('../services/hello', import.meta.url).pathname });
  return withVm({ image: built.image }, async (vm) => {
    await vm.waitFor(/hello from a consumer/);
    return (await vm.waitForExit()).status ?? (hello ? 0 : 1);
  });
}
`;

export function serviceTsconfig(resolution: 'Bundler' | 'NodeNext'): string {
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2020',
        lib: ['ES2020'],
        module: resolution === 'Bundler' ? 'ESNext' : 'NodeNext',
        moduleResolution: resolution,
        types: ['@uos/kernel/globals', '@uos/http/globals'],
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        noEmit: true,
      },
      include: ['services'],
    },
    null,
    2,
  )}\n`;
}
