import { type StatHandle, type Statman, statman } from '@uos/statman';
import { PARSE_ERROR_KINDS, type ParseErrorKind } from '../parser/syntax.js';

/**
 * Every statistic of one server, `<ifname>.http.<port>.<counter>` in statman, in one table. Parse errors
 * are counted per kind as `parse_errors_<kind>`.
 */
export const HttpStat = [
  'requests',
  'responses_1xx',
  'responses_2xx',
  'responses_3xx',
  'responses_4xx',
  'responses_5xx',
  'connections_opened',
  'connections_active',
  'connections_refused',
  'timeouts_headers',
  'timeouts_keep_alive',
  'timeouts_body',
  'handler_errors',
  'responses_aborted',
  'bytes_rx',
  'bytes_tx',
] as const;

export type HttpStatName = (typeof HttpStat)[number] | `parse_errors_${ParseErrorKind}`;

export type HttpStats = Record<HttpStatName, StatHandle>;

/** The handles of one server's statistics (created, or taken over when a server on that port existed before). */
export function httpStats(prefix: string, registry: Statman = statman): HttpStats {
  const handles = {} as Record<string, StatHandle>;
  for (const name of [...HttpStat, ...PARSE_ERROR_KINDS.map((kind) => `parse_errors_${kind}`)]) {
    handles[name] = registry.getOrCreate(`${prefix}.${name}`, { type: 'u64', kind: name === 'connections_active' ? 'gauge' : 'counter' });
  }
  return handles as HttpStats;
}

/** The statistics as plain numbers, for `server.stats()`. */
export function readStats(stats: HttpStats): Record<HttpStatName, number> {
  const out = {} as Record<string, number>;
  for (const name of Object.keys(stats)) out[name] = stats[name as HttpStatName].value;
  return out as Record<HttpStatName, number>;
}

export function freeHttpStats(prefix: string, stats: HttpStats, registry: Statman = statman): void {
  for (const name of Object.keys(stats)) registry.free(`${prefix}.${name}`);
}
