// tcp-client: the Linux side of the TCP integration tests and benchmarks, run with Node inside the
// test's network namespace. Prints one JSON line with what it measured; exit status 0 when the
// exchange completed (the caller judges the numbers), 1 on a socket error or timeout, 2 on bad arguments.
//
//   node tcp-client.mjs echo <host> <port> <bytes> [seed]    writes seeded bytes, reads the echo back:
//       { sent, received, sentSha256, receivedSha256, ms }
//   node tcp-client.mjs discard <host> <port> <bytes>        writes bytes, ends, reads the peer's count line:
//       { sent, peerCount, ms }
//   node tcp-client.mjs source <host> <port> <bytes>         asks for <bytes>, reads them to the end:
//       { received, patternOk, ms }   (pattern: byte i is i % 251)
//   node tcp-client.mjs connections <host> <port> <count>    one at a time: connect, send 4 bytes, read
//       them back, close: { completed, failed, ms }
import { createHash } from 'node:crypto';
import { connect } from 'node:net';

const [mode, host, portText, amountText, seedText] = process.argv.slice(2);
const port = Number(portText);
const amount = Number(amountText);
if (!['echo', 'discard', 'source', 'connections'].includes(mode) || !host || !(port > 0) || !(amount >= 0)) {
  console.error('usage: tcp-client.mjs echo|discard|source|connections <host> <port> <amount> [seed]');
  process.exit(2);
}
const TIMEOUT_MS = Number(process.env.TCP_CLIENT_TIMEOUT_MS ?? 600_000);
setTimeout(() => {
  console.error(`tcp-client: ${mode} not done after ${TIMEOUT_MS} ms`);
  process.exit(1);
}, TIMEOUT_MS).unref();

const started = performance.now();
const elapsed = () => Math.round(performance.now() - started);
const done = (result) => {
  console.log(JSON.stringify({ ...result, ms: elapsed() }));
  process.exit(0);
};
const failed = (error) => {
  console.error(`tcp-client: ${mode}: ${error.message}`);
  process.exit(1);
};

/** Seeded bytes (xorshift32), the same for the same seed and offset. */
function* seededChunks(total, seed, size = 65536) {
  let x = seed >>> 0 || 1;
  for (let sent = 0; sent < total; sent += size) {
    const chunk = Buffer.allocUnsafe(Math.min(size, total - sent));
    for (let i = 0; i < chunk.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      chunk[i] = x & 0xff;
    }
    yield chunk;
  }
}

/** Writes every chunk with backpressure, then ends the writing side. */
function writeAll(socket, chunks) {
  const pump = () => {
    for (;;) {
      const next = chunks.next();
      if (next.done) return socket.end();
      if (!socket.write(next.value)) return socket.once('drain', pump);
    }
  };
  pump();
}

function open() {
  const socket = connect({ host, port });
  socket.setNoDelay(true);
  socket.on('error', failed);
  return socket;
}

if (mode === 'echo') {
  const socket = open();
  const sentHash = createHash('sha256');
  const receivedHash = createHash('sha256');
  let sent = 0;
  let received = 0;
  const chunks = seededChunks(amount, Number(seedText ?? 1));
  const hashed = (function* () {
    for (const chunk of chunks) {
      sentHash.update(chunk);
      sent += chunk.length;
      yield chunk;
    }
  })();
  socket.on('connect', () => writeAll(socket, hashed));
  socket.on('data', (data) => {
    receivedHash.update(data);
    received += data.length;
  });
  socket.on('end', () => done({ sent, received, sentSha256: sentHash.digest('hex'), receivedSha256: receivedHash.digest('hex') }));
} else if (mode === 'discard') {
  const socket = open();
  let sent = 0;
  let answer = '';
  const chunks = (function* () {
    for (const chunk of seededChunks(amount, 7)) {
      sent += chunk.length;
      yield chunk;
    }
  })();
  socket.on('connect', () => writeAll(socket, chunks));
  socket.on('data', (data) => {
    answer += data.toString();
  });
  socket.on('end', () => done({ sent, peerCount: Number(answer.trim()) }));
} else if (mode === 'source') {
  const socket = open();
  let received = 0;
  let patternOk = true;
  socket.on('connect', () => socket.write(`${amount}\n`));
  socket.on('data', (data) => {
    for (let i = 0; i < data.length && patternOk; i++) if (data[i] !== (received + i) % 251) patternOk = false;
    received += data.length;
  });
  socket.on('end', () => done({ received, patternOk }));
} else {
  let completed = 0;
  let failures = 0;
  const next = () => {
    if (completed + failures === amount) return done({ completed, failed: failures });
    const socket = connect({ host, port });
    let echoed = 0;
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), 10_000);
    socket.on('connect', () => socket.end('ping'));
    socket.on('data', (data) => {
      echoed += data.length;
    });
    socket.on('error', () => {
      clearTimeout(timer);
      failures++;
      next();
    });
    socket.on('close', (hadError) => {
      if (hadError) return;
      clearTimeout(timer);
      if (echoed === 4) completed++;
      else failures++;
      next();
    });
  };
  next();
}
