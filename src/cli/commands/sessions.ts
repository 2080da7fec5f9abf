/**
 * `tessera sessions list|destroy`: inspect and end sessions from the command
 * line (ids only: a session's bearer token is never shown).
 * @module
 */
import { createSessions, type SessionInfo } from '../../sessions/index.js';
import { CliUsageError, intOption, parseCommandArgs } from '../args.js';
import type { CliCommand } from '../context.js';

/**
 * One session as a line: id, owner, times, then whether its idle timeout
 * slides with activity (`sliding`) or is a fixed countdown (`fixed`), and
 * `detached` when it is.
 */
function line(s: SessionInfo): string {
  const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  return `${s.id}  ${s.owner}  created ${iso(s.createdAt)}  active ${iso(s.lastActiveAt)}  expires ${iso(s.expiresAt)}  ${s.sliding ? 'sliding' : 'fixed'}${s.detached ? '  detached' : ''}`;
}

/** The `sessions` command. */
export const sessionsCommand: CliCommand = {
  name: 'sessions',
  summary: 'list or destroy sessions',
  help: [
    'Usage:',
    '  tessera sessions list --owner <owner> [--limit <n>] [--json]',
    '  tessera sessions list --detached [--limit <n>] [--json]',
    '  tessera sessions destroy --id <session id>',
    '  tessera sessions destroy --owner <owner>        (every session of the owner)',
    '',
    'A listed line shows the id, owner, creation, last activity and end, then',
    '`sliding` (activity extends the idle timeout) or `fixed` (a countdown that',
    'activity does not extend), and `detached` for a detached session.',
    '',
    'Common options: --store <url>, --data-dir <dir> (the server secret there names',
    'the session ids; use the same TESSERA_SECRET as the service).',
    '',
  ].join('\n'),
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        owner: { type: 'string' },
        id: { type: 'string' },
        detached: { type: 'boolean' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
      1,
    );
    const sub = positionals[0];
    if (sub !== 'list' && sub !== 'destroy') {
      throw new CliUsageError('expected `tessera sessions list` or `tessera sessions destroy`');
    }
    const owner = typeof values.owner === 'string' ? values.owner : undefined;
    const id = typeof values.id === 'string' ? values.id : undefined;
    if (sub === 'list' && (owner === undefined) === (values.detached !== true)) {
      throw new CliUsageError('sessions list needs --owner <owner> or --detached');
    }
    if (sub === 'destroy' && (owner === undefined) === (id === undefined)) {
      throw new CliUsageError('sessions destroy needs --id <session id> or --owner <owner>');
    }
    const limit = intOption(values.limit, 'limit', 1000, 1, 1_000_000);
    const keyring = await ctx.keyring(); // before the store: no file is created without a secret
    const store = await ctx.openStore();
    try {
      const sessions = createSessions({ store, keyring, clock: ctx.clock });
      if (sub === 'destroy') {
        if (id !== undefined) {
          const ended = await sessions.destroy({ id });
          ctx.io.out(ended ? `destroyed session ${id}\n` : `no live session ${id}\n`);
          return ended ? 0 : 1;
        }
        const n = await sessions.destroyAll(owner as string);
        ctx.io.out(`destroyed ${n} session${n === 1 ? '' : 's'} of ${owner}\n`);
        return 0;
      }
      const found: SessionInfo[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: readonly SessionInfo[]; cursor: string | null } = owner
          ? await sessions.listByOwner(owner, { limit: Math.min(1000, limit), cursor })
          : await sessions.listDetached({ limit: Math.min(1000, limit), cursor });
        found.push(...page.items);
        cursor = page.cursor;
      } while (cursor !== null && found.length < limit);
      const items = found.slice(0, limit);
      if (values.json) ctx.io.out(`${JSON.stringify(items)}\n`);
      else if (items.length === 0) ctx.io.out('no sessions\n');
      else ctx.io.out(`${items.map(line).join('\n')}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
