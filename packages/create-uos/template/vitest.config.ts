import { defineConfig } from 'vitest/config';

// Tests boot QEMU: give them time (TCG emulation is slow on a busy machine).
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } });
