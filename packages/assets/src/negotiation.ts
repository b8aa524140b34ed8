/**
 * The request headers a static file server reads (RFC 9110): Accept-Encoding (section 12.5.3),
 * If-None-Match (13.1.2), Range (14.2) and If-Range (13.1.5). Each parser takes the raw header value and
 * never throws: a value it cannot read means what the RFC says an absent or invalid one means.
 */
import type { AssetEncoding } from './format.js';
import type { AssetRepresentation } from './asset-set.js';

/** The server's order of preference among codings the client weighs equally. */
const PREFERENCE: readonly AssetRepresentation[] = ['br', 'gzip', 'identity'];

/**
 * The representation to send, given the client's Accept-Encoding and the codings the asset has. No
 * header means the plain bytes; the highest q-value wins, ties go to br, then gzip, then identity; a
 * coding with q=0 is refused, and `*` stands for every coding not named; identity, when not named, is
 * acceptable but below every coding the client named. When nothing acceptable is
 * left, the plain bytes are sent (RFC 9110 12.5.3 lets a server do so).
 */
export function chooseEncoding(acceptEncoding: string | null, available: readonly AssetEncoding[]): AssetRepresentation {
  if (acceptEncoding === null || available.length === 0) return 'identity';
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [rawName = '', ...parameters] = part.split(';');
    let name = rawName.trim().toLowerCase();
    if (name === '') continue;
    if (name === 'x-gzip') name = 'gzip';
    let q = 1;
    for (const parameter of parameters) {
      const match = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(parameter);
      if (match) q = Math.min(1, Number(match[1]));
    }
    weights.set(name, Math.max(q, weights.get(name) ?? -1));
  }
  const star = weights.get('*');
  const weight = (representation: AssetRepresentation): number => {
    const named = weights.get(representation);
    if (named !== undefined) return named;
    // The plain bytes are acceptable unless refused, but any coding the client names is preferred to them.
    if (representation === 'identity') return star === 0 ? 0 : 0.001;
    return star ?? 0;
  };
  let best: AssetRepresentation = 'identity';
  let bestWeight = 0;
  for (const representation of PREFERENCE) {
    if (representation !== 'identity' && !available.includes(representation)) continue;
    const w = weight(representation);
    if (w > bestWeight) {
      best = representation;
      bestWeight = w;
    }
  }
  return best;
}

/** The opaque part of an entity tag (`W/"x"` and `"x"` both give `"x"`), or undefined when it is not one. */
function opaqueTag(tag: string): string | undefined {
  const trimmed = tag.trim();
  const bare = trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed;
  return /^"[^"]*"$/.test(bare) ? bare : undefined;
}

/** Whether If-None-Match names `etag` (weak comparison, as RFC 9110 13.1.2 asks) or is `*`. */
export function noneMatch(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const wanted = opaqueTag(etag);
  // Entity tags cannot contain commas, so splitting on them is exact.
  return ifNoneMatch.split(',').some((tag) => opaqueTag(tag) === wanted);
}

/** Whether If-Range lets a range through: only a strong tag equal to `etag` does (dates never: no Last-Modified is sent). */
export function ifRangeAllows(ifRange: string | null, etag: string): boolean {
  if (ifRange === null) return true;
  const tag = ifRange.trim();
  return !tag.startsWith('W/') && tag === etag;
}

/** What a Range header asks of a representation of `size` bytes. */
export type RangeRequest =
  /** No usable Range: send the whole representation (absent, another unit, bad syntax, several ranges). */
  | { kind: 'whole' }
  /** One satisfiable range, inclusive bounds. */
  | { kind: 'range'; start: number; end: number }
  /** Syntactically fine but outside the representation: 416. */
  | { kind: 'unsatisfiable' };

/**
 * Reads a Range header for one representation of `size` bytes: `bytes=a-b`, `bytes=a-` and `bytes=-n`.
 * A list of several ranges is answered with the whole representation (RFC 9110 14.2 lets a server
 * ignore Range), which also keeps overlapping-range abuse away.
 */
export function parseRange(range: string | null, size: number): RangeRequest {
  if (range === null) return { kind: 'whole' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(range);
  if (!match) return { kind: 'whole' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'whole' }; // an invalid range-spec: the header is ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Number(last);
  return { kind: 'range', start, end: Math.min(end, size - 1) };
}
