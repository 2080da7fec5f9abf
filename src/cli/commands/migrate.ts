/**
 * `tessera migrate`: create or upgrade the store's schema (idempotent, safe
 * from several processes).
 * @module
 */
import { parseCommandArgs } from '../args.js';
import type { CliCommand } from '../context.js';

/** The `migrate` command. */
export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: "create or upgrade the store's schema",
  help: [
    'Usage: tessera migrate [--store <url>] [--data-dir <dir>]',
    '',
    "Create or upgrade the configured store's tables, indexes or key layout.",
    'Idempotent and safe to run from several processes at once; `tessera serve`',
    'also migrates on start.',
    '',
  ].join('\n'),
  async run(args, ctx) {
    parseCommandArgs(args, {});
    const store = await ctx.openStore();
    try {
      ctx.io.out(`tessera migrate: ${store.kind} store is up to date\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
