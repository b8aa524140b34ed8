import { defineConfig } from 'tsup';
import { uosPreset } from '../../tsup.preset';

// ES2022 for the string export names of the inject module (`export { subtle as 'crypto.subtle' }`);
// `uos build` bundles this code again for the guest, at ES2020. The footer keeps dist/globals.d.ts a
// module, which its `declare global` needs.
export default defineConfig(
  uosPreset({
    entry: { index: 'src/index.ts', 'web/inject': 'src/web/inject.ts', globals: 'src/globals.ts' },
    target: 'es2022',
    dts: { footer: 'export {};' },
  }),
);
