/**
 * The guest of the HTTP integration tests: an unmodified Hono app on @uos/http.
 *
 * Start arguments: `static <address>/<prefix> [gateway]` or `dhcp` (httpService's).
 * Routes: `/` text; `/api/items/:id` and `POST /api/echo` JSON through a sub-app with CORS; `/static/*`
 * with ETag; `/admin/*` behind basic auth; `/events` Server-Sent Events; `/conn` the client's address;
 * `POST /upload` the byte count and SHA-256 of the body; `/big/:kib` that many KiB as one string,
 * `/stream/:kib` as a stream of 1 KiB chunks made as they are pulled; `/slow/:ms` after a
 * delay; `/fail` throws. Secure headers everywhere, a logger that prints `hono: <line>`.
 * Console commands: `stats <tag>` (one line `http: stats <tag> {json}`), `quit`.
 */
import '@uos/driver-virtionet';
import { httpService } from '@uos/http';
import { os } from '@uos/kernel';
import { native } from '@uos/x86';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { basicAuth } from 'hono/basic-auth';
import { cors } from 'hono/cors';
import { etag } from 'hono/etag';
import { logger } from 'hono/logger';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';

type Env = { Bindings: { remoteAddr: { hostname: string; port: number; transport: string } } };

const api = new Hono<Env>();
api.get('/items/:id', (c) => c.json({ id: c.req.param('id'), query: c.req.query('q') ?? null }));
api.post('/echo', async (c) => c.json({ received: await c.req.json() }, 201));

const app = new Hono<Env>();
app.use(
  '*',
  logger((line: string) => console.log(`hono: ${line}`)),
);
app.use('*', secureHeaders());
app.use('/api/*', cors({ origin: 'http://example.test' }));
app.use('/static/*', etag());
app.use('/admin/*', basicAuth({ username: 'admin', password: 'secret' }));
app.route('/api', api);
app.get('/', (c) => c.text('Hello from Hono on uOS'));
app.get('/static/page', (c) => c.html('<h1>A static page</h1>'));
app.get('/admin/panel', (c) => c.text('welcome, admin'));
app.get('/conn', (c) => c.json(c.env.remoteAddr));
app.get('/big/:kib', (c) => c.body('x'.repeat(1024 * Number(c.req.param('kib')))));
app.get('/stream/:kib', (c) => {
  let left = Number(c.req.param('kib'));
  const chunk = new Uint8Array(1024).fill(0x61);
  return c.body(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left-- > 0) controller.enqueue(chunk);
        else controller.close();
      },
    }),
  );
});
app.get('/slow/:ms', async (c) => {
  await new Promise((resolve) => setTimeout(resolve, Number(c.req.param('ms'))));
  return c.text('slow');
});
app.get('/fail', () => {
  throw new Error('this route fails on purpose');
});
app.post('/upload', async (c) => {
  const body = new Uint8Array(await c.req.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  return c.json({ bytes: body.length, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') });
});
app.get('/events', (c) =>
  streamSSE(c, async (stream) => {
    const count = Number(c.req.query('count') ?? 3);
    for (let i = 0; i < count; i++) {
      await stream.writeSSE({ event: 'tick', id: String(i), data: JSON.stringify({ i }) });
      await stream.sleep(Number(c.req.query('every') ?? 20));
    }
  }),
);
app.onError((error, c) => (error instanceof HTTPException ? error.getResponse() : c.text(`failed: ${error.message}`, 500)));

export default httpService(app, {
  maxConnections: 1100,
  headersTimeoutMs: 120_000,
  keepAliveTimeoutMs: 120_000,
  maxBodyBytes: 4 * 1024 * 1024,
  onListen(server, inet) {
    let line = '';
    os.stdin.onData((text) => {
      line += text;
      let end: number;
      while ((end = line.search(/[\r\n]/)) >= 0) {
        const [command = '', tag = '-'] = line.slice(0, end).trim().split(/\s+/);
        line = line.slice(end + 1);
        if (command === 'stats') {
          native().gc(); // objects in cycles are freed by the collector, which otherwise waits for the heap to grow
          const heap = os.heapUsage();
          const figures = {
            ...server.stats(),
            connections: server.connections,
            tcpConnections: inet.tcp.connectionCount,
            heapUsedBytes: heap.usedBytes,
            jsObjects: os.memoryUsage().jsObjects,
          };
          console.log(`http: stats ${tag} ${JSON.stringify(figures)}`);
        } else if (command === 'quit') {
          os.exit(0);
        }
      }
    });
    console.log('hono: ready');
  },
});
