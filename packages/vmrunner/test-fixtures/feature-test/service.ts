// Only feature-tests for globals uOS lacks, and local bindings and properties that share their names:
// none of these is a use, so `uos build` stays quiet.
const Worker = class {};
const options = { caches: 1, indexedDB: 2 };

export const hasWasm = typeof WebAssembly !== 'undefined' || typeof globalThis.WebAssembly === 'object';
export const stream = typeof CompressionStream === 'function' ? 'compress' : 'plain';
export const worker = new Worker();
export const fields = options.caches + options.indexedDB;
export default {};
