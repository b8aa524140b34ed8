import type { TcpSocket } from '../socket/tcp/tcp-socket.js';

/**
 * Echoes everything a connection receives, with backpressure both ways: when the send buffer cannot
 * take a chunk, reading pauses (the window closes) and the rest goes as room comes, one `onDrain` at a
 * time (a listener runs once, and one chunk may need several); then reading resumes. Ends when the peer
 * ends and everything is written.
 */
export function echo(connection: TcpSocket): void {
  let pending: Uint8Array | undefined;
  let ended = false;
  // Made the first time the send buffer fills: an idle connection holds only the two listeners.
  let pump: (() => void) | undefined;
  const makePump = (): (() => void) => {
    const run = (): void => {
      while (pending) {
        const result = connection.write(pending);
        if (!result.ok) return;
        pending = result.accepted < pending.length ? pending.subarray(result.accepted) : undefined;
        if (pending) {
          connection.onDrain(run); // once more, when there is room again
          return;
        }
      }
      if (ended) connection.end();
      else connection.resume();
    };
    return run;
  };
  connection.onData((data) => {
    const result = connection.write(data);
    if (result.ok && result.accepted < data.length) {
      pending = data.subarray(result.accepted);
      connection.pause();
      connection.onDrain((pump ??= makePump()));
    }
  });
  connection.onEnd(() => {
    ended = true;
    if (!pending) connection.end();
  });
}
