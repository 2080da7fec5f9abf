/**
 * `tessera admin rotate`: replace the service's admin credential.
 * @module
 */
import { rotateAdminCredential } from '../../server/admin.js';
import type { CliCommand } from '../context.js';

/** The `admin` command. */
export const adminCommand: CliCommand = {
  name: 'admin',
  summary: 'rotate the admin credential (printed once)',
  help: [
    'Usage: tessera admin rotate [--store <url>] [--data-dir <dir>]',
    '',
    'Replace the admin credential of the service on the configured store. The new',
    'credential is printed once; the old one stops working at once.',
    '',
  ].join('\n'),
  async run(args, ctx) {
    if (args.length !== 1 || args[0] !== 'rotate') {
      ctx.io.err('tessera admin: expected `tessera admin rotate`\n');
      return 2;
    }
    const store = await ctx.openStore();
    try {
      const credential = await rotateAdminCredential(store, ctx.clock);
      ctx.io.out(`New admin credential (printed once):\n  ${credential}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
