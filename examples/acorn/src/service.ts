/// <reference types="@uos/http/globals" />
/**
 * Acorn: uOS's flagship web service. One image serves a static site with a single-page app, a REST API
 * (`/api/squirrels`) and a live dashboard of the VM it runs in (`/dashboard`, fed by `/api/stats`,
 * `/api/stats/stream` and `/metrics`).
 *
 * Start arguments: none for DHCP, or `static <address>/<prefix> [gateway]`.
 * `uos boot examples/acorn --publish 8080:80`, then open http://localhost:8080/.
 */
import '@uos/driver-virtionet';
import { type HttpServer, configureFromBootArguments, serve } from '@uos/http';
import { nic } from '@uos/hw';
import { service } from '@uos/kernel';
import { Inet, formatIpv4Address } from '@uos/net';
import { createApp } from './app.js';
import { markReady } from './stats.js';

let server: HttpServer | undefined;

export default service({
  async start(args) {
    const device = nic('eth0');
    if (!device) throw new Error('acorn: no network interface: give the VM a virtio-net NIC (vm.json "net")');
    const inet = new Inet(device);
    await configureFromBootArguments(inet, args, 'acorn');
    const app = createApp({ inet, server: () => server });
    // A dashboard's stream and a browser's keep-alive connection stay open between requests.
    server = serve({
      inet,
      port: 80,
      // @uos/http's Request is the global Request at run time; its declared type differs in detail.
      fetch: (request, env, ctx) => app.fetch(request as never, env, ctx as never) as never,
      keepAliveTimeoutMs: 30_000,
      maxBodyBytes: 64 * 1024,
    });
    markReady();
    console.log(`acorn: listening on http://${formatIpv4Address(inet.address)}:${server.port}/`);
  },
  async stop() {
    await server?.close({ graceMs: 2000 });
  },
});
