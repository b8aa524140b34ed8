import type { TcpSocket } from '../socket/tcp/tcp-socket.js';

/**
 * Echoes everything a connection receives, with backpressure both ways: when the send buffer is full,
 * reading pauses (the window closes) until it drains. Ends when the peer ends.
 */
export function echo(connection: TcpSocket): void {
  let pending: Uint8Array | undefined;
  const pump = (): void => {
    while (pending) {
      const result = connection.write(pending);
      if (!result.ok) return;
      pending = result.accepted < pending.length ? pending.subarray(result.accepted) : undefined;
      if (pending) return; // onDrain calls again
    }
    connection.resume();
  };
  connection.onDrain(pump);
  connection.onData((data) => {
    const result = connection.write(data);
    if (result.ok && result.accepted < data.length) {
      pending = data.subarray(result.accepted);
      connection.pause();
      connection.onDrain(pump);
    }
  });
  connection.onEnd(() => {
    if (!pending) connection.end();
    else {
      const finish = (): void => (pending ? void connection.onDrain(finish) : connection.end());
      connection.onDrain(finish);
    }
  });
}
