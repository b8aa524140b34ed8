// The flagship example, booted as it ships.
export { default } from '../../../../examples/hello_world/service.js';
