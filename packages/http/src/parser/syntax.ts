/**
 * The grammar of RFC 9110/9112 as the parser needs it: the error kinds with the status each one answers,
 * and the patterns that check a request line, a field line and a chunk extension in one native call each
 * (a regular expression runs in QuickJS's C engine; a loop over characters would run in the interpreter).
 *
 * Every pattern here is linear: no two adjacent parts can match the same character, so a failing match
 * never backtracks over more than one character class (a 16 KiB line of spaces costs what its length costs).
 */

/** Why a request was refused: each kind answers one status and is counted as `parse_errors_<kind>`. */
export type ParseErrorKind =
  | 'invalid_request_line'
  | 'invalid_method'
  | 'invalid_target'
  | 'unsupported_version'
  | 'uri_too_long'
  | 'head_too_large'
  | 'too_many_headers'
  | 'invalid_header'
  | 'bare_lf'
  | 'missing_host'
  | 'invalid_host'
  | 'invalid_content_length'
  | 'conflicting_framing'
  | 'invalid_transfer_encoding'
  | 'unsupported_transfer_coding'
  | 'invalid_chunk'
  | 'body_too_large'
  | 'unsupported_expectation'
  | 'not_implemented';

/** The status each kind answers with. */
export const PARSE_ERROR_STATUS: Readonly<Record<ParseErrorKind, number>> = {
  invalid_request_line: 400,
  invalid_method: 400,
  invalid_target: 400,
  unsupported_version: 505,
  uri_too_long: 414,
  head_too_large: 431,
  too_many_headers: 431,
  invalid_header: 400,
  bare_lf: 400,
  missing_host: 400,
  invalid_host: 400,
  invalid_content_length: 400,
  conflicting_framing: 400,
  invalid_transfer_encoding: 400,
  unsupported_transfer_coding: 501,
  invalid_chunk: 400,
  body_too_large: 413,
  unsupported_expectation: 417,
  not_implemented: 501,
};

export const PARSE_ERROR_KINDS = Object.keys(PARSE_ERROR_STATUS) as ParseErrorKind[];

export const CR = 13;
export const LF = 10;

// tchar (RFC 9110 §5.6.2).
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** A whole token. */
export const TOKEN_PATTERN = new RegExp(`^${TOKEN}$`);

/**
 * request-line = method SP request-target SP HTTP-version (RFC 9112 §3). The target is any run of visible
 * ASCII; its form is checked afterwards. The version is any `HTTP/d.d`, so that 2.0 gets its 505.
 */
export const REQUEST_LINE = new RegExp(`^(${TOKEN}) ([\\x21-\\x7e]+) HTTP/([0-9])\\.([0-9])$`);

/**
 * field-line = field-name ":" OWS field-value OWS, one per CRLF (sticky: the next one starts where the
 * last ended). The value starts with a visible character (so OWS and the value never compete for a
 * space) and may hold SP, HTAB, VCHAR and obs-text; its trailing OWS is trimmed by the caller. No CR, LF or
 * other control character matches, so obs-fold (a line starting with SP), whitespace before the colon and
 * bare CRs all fail here.
 */
export const FIELD_LINE = new RegExp(`(${TOKEN}):[ \\t]*((?:[\\x21-\\x7e\\x80-\\xff][\\t\\x20-\\x7e\\x80-\\xff]*)?)(?:\\r\\n|$)`, 'y');

const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
/** chunk = chunk-size [ chunk-ext ] CRLF, with chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ). */
export const CHUNK_LINE = new RegExp(`^[0-9A-Fa-f]+(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)*$`);

/** Host = uri-host [ ":" port ]: an IP literal or a reg-name (RFC 3986), possibly empty. */
export const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::[0-9]*)?$/;

/** An absolute-form target (RFC 9112 §3.2.2) for http or https, with an authority. */
export const ABSOLUTE_TARGET = /^https?:\/\/[^/?#]+/i;

/**
 * The bytes as a string of the same length, one character per byte (ISO-8859-1, as HTTP fields are
 * octets): `String.fromCharCode` does it natively, a slice at a time (QuickJS caps the arguments of apply).
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  const SLICE = 8192;
  if (end - start <= SLICE) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let text = '';
  for (let i = start; i < end; i += SLICE) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + SLICE)) as unknown as number[]);
  }
  return text;
}
