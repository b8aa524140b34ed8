/**
 * What the server needs of a TCP connection: the subset of @uos/net's socket API it uses, as a structural
 * type, so the same server runs over `inet.tcp.listen`'s connections, over test doubles, and over any
 * socket with this shape. Writes take what fits in the send buffer and say how much (`accepted`);
 * `writeAll` waits for room for the rest.
 */
export type SocketWriteResult = { ok: true; accepted: number } | { ok: false; error: string };

export interface HttpSocket {
  /** The peer: an IPv4 address as a number (today's @uos/net) or anything whose String() is the address. */
  readonly remoteAddress: unknown;
  readonly remotePort: number;
  /** This end's address (the Host of an HTTP/1.0 request without one). */
  readonly localAddress?: unknown;
  write(data: Uint8Array): SocketWriteResult;
  writeAll(data: Uint8Array): Promise<SocketWriteResult>;
  /** Half-close: a FIN after the data written. */
  end(): void;
  /** Ends both directions gracefully. */
  close(): void;
  /** Resets the connection. */
  abort(): void;
  onData(listener: (data: Uint8Array) => void): void;
  onEnd(listener: () => void): void;
  onClose(listener: (reason: string) => void): void;
  /** Stops delivering data (the receive window closes as bytes arrive) until resume(). */
  pause(): void;
  resume(): void;
}

/** The peer's address as text (dotted quad for @uos/net's numeric IPv4 addresses). */
export function formatAddress(address: unknown): string {
  if (typeof address === 'number') return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
  return String(address);
}
