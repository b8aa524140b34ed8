import type { Response } from '../web/response.js';
import { STATUS_TEXT } from '../web/status-text.js';
import { latin1Encode, utf8Encode } from '../web/text.js';

/** How a response's body is delimited, and whether the connection ends after it. */
export interface Framing {
  /** Content-Length, or -1 when the body is chunked, close-delimited or absent. */
  contentLength: number;
  chunked: boolean;
  /** `Connection: close` (the server closes after this response). */
  close: boolean;
  /** `Connection: keep-alive` (an HTTP/1.0 client asked for it). */
  keepAlive: boolean;
}

/**
 * The status line and header section of a response, as one string. Framing and connection fields are the
 * server's (RFC 9112 §6 and §9.6): a handler's Content-Length, Transfer-Encoding, Connection and Keep-Alive
 * are replaced by what the server actually does; a handler's Date is kept.
 */
export function responseHead(response: Response, status: number, framing: Framing, date: string): string {
  let head = `HTTP/1.1 ${status} ${response._statusText || STATUS_TEXT[status] || 'Unknown'}\r\n`;
  let hasDate = false;
  const headers = response._headers;
  if (headers !== null) {
    const names = headers._names;
    const values = headers._values;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      switch (name.length) {
        case 4:
          if (name === 'date') hasDate = true;
          break;
        case 10:
          if (name === 'connection' || name === 'keep-alive') continue;
          break;
        case 14:
          if (name === 'content-length') continue;
          break;
        case 17:
          if (name === 'transfer-encoding') continue;
          break;
      }
      head += `${name}: ${values[i]}\r\n`;
    }
  } else if (response._impliedType !== null) {
    head += `Content-Type: ${response._impliedType}\r\n`;
  }
  if (!hasDate) head += `Date: ${date}\r\n`;
  if (framing.contentLength >= 0) head += `Content-Length: ${framing.contentLength}\r\n`;
  else if (framing.chunked) head += 'Transfer-Encoding: chunked\r\n';
  if (framing.close) head += 'Connection: close\r\n';
  else if (framing.keepAlive) head += 'Connection: keep-alive\r\n';
  return `${head}\r\n`;
}

/**
 * A head's bytes: the native UTF-8 encoder's when the head is ASCII (the usual case: then UTF-8 is one
 * byte per character, which is how it is told), else one byte per character (header values are Latin-1).
 */
export function encodeHead(head: string): Uint8Array {
  const bytes = utf8Encode(head);
  return bytes.length === head.length ? bytes : latin1Encode(head);
}

/** The Content-Length a handler declared (for a stream body), or -1. */
export function declaredLength(response: Response): number {
  const value = response._headers?.get('content-length');
  if (value === null || value === undefined || !/^[0-9]{1,15}$/.test(value)) return -1;
  return Number(value);
}

/** A short text response the server sends itself (refusals, timeouts, handler failures). */
export function plainResponseBytes(status: number, date: string, extra = ''): Uint8Array {
  const body = `${status} ${STATUS_TEXT[status] ?? 'Error'}\n`;
  return utf8Encode(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nDate: ${date}\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n${extra}\r\n${body}`,
  );
}
