import type { TcpSocket } from '../socket/tcp/tcp-socket.js';

/**
 * Echoes everything a connection receives, with backpressure both ways: when the send buffer is full,
 * reading pauses (the window closes) until it drains. Ends when the peer ends.
 */
export function echo(connection: TcpSocket): void {
  let pending: Uint8Array | undefined;
  // Made the first time the send buffer fills: an idle connection holds only the two listeners.
  let pump: (() => void) | undefined;
  connection.onData((data) => {
    const result = connection.write(data);
    if (result.ok && result.accepted < data.length) {
      pending = data.subarray(result.accepted);
      connection.pause();
      connection.onDrain(
        (pump ??= (): void => {
          while (pending) {
            const written = connection.write(pending);
            if (!written.ok) return;
            pending = written.accepted < pending.length ? pending.subarray(written.accepted) : undefined;
            if (pending) {
              connection.onDrain(pump!); // once more, when there is room again
              return;
            }
          }
          connection.resume();
        }),
      );
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
