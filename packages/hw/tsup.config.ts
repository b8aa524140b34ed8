import { defineConfig } from 'tsup';
import { uosPreset } from '../../tsup.preset';

// @uos/hw/test imports @uos/hw itself: kept external, so both entries share one platform slot.
export default defineConfig(uosPreset({ entry: ['src/index.ts', 'src/test/index.ts'], external: ['@uos/hw'] }));
