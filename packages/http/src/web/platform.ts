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
