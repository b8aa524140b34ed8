import { defineConfig } from 'tsup';
import { uosPreset } from '../../tsup.preset';

export default defineConfig(uosPreset({ entry: ['src/index.ts', 'src/wire/index.ts', 'src/test/index.ts'] }));
