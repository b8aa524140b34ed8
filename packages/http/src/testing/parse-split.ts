/**
 * Test support: runs the parser over input split at given offsets and records what it reports, in a
 * shape tables and properties compare (bodies joined, errors by kind).
 */
import type { RequestHead } from '../parser/head.js';
import { type ParserLimits, RequestParser } from '../parser/request-parser.js';
import type { ParseErrorKind } from '../parser/syntax.js';

export interface ParsedMessage {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: string;
  complete: boolean;
  keepAlive: boolean;
  host?: string | undefined;
}

export interface ParseOutcome {
  messages: ParsedMessage[];
  error?: ParseErrorKind;
}

export const TEST_LIMITS: ParserLimits = { maxHeadBytes: 16384, maxRequestLineBytes: 8192, maxHeaders: 100, maxBodyBytes: 1 << 20 };

/** The bytes of a string of byte values (each character one byte, as the tables write them). */
export function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Parses `input` pushed in pieces ending at each of `cuts` (sorted offsets) and then the rest. */
export function parseSplit(input: Uint8Array, cuts: readonly number[] = [], limits: ParserLimits = TEST_LIMITS): ParseOutcome {
  const outcome: ParseOutcome = { messages: [] };
  let current: ParsedMessage | undefined;
  const parser = new RequestParser(
    {
      onHead(head: RequestHead) {
        const headers: [string, string][] = [];
        for (let i = 0; i < head.headers.length; i += 2) headers.push([head.headers[i]!, head.headers[i + 1]!]);
        current = {
          method: head.method,
          target: head.target,
          version: `1.${head.minorVersion}`,
          headers,
          body: '',
          complete: false,
          keepAlive: head.keepAlive,
          host: head.host,
        };
        outcome.messages.push(current);
      },
      onBody(data) {
        current!.body += String.fromCharCode(...data);
      },
      onMessageComplete() {
        current!.complete = true;
      },
      onError(kind) {
        outcome.error = kind;
      },
    },
    limits,
  );
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    if (cut > at) parser.push(input.subarray(at, cut));
    at = Math.max(at, cut);
  }
  return outcome;
}
