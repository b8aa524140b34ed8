// Reaches globals uOS lacks through `globalThis`: a use like the bare name (`uos build` warns about
// WebAssembly), except in a `typeof` feature test (no warning about caches).
export const instantiate = (bytes: Uint8Array) => globalThis.WebAssembly.instantiate(bytes);
export const cached = typeof globalThis.caches === 'object';
export default {};
