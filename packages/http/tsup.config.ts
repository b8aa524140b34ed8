import { defineConfig } from 'tsup';
import { uosPreset } from '../../tsup.preset';

export default defineConfig(uosPreset({ entry: { index: 'src/index.ts', 'web/inject': 'src/web/inject.ts' } }));
