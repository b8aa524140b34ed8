/**
 * Boots Acorn the way a user does, `uos boot examples/acorn --publish <port>:80`, on QEMU's user networking,
 * and talks to it with curl on the published port. The runner must say where to point a browser.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repositoryRoot } from '../harness.js';

const run = promisify(execFile);
export const acornDir = join(repositoryRoot, 'examples', 'acorn');

/** A TCP port nobody on this host listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface BootedAcorn {
  base: string;
  port: number;
  /** Everything the runner printed (the serial console and its own lines). */
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `uos boot examples/acorn --publish <free port>:80` and resolves once the runner says "open http://localhost:<port>/". */
export async function bootAcorn(): Promise<BootedAcorn> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [join(repositoryRoot, 'packages', 'vmrunner', 'bin', 'uos.js'), 'boot', acornDir, '--publish', `${port}:80`],
    { stdio: ['pipe', 'pipe', 'pipe'], cwd: repositoryRoot },
  );
  let text = '';
  const listeners = new Set<() => void>();
  const take = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  let exited = false;
  child.on('exit', () => {
    exited = true;
    for (const l of [...listeners]) l();
  });
  const waitFor = (pattern: RegExp, timeoutMs = 120_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = text.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) {
          done();
          resolve(line);
        } else if (exited) {
          done();
          reject(new Error(`uos boot ended before printing ${pattern}:\n${text.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no line matched ${pattern} within ${timeoutMs} ms:\n${text.slice(-3000)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const stop = async (): Promise<void> => {
    if (exited) return;
    const ended = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // the runner ends QEMU on SIGTERM
    await ended;
  };
  process.once('exit', () => child.kill('SIGKILL'));
  try {
    await waitFor(new RegExp(`^uos: open http://localhost:${port}/`));
  } catch (error) {
    await stop();
    throw error;
  }
  return { base: `http://localhost:${port}`, port, output: () => text, waitFor, stop };
}

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

/** Runs curl against `url` with extra arguments; the body comes back as bytes (no decompression). */
export async function curl(url: string, ...args: string[]): Promise<CurlResult> {
  const dir = mkdtempSync(join(tmpdir(), 'acorn-curl-'));
  try {
    const bodyFile = join(dir, 'body');
    const { stdout } = await run('curl', ['-sS', '--path-as-is', '--max-time', '30', '-D', '-', '-o', bodyFile, ...args, url], {
      maxBuffer: 1 << 20,
    });
    const heads = stdout.split(/\r\n\r\n/).filter((h) => h.startsWith('HTTP/'));
    const head = heads[heads.length - 1] ?? '';
    const [statusLine = '', ...fields] = head.split('\r\n');
    const headers: Record<string, string> = {};
    for (const field of fields) {
      const colon = field.indexOf(':');
      if (colon > 0) headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
    }
    let body: Buffer;
    try {
      body = readFileSync(bodyFile);
    } catch {
      body = Buffer.alloc(0); // curl writes no file for an empty body
    }
    return { status: Number(statusLine.split(' ')[1]), headers, body, text: body.toString('utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A JSON request with curl. */
export function curlJson(url: string, method: string, body?: string, contentType = 'application/json'): Promise<CurlResult> {
  return curl(url, '-X', method, ...(body === undefined ? [] : ['-H', `content-type: ${contentType}`, '--data-binary', body]));
}
