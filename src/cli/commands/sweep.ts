/**
 * `tessera sweep`: remove expired records now (the service also sweeps in
 * the background). Validity never depends on it: expiry is checked on read.
 * @module
 */
import { intOption, parseCommandArgs } from '../args.js';
import type { CliCommand } from '../context.js';

/** The `sweep` command. */
export const sweepCommand: CliCommand = {
  name: 'sweep',
  summary: 'remove expired records from the store',
  help: [
    'Usage: tessera sweep [--limit <n>] [--grace <seconds>] [--store <url>] [--data-dir <dir>]',
    '',
    'Delete records whose expiry passed at least --grace seconds ago (default 0),',
    'in batches of 1000, at most --limit records (default 1000000). Stores with',
    'native expiry (Redis, DynamoDB TTL) need it only to tidy indexes.',
    '',
  ].join('\n'),
  async run(args, ctx) {
    const { values } = parseCommandArgs(args, {
      limit: { type: 'string' },
      grace: { type: 'string' },
    });
    const limit = intOption(values.limit, 'limit', 1_000_000, 1, 1_000_000_000);
    const graceMs = intOption(values.grace, 'grace', 0, 0, 31_536_000) * 1000;
    const store = await ctx.openStore();
    try {
      let total = 0;
      for (;;) {
        const batch = Math.min(1000, limit - total);
        if (batch <= 0) break;
        const n = await store.sweep(ctx.clock.now(), { limit: batch, graceMs });
        total += n;
        if (n < batch) break;
      }
      ctx.io.out(`tessera sweep: removed ${total} expired record${total === 1 ? '' : 's'}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
