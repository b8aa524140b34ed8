import { defineConfig } from 'tsup';
import { uosPreset } from '../../tsup.preset';

export default defineConfig(uosPreset({ entry: { index: 'src/index.ts', hono: 'src/hono.ts', format: 'src/format.ts' } }));
