#!/usr/bin/env node
// The `uos` command (see src/cli.ts).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`uos: internal error: ${error?.stack ?? String(error)}\n`);
    process.exit(70);
  },
);
