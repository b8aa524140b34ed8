/**
 * The WHATWG URL standard's basic URL parser (§4.4), state by state, with the state overrides its setters
 * use. Percent-encoding is applied per segment rather than per code point (the same result: the encode
 * sets never include "%").
 */
import { parseHost } from './host.js';
import { C0_CONTROL_SET, FRAGMENT_SET, PATH_SET, QUERY_SET, SPECIAL_QUERY_SET, USERINFO_SET, percentEncode } from './percent-encoding.js';

export interface UrlRecord {
  scheme: string;
  username: string;
  password: string;
  host: string | null;
  port: number | null;
  /** Segments, or one string for an opaque path (`mailto:x`). */
  path: string[] | string;
  query: string | null;
  fragment: string | null;
}

export type ParserState =
  | 'scheme start'
  | 'scheme'
  | 'no scheme'
  | 'special relative or authority'
  | 'path or authority'
  | 'relative'
  | 'relative slash'
  | 'special authority slashes'
  | 'special authority ignore slashes'
  | 'authority'
  | 'host'
  | 'hostname'
  | 'port'
  | 'file'
  | 'file slash'
  | 'file host'
  | 'path start'
  | 'path'
  | 'opaque path'
  | 'query'
  | 'fragment';

export const SPECIAL_SCHEMES: Readonly<Record<string, number | null>> = { ftp: 21, file: null, http: 80, https: 443, ws: 80, wss: 443 };

export const isSpecial = (url: UrlRecord): boolean => url.scheme in SPECIAL_SCHEMES;

const ALPHA = /^[A-Za-z]$/;
const SCHEME_CHAR = /^[A-Za-z0-9+\-.]$/;
const DIGIT = /^[0-9]$/;
const isWindowsDriveLetter = (text: string): boolean => text.length === 2 && ALPHA.test(text[0]!) && (text[1] === ':' || text[1] === '|');
const isNormalizedDriveLetter = (text: string): boolean => text.length === 2 && ALPHA.test(text[0]!) && text[1] === ':';

function startsWithDriveLetter(input: string, at: number): boolean {
  if (input.length - at < 2 || !isWindowsDriveLetter(input.slice(at, at + 2))) return false;
  if (input.length - at === 2) return true;
  const third = input[at + 2];
  return third === '/' || third === '\\' || third === '?' || third === '#';
}

const isSingleDot = (s: string): boolean => s === '.' || s.toLowerCase() === '%2e';
const isDoubleDot = (s: string): boolean => {
  const lower = s.toLowerCase();
  return lower === '..' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e';
};

function shortenPath(url: UrlRecord): void {
  const path = url.path as string[];
  if (url.scheme === 'file' && path.length === 1 && isNormalizedDriveLetter(path[0]!)) return;
  path.pop();
}

export function emptyRecord(): UrlRecord {
  return { scheme: '', username: '', password: '', host: null, port: null, path: [], query: null, fragment: null };
}

export function copyRecord(url: UrlRecord): UrlRecord {
  return { ...url, path: typeof url.path === 'string' ? url.path : url.path.slice() };
}

/**
 * Parses `input` (against `base`); with `url` and `stateOverride`, changes that record the way a setter
 * does. Returns the record, or null for failure ("Invalid URL"; a setter then changes nothing).
 */
export function parseUrl(rawInput: string, base: UrlRecord | null = null, url?: UrlRecord, stateOverride?: ParserState): UrlRecord | null {
  let input = rawInput;
  if (!url) {
    url = emptyRecord();
    input = input.replace(/^[\0-\x20]+|[\0-\x20]+$/g, '');
  }
  input = input.replace(/[\t\n\r]/g, '');
  let state: ParserState = stateOverride ?? 'scheme start';
  let buffer = '';
  let atSignSeen = false;
  let insideBrackets = false;
  let passwordTokenSeen = false;
  const length = input.length;

  for (let pointer = 0; pointer <= length; pointer++) {
    const c = pointer < length ? input[pointer]! : '';
    const eof = pointer >= length;
    switch (state) {
      case 'scheme start':
        if (!eof && ALPHA.test(c)) {
          buffer += c.toLowerCase();
          state = 'scheme';
        } else if (!stateOverride) {
          state = 'no scheme';
          pointer--;
        } else return null;
        break;

      case 'scheme':
        if (!eof && SCHEME_CHAR.test(c)) buffer += c.toLowerCase();
        else if (c === ':') {
          if (stateOverride) {
            const special = buffer in SPECIAL_SCHEMES;
            if (isSpecial(url) !== special) return url;
            if ((url.username || url.password || url.port !== null) && buffer === 'file') return url;
            if (url.scheme === 'file' && url.host === '') return url;
          }
          url.scheme = buffer;
          if (stateOverride) {
            if (url.port === SPECIAL_SCHEMES[url.scheme]) url.port = null;
            return url;
          }
          buffer = '';
          if (url.scheme === 'file') state = 'file';
          else if (isSpecial(url) && base && base.scheme === url.scheme) state = 'special relative or authority';
          else if (isSpecial(url)) state = 'special authority slashes';
          else if (input[pointer + 1] === '/') {
            state = 'path or authority';
            pointer++;
          } else {
            url.path = '';
            state = 'opaque path';
          }
        } else if (!stateOverride) {
          buffer = '';
          state = 'no scheme';
          pointer = -1;
        } else return null;
        break;

      case 'no scheme':
        if (!base || (typeof base.path === 'string' && c !== '#')) return null;
        if (typeof base.path === 'string' && c === '#') {
          url.scheme = base.scheme;
          url.path = base.path;
          url.query = base.query;
          url.fragment = '';
          state = 'fragment';
        } else if (base.scheme !== 'file') {
          state = 'relative';
          pointer--;
        } else {
          state = 'file';
          pointer--;
        }
        break;

      case 'special relative or authority':
        if (c === '/' && input[pointer + 1] === '/') {
          state = 'special authority ignore slashes';
          pointer++;
        } else {
          state = 'relative';
          pointer--;
        }
        break;

      case 'path or authority':
        if (c === '/') state = 'authority';
        else {
          state = 'path';
          pointer--;
        }
        break;

      case 'relative':
        url.scheme = base!.scheme;
        if (c === '/') state = 'relative slash';
        else if (isSpecial(url) && c === '\\') state = 'relative slash';
        else {
          url.username = base!.username;
          url.password = base!.password;
          url.host = base!.host;
          url.port = base!.port;
          url.path = (base!.path as string[]).slice();
          url.query = base!.query;
          if (c === '?') {
            url.query = '';
            state = 'query';
          } else if (c === '#') {
            url.fragment = '';
            state = 'fragment';
          } else if (!eof) {
            url.query = null;
            shortenPath(url);
            state = 'path';
            pointer--;
          }
        }
        break;

      case 'relative slash':
        if (isSpecial(url) && (c === '/' || c === '\\')) state = 'special authority ignore slashes';
        else if (c === '/') state = 'authority';
        else {
          url.username = base!.username;
          url.password = base!.password;
          url.host = base!.host;
          url.port = base!.port;
          state = 'path';
          pointer--;
        }
        break;

      case 'special authority slashes':
        if (c === '/' && input[pointer + 1] === '/') {
          state = 'special authority ignore slashes';
          pointer++;
        } else {
          state = 'special authority ignore slashes';
          pointer--;
        }
        break;

      case 'special authority ignore slashes':
        if (c !== '/' && c !== '\\') {
          state = 'authority';
          pointer--;
        }
        break;

      case 'authority':
        if (c === '@') {
          if (atSignSeen) buffer = `%40${buffer}`;
          atSignSeen = true;
          for (const ch of buffer) {
            if (ch === ':' && !passwordTokenSeen) {
              passwordTokenSeen = true;
              continue;
            }
            const encoded = percentEncode(ch, USERINFO_SET);
            if (passwordTokenSeen) url.password += encoded;
            else url.username += encoded;
          }
          buffer = '';
        } else if (eof || c === '/' || c === '?' || c === '#' || (isSpecial(url) && c === '\\')) {
          if (atSignSeen && buffer === '') return null;
          pointer -= buffer.length + 1;
          buffer = '';
          state = 'host';
        } else buffer += c;
        break;

      case 'host':
      case 'hostname':
        if (stateOverride && url.scheme === 'file') {
          pointer--;
          state = 'file host';
        } else if (c === ':' && !insideBrackets) {
          if (buffer === '') return null;
          if (stateOverride === 'hostname') return null;
          const host = parseHost(buffer, isSpecial(url));
          if (host === null) return null;
          url.host = host;
          buffer = '';
          state = 'port';
        } else if (eof || c === '/' || c === '?' || c === '#' || (isSpecial(url) && c === '\\')) {
          pointer--;
          if (isSpecial(url) && buffer === '') return null;
          if (stateOverride && buffer === '' && (url.username || url.password || url.port !== null)) return null;
          const host = parseHost(buffer, isSpecial(url));
          if (host === null) return null;
          url.host = host;
          buffer = '';
          state = 'path start';
          if (stateOverride) return url;
        } else {
          if (c === '[') insideBrackets = true;
          if (c === ']') insideBrackets = false;
          buffer += c;
        }
        break;

      case 'port':
        if (!eof && DIGIT.test(c)) buffer += c;
        else if (eof || c === '/' || c === '?' || c === '#' || (isSpecial(url) && c === '\\') || stateOverride) {
          if (buffer !== '') {
            const port = Number.parseInt(buffer, 10);
            if (port > 65535) return null;
            url.port = SPECIAL_SCHEMES[url.scheme] === port ? null : port;
            buffer = '';
            if (stateOverride) return url;
          }
          if (stateOverride) return null;
          state = 'path start';
          pointer--;
        } else return null;
        break;

      case 'file':
        url.scheme = 'file';
        url.host = '';
        if (c === '/' || c === '\\') state = 'file slash';
        else if (base && base.scheme === 'file') {
          url.host = base.host;
          url.path = (base.path as string[]).slice();
          url.query = base.query;
          if (c === '?') {
            url.query = '';
            state = 'query';
          } else if (c === '#') {
            url.fragment = '';
            state = 'fragment';
          } else if (!eof) {
            url.query = null;
            if (!startsWithDriveLetter(input, pointer)) shortenPath(url);
            else url.path = [];
            state = 'path';
            pointer--;
          }
        } else {
          state = 'path';
          pointer--;
        }
        break;

      case 'file slash':
        if (c === '/' || c === '\\') state = 'file host';
        else {
          if (base && base.scheme === 'file') {
            url.host = base.host;
            const first = (base.path as string[])[0];
            if (!startsWithDriveLetter(input, pointer) && first !== undefined && isNormalizedDriveLetter(first)) {
              (url.path as string[]).push(first);
            }
          }
          state = 'path';
          pointer--;
        }
        break;

      case 'file host':
        if (eof || c === '/' || c === '\\' || c === '?' || c === '#') {
          pointer--;
          if (!stateOverride && isWindowsDriveLetter(buffer)) state = 'path';
          else if (buffer === '') {
            url.host = '';
            if (stateOverride) return url;
            state = 'path start';
          } else {
            let host = parseHost(buffer, true);
            if (host === null) return null;
            if (host === 'localhost') host = '';
            url.host = host;
            if (stateOverride) return url;
            buffer = '';
            state = 'path start';
          }
        } else buffer += c;
        break;

      case 'path start':
        if (isSpecial(url)) {
          state = 'path';
          if (c !== '/' && c !== '\\') pointer--;
        } else if (!stateOverride && c === '?') {
          url.query = '';
          state = 'query';
        } else if (!stateOverride && c === '#') {
          url.fragment = '';
          state = 'fragment';
        } else if (!eof) {
          state = 'path';
          if (c !== '/') pointer--;
        } else if (stateOverride && url.host === null) {
          (url.path as string[]).push('');
        }
        break;

      case 'path':
        if (eof || c === '/' || (isSpecial(url) && c === '\\') || (!stateOverride && (c === '?' || c === '#'))) {
          const path = url.path as string[];
          const slash = c === '/' || (isSpecial(url) && c === '\\');
          if (isDoubleDot(buffer)) {
            shortenPath(url);
            if (!slash) path.push('');
          } else if (isSingleDot(buffer) && !slash) {
            path.push('');
          } else if (!isSingleDot(buffer)) {
            if (url.scheme === 'file' && path.length === 0 && isWindowsDriveLetter(buffer)) buffer = `${buffer[0]}:`;
            path.push(percentEncode(buffer, PATH_SET));
          }
          buffer = '';
          if (c === '?') {
            url.query = '';
            state = 'query';
          }
          if (c === '#') {
            url.fragment = '';
            state = 'fragment';
          }
        } else buffer += c;
        break;

      case 'opaque path': {
        // The rest up to "?" or "#" in one piece.
        let end = pointer;
        while (end < length && input[end] !== '?' && input[end] !== '#') end++;
        url.path = (url.path as string) + percentEncode(input.slice(pointer, end), C0_CONTROL_SET);
        pointer = end;
        if (input[end] === '?') {
          url.query = '';
          state = 'query';
        } else if (input[end] === '#') {
          url.fragment = '';
          state = 'fragment';
        }
        break;
      }

      case 'query': {
        let end = pointer;
        while (end < length && (stateOverride || input[end] !== '#')) end++;
        url.query = (url.query ?? '') + percentEncode(input.slice(pointer, end), isSpecial(url) ? SPECIAL_QUERY_SET : QUERY_SET);
        pointer = end;
        if (end < length) {
          url.fragment = '';
          state = 'fragment';
        }
        break;
      }

      case 'fragment':
        url.fragment = (url.fragment ?? '') + percentEncode(input.slice(pointer), FRAGMENT_SET);
        pointer = length;
        break;
    }
  }
  return url;
}

/** The URL serializer (§4.5). */
export function serializeUrl(url: UrlRecord, excludeFragment = false): string {
  let out = `${url.scheme}:`;
  if (url.host !== null) {
    out += '//';
    if (url.username || url.password) {
      out += url.username;
      if (url.password) out += `:${url.password}`;
      out += '@';
    }
    out += url.host;
    if (url.port !== null) out += `:${url.port}`;
  }
  if (url.host === null && typeof url.path !== 'string' && url.path.length > 1 && url.path[0] === '') out += '/.';
  out += serializePath(url);
  if (url.query !== null) out += `?${url.query}`;
  if (!excludeFragment && url.fragment !== null) out += `#${url.fragment}`;
  return out;
}

export function serializePath(url: UrlRecord): string {
  if (typeof url.path === 'string') return url.path;
  let out = '';
  for (const segment of url.path) out += `/${segment}`;
  return out;
}
