/**
 * The web-standard globals in the guest: each check uses a global as a service or an npm library would
 * (by its free name; `uos build` injects @uos/http's class) and prints `web: ok <name>` or
 * `web: FAIL <name>: <why>`, then `web: done <passed>/<total>`.
 */
import { os, service } from '@uos/kernel';

const checks: [string, () => unknown][] = [];
const check = (name: string, run: () => unknown): void => {
  checks.push([name, run]);
};
function equal(actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`got ${a}, expected ${e}`);
}
const hex = (buffer: ArrayBuffer): string => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');

check('Array.prototype.at, findLast, findLastIndex, toSorted', () => {
  const list = [3, 1, 2];
  equal(
    [list.at(-1), list.at(5), list.findLast((x) => x > 1), list.findLastIndex((x) => x > 2), list.toSorted(), list],
    [2, undefined, 2, 0, [1, 2, 3], [3, 1, 2]],
  );
});
check('String.prototype.at and typed arrays', () => equal(['abc'.at(-1), new Uint8Array([7, 8]).at(-1)], ['c', 8]));
check('Object.hasOwn', () => equal([Object.hasOwn({ a: 1 }, 'a'), Object.hasOwn({}, 'toString')], [true, false]));
check('String.prototype.replaceAll (the engine has it)', () => equal('a-b-c'.replaceAll('-', '+'), 'a+b+c'));
check('structuredClone', () => {
  const value = { list: [1, new Date(0)], map: new Map([[1, 'x']]) };
  const copy = structuredClone(value);
  equal([copy !== value, copy.list[1] instanceof Date, copy.map.get(1)], [true, true, 'x']);
});
check('atob and btoa', () => equal([btoa('hello\xff'), atob('aGVsbG8=')], ['aGVsbG//', 'hello']));
check('URL and URLSearchParams', () => {
  const url = new URL('../b/c?x=1&y=two+words#f', 'http://Example.COM:80/a/z');
  url.searchParams.append('z', 'é');
  equal([url.href, url.host, url.searchParams.get('y')], ['http://example.com/b/c?x=1&y=two+words&z=%C3%A9#f', 'example.com', 'two words']);
});
check('Headers', () => {
  const headers = new Headers({ 'X-B': '2', 'x-a': '1' });
  headers.append('x-b', '3');
  equal(
    [...headers],
    [
      ['x-a', '1'],
      ['x-b', '2, 3'],
    ],
  );
});
check('Request and its body', async () => {
  const request = new Request('http://h/p', {
    method: 'POST',
    body: JSON.stringify({ n: 1 }),
    headers: { 'content-type': 'application/json' },
  });
  equal([request.method, request.url, await request.json()], ['POST', 'http://h/p', { n: 1 }]);
});
check('Response text, json, arrayBuffer', async () => {
  equal(await new Response('héllo').text(), 'héllo');
  equal(await Response.json({ a: [1] }).json(), { a: [1] });
  equal((await new Response(new Uint8Array([1, 2])).arrayBuffer()).byteLength, 2);
});
check('ReadableStream read and async iteration', async () => {
  const stream = new ReadableStream<string>({
    start(controller) {
      controller.enqueue('a');
      controller.enqueue('b');
      controller.close();
    },
  });
  const seen: string[] = [];
  for await (const chunk of stream) seen.push(chunk);
  equal(seen, ['a', 'b']);
});
check('TransformStream as Hono streamSSE uses it', async () => {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const wrapped = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
  });
  void (async () => {
    await writer.write(new TextEncoder().encode('data: 1\n\n'));
    await writer.write(new TextEncoder().encode('data: 2\n\n'));
    await writer.close();
  })();
  equal(await new Response(wrapped).text(), 'data: 1\n\ndata: 2\n\n');
});
check('Blob, File and FormData (multipart round trip)', async () => {
  const form = new FormData();
  form.append('field', 'value');
  form.append('file', new Blob(['content'], { type: 'text/plain' }), 'a.txt');
  const body = new Response(form);
  const parsed = await new Response(await body.arrayBuffer(), {
    headers: { 'content-type': body.headers.get('content-type')! },
  }).formData();
  const file = parsed.get('file') as File;
  equal([parsed.get('field'), file.name, await file.text()], ['value', 'a.txt', 'content']);
});
check('AbortController and AbortSignal.timeout', async () => {
  const controller = new AbortController();
  let heard = false;
  controller.signal.addEventListener('abort', () => (heard = true));
  controller.abort();
  const timeout = AbortSignal.timeout(10);
  await new Promise((resolve) => setTimeout(resolve, 30));
  equal([heard, controller.signal.aborted, timeout.aborted, (timeout.reason as DOMException).name], [true, true, true, 'TimeoutError']);
});
check('crypto.subtle.digest SHA-1 and SHA-256 (native)', async () => {
  const abc = new TextEncoder().encode('abc');
  equal(hex(await crypto.subtle.digest('SHA-1', abc)), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  equal(hex(await crypto.subtle.digest({ name: 'SHA-256' }, abc)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const million = new Uint8Array(1_000_000).fill(0x61);
  equal(hex(await crypto.subtle.digest('SHA-1', million)), '34aa973cd4c4daa4f61eeb2bdbad27316534016f');
});
check('crypto.subtle says what it does not do', async () => {
  const failure = await crypto.subtle.digest('SHA-512', new Uint8Array(1)).catch((error: DOMException) => error.name);
  equal(failure, 'NotSupportedError');
});

export default service({
  async start() {
    let passed = 0;
    for (const [name, run] of checks) {
      try {
        await run();
        passed++;
        console.log(`web: ok ${name}`);
      } catch (error) {
        console.log(`web: FAIL ${name}: ${error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error)}`);
      }
    }
    console.log(`web: done ${passed}/${checks.length}`);
    os.exit(passed === checks.length ? 0 : 1);
  },
});
