/** Small globals about the runtime itself. */

/** `navigator.userAgent`, as WinterTC asks runtimes to name themselves. */
export const navigator: { readonly userAgent: string } = Object.freeze({ userAgent: 'uOS' });

/**
 * `fetch()`, which uOS does not have yet (there is no HTTP client): a library that calls it gets a
 * rejection that says so, instead of a ReferenceError.
 */
export function fetch(input: unknown): Promise<never> {
  const what =
    typeof input === 'string' ? input : input instanceof Object && 'url' in input ? String((input as { url: unknown }).url) : String(input);
  return Promise.reject(new TypeError(`fetch(${JSON.stringify(what)}): uOS has no HTTP client yet (@uos/http serves; it does not fetch)`));
}

/**
 * `WebSocket`, which uOS does not have yet (neither client nor server upgrades): constructing one throws a
 * TypeError that says so, instead of a ReferenceError. It exists so that libraries whose code or
 * declarations name it (Hono's client, `hc`) build and type-check.
 */
export class WebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  constructor(url: unknown) {
    throw new TypeError(`new WebSocket(${JSON.stringify(String(url))}): uOS has no WebSocket client yet`);
  }
}
