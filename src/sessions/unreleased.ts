/**
 * Internal: the unassigned tokens nobody released yet, computed on read. A
 * transferable token carried by a session that timed out is unassigned from
 * the session's end until its disownment deadline whether or not `collect`
 * has written that back; this finds those tokens (the sessions `collect`
 * would visit, their transferable tokens, each resolved as any read does)
 * and writes nothing. For the compat facades, whose listings answer in full.
 * @module
 */
import { type Ctx, idOf } from './records.js';
import { statusOf } from './session-state.js';
import { newCache, resolveToken, toTokenInfo } from './token-state.js';
import type { TokenInfo } from './types.js';

const contexts = new WeakMap<object, Ctx>();

/** Remember the context behind an API made by `createSessions`. */
export function registerContext(api: object, ctx: Ctx): void {
  contexts.set(api, ctx);
}

/**
 * The transferable tokens of sessions that ended (timed out) and were not
 * collected yet, still within their disownment timeout: exactly those that
 * `collect` would make unassigned and the unassigned listing would then show.
 * Reads only. Costs what `collect` reads: one index query over the sessions
 * that carry tokens (ended ones filtered by the store), then one per ended
 * session over its tokens.
 *
 * @param api - a `Sessions` made by `createSessions`
 * @throws TypeError when `api` was not made by `createSessions`
 */
export async function listUnreleasedUnassigned(api: object): Promise<TokenInfo[]> {
  const ctx = contexts.get(api);
  if (ctx === undefined) throw new TypeError('expected a Sessions made by createSessions');
  const now = ctx.clock.now();
  const out: TokenInfo[] = [];
  let cursor: string | null = null;
  do {
    const page = await ctx.store.findByIndex(ctx.sc, 'has_tokens', 'yes', {
      cursor,
      limit: 100,
      fields: [{ field: 'endsAt', op: 'lte', value: now }],
    });
    for (const session of page.records) {
      if (!session.key.startsWith('s:')) continue;
      const id = idOf(session);
      const cache = newCache();
      // Resolve its tokens against the record just read: no second read of the session.
      cache.sessions.set(id, Promise.resolve(statusOf(ctx, session, now, cache.slots)));
      let tokens: string | null = null;
      do {
        const found = await ctx.store.findByIndex(ctx.tc, 'session', id, {
          cursor: tokens,
          limit: 100,
          fields: [{ field: 'kind', op: 'eq', value: 'transferable' }],
        });
        for (const record of found.records) {
          const res = await resolveToken(ctx, record, now, cache);
          if (res.active && res.state === 'unassigned') out.push(toTokenInfo(res));
        }
        tokens = found.cursor;
      } while (tokens !== null);
    }
    cursor = page.cursor;
  } while (cursor !== null);
  return out;
}
