// A Hono app with hono/compress, which needs CompressionStream: `uos build` must warn that uOS lacks it.
import { Hono } from 'hono';
import { compress } from 'hono/compress';

const app = new Hono();
app.use(compress());
app.get('/', (c) => c.text('hello'));

export default app;
