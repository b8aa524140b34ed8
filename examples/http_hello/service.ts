/**
 * A Hono app on @uos/http. `pnpm uos boot examples/http_hello`, then `curl http://127.0.0.1:8080/`
 * (vm.json forwards the host's port 8080 to the guest's 80 through QEMU's user networking).
 */
import '@uos/driver-virtionet';
import { httpService } from '@uos/http';
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello from Hono on uOS\n'));
app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name') }));

export default httpService(app);
