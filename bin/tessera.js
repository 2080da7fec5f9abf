#!/usr/bin/env node
// The `tessera` command. Runs the compiled CLI (npm run build).
import { main, processIo } from '../dist/cli/main.js';

main(process.argv.slice(2), processIo).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`tessera: ${err?.message ?? err}\n`);
    process.exitCode = 1;
  },
);
