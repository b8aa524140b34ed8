import type { TcpConnection } from './connection.js';
import type { TcpDiagnostics } from './tcp-socket.js';

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
  };
}
