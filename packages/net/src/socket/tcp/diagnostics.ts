import type { TcpConnection } from './connection.js';
import type { TcpDiagnostics } from './tcp-socket.js';
import type { TimeWaitRecord } from './time-wait.js';

/** A snapshot of a connection's variables, for diagnostics and tests (`inet.tcp.inspect`, `inet.tcp.connections`). */
export function diagnose(connection: TcpConnection): TcpDiagnostics {
  const sender = connection.sender;
  const held = connection.socket.heldBytes;
  return {
    localAddress: connection.localAddress,
    localPort: connection.localPort,
    remoteAddress: connection.remoteAddress,
    remotePort: connection.remotePort,
    state: connection.state,
    sendUnacknowledged: sender.sendUnacknowledged,
    sendNext: sender.sendNext,
    sendMax: sender.sendMax,
    sendWindow: sender.sendWindow,
    congestionWindow: sender.congestion.window,
    slowStartThreshold: sender.congestion.slowStartThreshold,
    inRecovery: sender.congestion.inRecovery,
    receiveNext: connection.receiveNext,
    receiveWindow: connection.window.available(held),
    mss: connection.mss,
    sendShift: connection.sendShift,
    receiveShift: connection.window.shift,
    sack: connection.sackEnabled,
    timestamps: connection.timestampsEnabled,
    rtoMs: sender.rtt.timeoutMs,
    smoothedRttMs: sender.rtt.smoothedMs,
    outOfOrderSegments: connection.assembler.count,
    bufferedBytes: sender.buffer.length,
    heldBytes: held,
    bytesIn: connection.socket.bytesDelivered,
    bytesOut: sender.bytesAcknowledged,
  };
}

/** A TIME-WAIT record as diagnostics: what the record keeps, zeros for what it does not. */
export function diagnoseTimeWait(record: TimeWaitRecord): TcpDiagnostics {
  return {
    localAddress: record.localAddress,
    localPort: record.localPort,
    remoteAddress: record.remoteAddress,
    remotePort: record.remotePort,
    state: 'time-wait',
    sendUnacknowledged: record.sendNext,
    sendNext: record.sendNext,
    sendMax: record.sendNext,
    sendWindow: 0,
    congestionWindow: 0,
    slowStartThreshold: 0,
    inRecovery: false,
    receiveNext: record.receiveNext,
    receiveWindow: 0,
    mss: 0,
    sendShift: 0,
    receiveShift: 0,
    sack: false,
    timestamps: record.timestamps,
    rtoMs: 0,
    smoothedRttMs: undefined,
    outOfOrderSegments: 0,
    bufferedBytes: 0,
    heldBytes: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}
