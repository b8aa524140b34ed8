import type { TcpConnection } from './connection.js';
import type { CloseReason, ConnectResult } from './tcp-socket.js';
import { StateTimer } from './timers.js';

/**
 * How a connection ends (RFC 9293 §3.6), beside the connection to keep its file readable: our FIN
 * acknowledged, TIME-WAIT (handed to the layer's table of small records, the connection let go), and the
 * end for good. Its buffers go with it, and their charges to the memory budget.
 */

/** Our FIN was acknowledged. */
export function finAcknowledged(connection: TcpConnection): void {
  if (connection.state === 'fin-wait-1') {
    connection.state = 'fin-wait-2';
    // Linux resets an orphan's FIN-WAIT-2 after tcp_fin_timeout too (issue 17: they piled up).
    connection.finWait2 ??= new StateTimer(connection.host.clock, () => {
      connection.sendReset(connection.sender.sendMax);
      connection.terminate('timeout');
    });
    connection.finWait2.start(connection.options.finWait2TimeoutMs ?? 60_000);
  } else if (connection.state === 'closing') enterTimeWait(connection);
  else if (connection.state === 'last-ack') terminate(connection, 'normal');
}

/** TIME-WAIT: everything stops, and the layer keeps a small record for 2 MSL instead of the connection. */
export function enterTimeWait(connection: TcpConnection): void {
  connection.state = 'time-wait';
  stopTimers(connection);
  releaseBuffers(connection);
  notifyClosed(connection, 'normal');
  connection.timeWait = connection.host.timeWait(connection);
}

/** Ends the connection for good: timers off, buffers given back, the socket told, the layer forgets it. */
export function terminate(connection: TcpConnection, reason: CloseReason): void {
  const state = connection.state;
  if (state === 'closed' || state === 'time-wait') return; // TIME-WAIT ends in the layer's table
  connection.state = 'closed';
  stopTimers(connection);
  releaseBuffers(connection);
  if (state === 'syn-sent' || state === 'syn-received')
    resolveConnect(connection, { ok: false, error: reason === 'normal' ? 'aborted' : reason });
  notifyClosed(connection, reason);
  connection.host.release(connection);
}

/** Tells those waiting for the handshake how it went. */
export function resolveConnect(connection: TcpConnection, result: ConnectResult): void {
  const waiters = connection.connectWaiters;
  connection.connectWaiters = undefined;
  if (waiters) for (const waiter of waiters) waiter(result);
}

function stopTimers(connection: TcpConnection): void {
  connection.sender.stop();
  connection.delayedAck.cancel();
  connection.keepAlive?.stop();
  connection.finWait2?.stop();
}

/** The buffers go, and their charges (held data not yet read stays with the socket, the application's, uncharged). */
function releaseBuffers(connection: TcpConnection): void {
  connection.host.memory?.adjust(-(connection.socket.heldCharge + connection.assembler.charged));
  connection.assembler.clear();
  connection.sender.buffer.release(connection.sender.buffer.length);
}

function notifyClosed(connection: TcpConnection, reason: CloseReason): void {
  if (connection.closedWith) return;
  connection.closedWith = reason;
  connection.socket.closed(reason);
}
