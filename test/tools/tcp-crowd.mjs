// tcp-crowd: many TCP connections at once from Linux, for the memory tests (issue 16). Run with Node
// inside the test's network namespace. Opens the connections (at most `concurrency` handshakes at a
// time), prints one JSON line when they are open, holds them, and on SIGUSR1 ends them all (idle ones
// with a FIN, the others with a reset), waits for them to close, prints a second JSON line and exits 0.
// SIGTERM exits at once.
//
//   node tcp-crowd.mjs idle  <host> <port> <count> [concurrency]           connect, send nothing
//   node tcp-crowd.mjs hoard <host> <port> <count> [concurrency]           connect, write without end, never read
//   node tcp-crowd.mjs sink  <host> <port> <count> <bytes> [concurrency]   ask a source for <bytes>, never read
//   node tcp-crowd.mjs probe <host> <port> <count> [concurrency]           echo 100 bytes on each connection every
//       second, and print { probe, answered, late, ms } after each round (late: no echo within 5 s)
//
// First line: { opened, refused, timedOut, failed, ms } (refused: a reset answered the SYN; timedOut: no
// answer within TCP_CROWD_CONNECT_MS, 5000 by default: the SYN was dropped). With TCP_CROWD_STOP_AFTER=<n>,
// opening stops after n connections in a row did not open (a ramp until the server refuses). With
// TCP_CROWD_RESET=1 idle connections are reset rather than ended (quicker with thousands).
// Second line: { closed, ms }.
import { connect } from 'node:net';

const [mode, host, portText, countText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const bytes = mode === 'sink' ? Number(rest.shift()) : 0;
const concurrency = Number(rest[0] ?? 32);
if (!['idle', 'hoard', 'sink', 'probe'].includes(mode) || !host || !(port > 0) || !(count > 0) || !(concurrency > 0)) {
  console.error('usage: tcp-crowd.mjs idle|hoard|sink <host> <port> <count> [bytes for sink] [concurrency]');
  process.exit(2);
}
const CONNECT_MS = Number(process.env.TCP_CROWD_CONNECT_MS ?? 5000);
const STOP_AFTER = Number(process.env.TCP_CROWD_STOP_AFTER ?? Number.POSITIVE_INFINITY);
const started = performance.now();
const elapsed = () => Math.round(performance.now() - started);
const chunk = Buffer.alloc(16 * 1024, 0x5a);
const open = [];
const result = { opened: 0, refused: 0, timedOut: 0, failed: 0 };
let failedInARow = 0;
let next = 0;
let inFlight = 0;
let stopping = false;

function keepWriting(socket) {
  while (socket.write(chunk)) {}
  socket.once('drain', () => keepWriting(socket));
}

function openOne() {
  next++;
  inFlight++;
  const socket = connect({ host, port });
  let settled = false;
  const settle = (outcome) => {
    if (settled) return;
    settled = true;
    inFlight--;
    if (outcome === 'opened') {
      failedInARow = 0;
      result.opened++;
      open.push(socket);
    } else {
      failedInARow++;
      result[outcome]++;
      socket.destroy();
    }
    pump();
  };
  const timer = setTimeout(() => settle('timedOut'), CONNECT_MS);
  socket.on('error', (error) => {
    clearTimeout(timer);
    settle(error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET' ? 'refused' : 'failed');
  });
  socket.on('connect', () => {
    clearTimeout(timer);
    socket.setNoDelay(true);
    if (mode === 'hoard') {
      socket.pause();
      keepWriting(socket);
    } else if (mode === 'sink') {
      socket.pause();
      socket.write(`${bytes}\n`);
    }
    settle('opened');
  });
}

function pump() {
  if (stopping) return;
  while (inFlight < concurrency && next < count && failedInARow < STOP_AFTER) openOne();
  if (inFlight === 0 && (next >= count || failedInARow >= STOP_AFTER)) {
    stopping = true;
    console.log(JSON.stringify({ ...result, ms: elapsed() }));
    if (mode === 'probe') setTimeout(probeRound, 1000, 1);
  }
}

/** Sends 100 bytes on every connection and waits up to 5 s for them to come back; then again a second later. */
function probeRound(round) {
  const sentAt = performance.now();
  const payload = Buffer.alloc(100, round & 0xff);
  let answered = 0;
  let waiting = open.length;
  const listening = [];
  const finish = () => {
    for (const [socket, listener] of listening) socket.off('data', listener);
    console.log(JSON.stringify({ probe: round, answered, late: open.length - answered, ms: Math.round(performance.now() - sentAt) }));
    setTimeout(probeRound, 1000, round + 1);
  };
  const timer = setTimeout(finish, 5000);
  for (const socket of open) {
    let got = 0;
    const onData = (data) => {
      got += data.length;
      if (got < payload.length) return;
      socket.off('data', onData);
      answered++;
      if (--waiting === 0) {
        clearTimeout(timer);
        finish();
      }
    };
    listening.push([socket, onData]);
    socket.on('data', onData);
    socket.write(payload);
  }
}

process.on('SIGUSR1', () => {
  const closing = performance.now();
  let closed = 0;
  if (!open.length) {
    console.log(JSON.stringify({ closed: 0, ms: 0 }));
    process.exit(0);
  }
  for (const socket of open) {
    socket.on('close', () => {
      if (++closed === open.length) {
        console.log(JSON.stringify({ closed, ms: Math.round(performance.now() - closing) }));
        process.exit(0);
      }
    });
    socket.on('error', () => {});
    // Idle ones end gracefully; those that never read are reset (what is queued for them is not wanted).
    if (mode === 'idle' && process.env.TCP_CROWD_RESET !== '1') {
      socket.resume();
      socket.end();
    } else {
      socket.resetAndDestroy();
    }
  }
});
process.on('SIGTERM', () => process.exit(1));
// Held until SIGUSR1: a paused socket alone does not keep Node's loop alive.
setInterval(() => {}, 1 << 30);
pump();
