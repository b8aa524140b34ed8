/**
 * The guest of the attack tests: the same service as test/integration/net/stack (echo on 7, discard on
 * 9, source on 19, HTTP on 80, and the `stats`, `connections`, `ping` and `quit` console commands).
 */
export { default } from '../stack/service.js';
