import { defineConfig } from 'tsup';
import { uosPreset } from '../../tsup.preset';

// The footer keeps dist/globals.d.ts a module, which its `declare global` needs (the bundled declarations
// lose the import that made it one); in index.d.ts it changes nothing.
export default defineConfig(uosPreset({ entry: ['src/index.ts', 'src/globals.ts'], dts: { footer: 'export {};' } }));
