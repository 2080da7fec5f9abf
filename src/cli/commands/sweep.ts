/**
 * `tessera sweep`: release the tokens of sessions that timed out and remove
 * expired records now (the service also does both in the background).
 * Validity never depends on it: expiry is checked on read.
 * @module
 */
import { runMaintenance } from '../../server/maintenance.js';
import { createSessions } from '../../sessions/index.js';
import { intOption, parseCommandArgs } from '../args.js';
import type { CliCommand } from '../context.js';

/** The `sweep` command. */
export const sweepCommand: CliCommand = {
  name: 'sweep',
  summary: 'release tokens of timed-out sessions and remove expired records',
  help: [
    'Usage: tessera sweep [--limit <n>] [--grace <seconds>] [--store <url>] [--data-dir <dir>]',
    '',
    'Release the tokens of sessions that timed out (bound tokens are deleted,',
    'transferable ones become unassigned, as the service does in the background),',
    'then delete records whose expiry passed at least --grace seconds ago (default',
    '0), in batches of 1000, at most --limit records (default 1000000). Stores with',
    'native expiry (Redis, DynamoDB TTL) need the deletion only to tidy indexes.',
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
      // Collection reads no secret: no keyring needed.
      const sessions = createSessions({ store, clock: ctx.clock });
      let total = 0;
      let released = 0;
      let ended = 0;
      for (;;) {
        const batch = Math.min(1000, limit - total);
        if (batch <= 0) break;
        const r = await runMaintenance({
          store,
          sessions,
          now: ctx.clock.now(),
          limit: batch,
          graceMs,
        });
        total += r.swept;
        released += r.tokens;
        ended += r.sessions;
        if (r.swept < batch && r.sessions < batch) break;
      }
      const s = (n: number) => (n === 1 ? '' : 's');
      ctx.io.out(
        `tessera sweep: released ${released} token${s(released)} of ${ended} ended session${s(ended)}; removed ${total} expired record${s(total)}\n`,
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
