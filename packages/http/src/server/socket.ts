import { type IpAddress, type TcpSocket, formatIpAddress } from '@uos/net';

/**
 * What the server needs of a TCP connection: the part of @uos/net's `TcpSocket` it uses (what
 * `inet.tcp.listen` hands out), so that test doubles implement only that. Writes take what fits in the
 * send buffer and say how much (`accepted`); `writeAll` waits for room for the rest; the `onXxx` methods
 * answer a function that removes the listener.
 */
export type HttpSocket = Pick<
  TcpSocket,
  | 'remoteAddress'
  | 'remotePort'
  | 'localAddress'
  | 'write'
  | 'writeAll'
  | 'end'
  | 'close'
  | 'abort'
  | 'onData'
  | 'onEnd'
  | 'onClose'
  | 'pause'
  | 'resume'
>;

export type SocketWriteResult = ReturnType<TcpSocket['write']>;

/** An address as text (dotted quad for IPv4). */
export function formatAddress(address: IpAddress): string {
  return formatIpAddress(address);
}
