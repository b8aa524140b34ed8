/// <reference types="@uos/http/globals" />
/**
 * Acorn's routes: the squirrels API, the dashboard's feeds (`/api/stats`, `/api/stats/stream`,
 * `/metrics`), the dashboard page, and the static site from the image with a single-page-app fallback.
 */
import { assets } from '@uos/assets';
import { serveStatic } from '@uos/assets/hono';
import type { HttpServer } from '@uos/http';
import type { Inet } from '@uos/net';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { prometheusText } from './metrics.js';
import { Drey, seed, squirrelRoutes } from './squirrels.js';
import { StatsHub } from './stats-hub.js';
import { collectStats, streamEncoder } from './stats.js';

export interface AcornOptions {
  inet: Inet;
  /** The HTTP server, once it runs (for its statistics). */
  server(): HttpServer | undefined;
}

export function createApp({ inet, server }: AcornOptions): Hono {
  const drey = new Drey();
  seed(drey);
  const stats = () => collectStats(inet, server(), drey.size);
  // Every second, one event for all watchers: what changed (their first event had the whole snapshot).
  const hub = new StatsHub(streamEncoder(() => collectStats(inet, server(), drey.size, 'changing')));
  const app = new Hono();

  app.route(
    '/api/squirrels',
    squirrelRoutes(drey, (line) => console.log(line)),
  );
  app.get('/api/stats', (c) => {
    c.header('cache-control', 'no-store');
    return c.json(stats());
  });
  app.get('/api/stats/stream', (c) => {
    c.header('cache-control', 'no-store');
    return streamSSE(c, async (stream) => {
      const leave = hub.subscribe();
      const gone = new Promise<null>((resolve) => stream.onAbort(() => resolve(null)));
      try {
        let id = 0;
        let json: string | null = JSON.stringify(stats());
        while (json !== null && !stream.aborted && !stream.closed) {
          // One event per line of JSON (JSON.stringify escapes newlines), written as is: writeSSE would
          // split every event's data on a regular expression first.
          await stream.write(`event: stats\nid: ${id++}\ndata: ${json}\n\n`);
          json = await Promise.race([hub.next(), gone]);
        }
      } finally {
        leave();
      }
    });
  });
  app.all('/api/*', (c) => c.json({ error: 'not-found', message: `no API route ${c.req.method} ${c.req.path}` }, 404));
  app.get('/metrics', (c) =>
    c.body(prometheusText(stats(), inet ? [inet.name] : []), 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      'cache-control': 'no-store',
    }),
  );
  const dashboard = serveStatic({ root: 'dashboard', prefix: '/dashboard' });
  app.get('/dashboard', dashboard);
  app.get('/dashboard/*', dashboard);
  // The single-page app's own routes get its page (a deep link, a reload); other paths are files or 404.
  const spa = serveStatic({ fallback: 'index.html' });
  app.get('/squirrels', spa);
  app.get('/squirrels/*', spa);
  app.use('*', serveStatic());
  app.notFound((c) => {
    const page = assets.get('404.html');
    return page ? c.html(page.text(), 404) : c.text('Not Found\n', 404);
  });
  app.onError((error, c) => {
    console.error(`acorn: ${c.req.method} ${c.req.path} failed:`, error);
    return c.json({ error: 'internal', message: 'the request failed inside Acorn; its log says why' }, 500);
  });
  return app;
}
