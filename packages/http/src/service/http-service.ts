import { nic } from '@uos/hw';
import { type Service, service } from '@uos/kernel';
import { DhcpClient, Inet, formatIpv4Address } from '@uos/net';
import { HttpError } from '../errors.js';
import type { FetchHandler } from '../server/http-connection.js';
import { type HttpServer, type ServeOptions, serve } from '../server/http-server.js';

/** Something that answers requests: a fetch function, or an object with one (a Hono app, `{ fetch }`). */
export type FetchApp = FetchHandler | { fetch: FetchHandler };

export interface HttpServiceOptions extends Omit<ServeOptions, 'inet' | 'fetch'> {
  /** The network interface (default eth0; its driver must be imported by the service). */
  nic?: string;
  /** After the server listens: for more setup (console commands, other ports). */
  onListen?(server: HttpServer, inet: Inet): void | Promise<void>;
}

/**
 * Configures `inet` from the boot arguments as `httpService` does: `static <address>/<prefix> [gateway]`,
 * or else a DHCP lease (asked for as `hostname`); rejects with an HttpError when no lease comes.
 */
export async function configureFromBootArguments(inet: Inet, args: readonly string[], hostname = 'uos'): Promise<void> {
  const [mode, address, gateway] = args;
  if (mode === 'static' && address) {
    const [ip, prefix] = address.split('/');
    inet.configure({ address: ip!, prefixLength: Number(prefix ?? 24), ...(gateway ? { gateway } : {}) });
    return;
  }
  const lease = await new DhcpClient(inet, { hostname }).start();
  if (!lease.ok) throw new HttpError('listen-failed', `no DHCP lease on ${inet.name}: ${lease.error}`);
}

/**
 * A whole service that serves HTTP: brings up the network (DHCP, or `static <address>/<prefix> [gateway]`
 * from the boot arguments), serves `app` on port 80 (or `options.port`) and prints where it listens.
 *
 * ```ts
 * import '@uos/driver-virtionet';
 * import { httpService } from '@uos/http';
 * import { Hono } from 'hono';
 *
 * const app = new Hono().get('/', (c) => c.text('Hello from uOS'));
 * export default httpService(app);
 * ```
 */
export function httpService(app: FetchApp, options: HttpServiceOptions = {}): Service {
  const handler: FetchHandler | undefined =
    typeof app === 'function'
      ? app
      : app && typeof app.fetch === 'function'
        ? (request, env, ctx) => app.fetch(request, env, ctx)
        : undefined;
  if (!handler) throw new HttpError('invalid-option', 'httpService needs a fetch(request) function or an object with one (a Hono app)');
  const { nic: nicName = 'eth0', onListen, ...serveOptions } = options;
  let server: HttpServer | undefined;
  return service({
    async start(args) {
      const device = nic(nicName);
      if (!device) {
        throw new HttpError(
          'listen-failed',
          `no network interface ${nicName}: import its driver (import '@uos/driver-virtionet') and give the VM a NIC`,
        );
      }
      const inet = new Inet(device);
      await configureFromBootArguments(inet, args);
      server = serve({ ...serveOptions, inet, fetch: handler });
      (globalThis as unknown as { console: { log(text: string): void } }).console.log(
        `http: listening on http://${formatIpv4Address(inet.address)}:${server.port}/`,
      );
      await onListen?.(server, inet);
    },
    async stop() {
      await server?.close({ graceMs: 2000 });
    },
  });
}
