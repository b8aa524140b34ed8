/**
 * Shared shapes of the wire-format modules. Parsing untrusted bytes never throws: it returns a
 * `WireResult`. Unknown protocol values are data (`{ kind: 'unknown', value }`), not errors.
 */
export type WireErrorKind = 'truncated' | 'malformed' | 'checksum' | 'unsupported';

export interface WireError {
  kind: WireErrorKind;
  /** What was wrong, for logs and statistics. */
  detail: string;
}

export type WireResult<T> = { ok: true; value: T } | { ok: false; error: WireError };

export function wireOk<T>(value: T): WireResult<T> {
  return { ok: true, value };
}

export function wireError<T>(kind: WireErrorKind, detail: string): WireResult<T> {
  return { ok: false, error: { kind, detail } };
}
