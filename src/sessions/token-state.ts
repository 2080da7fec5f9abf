/**
 * Internal: where a transition token stands, computed from its own record and
 * its session's. A bound token is active only while its session is live (same
 * generation); a transferable token carried by a session that ended is
 * unassigned from the session's end until its disownment deadline. The
 * computed answer is exact even before anything is written back; writing it
 * back ("releasing") only keeps the listings' indexes current.
 * @module
 */
import type { Mutation, StoredRecord } from '../stores/contract.js';
import {
  type Ctx,
  idOf,
  NEVER,
  readSession,
  readToken,
  type TokenData,
  tokenRecordExpiry,
  tokenRef,
} from './records.js';
import { refOf, type SessionStatus, type SlotCache, statusOf } from './session-state.js';
import type { TokenInactiveReason, TokenInfo, TokenRef, TokenState } from './types.js';
import { checkRef } from './validate.js';

/** A token's computed standing. */
export type TokenResolution =
  | {
      readonly active: true;
      readonly record: StoredRecord;
      readonly d: TokenData;
      readonly state: TokenState;
      readonly owner: string | null;
      readonly sessionId: string | null;
      readonly expiresAt: number | null;
      readonly releasedAt: number | null;
      /** Set when the record still names an ended session: release it as of this time. */
      readonly releaseAt?: number;
    }
  | {
      readonly active: false;
      readonly reason: TokenInactiveReason;
      readonly record: StoredRecord | null;
      /** Whether the record is dead for good and may be deleted. */
      readonly purge: boolean;
    };

/** Per-call cache of session statuses, by session id. */
export interface ResolveCache {
  readonly sessions: Map<string, Promise<SessionStatus>>;
  readonly slots: SlotCache;
}

/** A fresh cache. */
export function newCache(): ResolveCache {
  return { sessions: new Map(), slots: new Map() };
}

/**
 * Load a token record by reference (active or not).
 * @throws InvalidInputError for a bad reference
 */
export async function loadToken(ctx: Ctx, ref: TokenRef): Promise<StoredRecord | null> {
  checkRef(ref, 'token');
  if ('id' in ref) return ctx.store.get(tokenRef(ctx, ref.id));
  const ids = ctx.tokenIds(ref.token);
  if (ids.length === 1) return ctx.store.get(tokenRef(ctx, ids[0]!));
  const found = await ctx.store.getMany(ids.map((id) => tokenRef(ctx, id)));
  return found.find((r) => r !== null) ?? null;
}

async function sessionStatusById(
  ctx: Ctx,
  id: string,
  now: number,
  cache: ResolveCache,
): Promise<SessionStatus> {
  let p = cache.sessions.get(id);
  if (p === undefined) {
    p = ctx.store
      .get({ collection: ctx.sc, key: `s:${id}` })
      .then((r) => statusOf(ctx, r, now, cache.slots));
    cache.sessions.set(id, p);
  }
  return p;
}

/** Compute a token's standing at `now`. */
export async function resolveToken(
  ctx: Ctx,
  record: StoredRecord | null,
  now: number,
  cache: ResolveCache = newCache(),
): Promise<TokenResolution> {
  if (record === null) return { active: false, reason: 'not_found', record, purge: false };
  const d = readToken(record);
  if (record.expiresAt !== null && record.expiresAt <= now) {
    return { active: false, reason: 'expired', record, purge: false };
  }
  const base = { active: true as const, record, d, releasedAt: d.releasedAt };
  if (d.kind === 'plain') {
    return { ...base, state: 'plain', owner: null, sessionId: null, expiresAt: record.expiresAt };
  }
  if (d.sessionId === null) {
    if (d.kind === 'bound') return { active: false, reason: 'session_ended', record, purge: true };
    return {
      ...base,
      state: d.owner === null ? 'unassigned' : 'held',
      owner: d.owner,
      sessionId: null,
      expiresAt: record.expiresAt,
    };
  }
  const st = await sessionStatusById(ctx, d.sessionId, now, cache);
  const sameGeneration = st.record !== null && readSession(st.record).sid === d.sid;
  if (st.live && sameGeneration) {
    return {
      ...base,
      state: d.kind === 'bound' ? 'bound' : 'carried',
      owner: d.owner,
      sessionId: d.sessionId,
      expiresAt: record.expiresAt,
    };
  }
  if (d.kind === 'bound') return { active: false, reason: 'session_ended', record, purge: true };
  // A transferable token whose session ended: unassigned from the end, for its disownment
  // timeout. When the end time is unknown (the session record is gone or was reused), fail
  // closed: the token has expired.
  let endedAt: number | null = null;
  if (sameGeneration && !st.live) endedAt = st.stale ? now : st.endedAt;
  if (endedAt === null) return { active: false, reason: 'expired', record, purge: true };
  const deadline = Math.min(d.ownExpiresAt ?? NEVER, endedAt + d.disownmentTimeoutMs);
  if (deadline <= now) return { active: false, reason: 'expired', record, purge: true };
  return {
    ...base,
    state: 'unassigned',
    owner: null,
    sessionId: null,
    expiresAt: deadline,
    releasedAt: endedAt,
    releaseAt: endedAt,
  };
}

/** The mutation that makes a transferable token unassigned as of `releasedAt`. */
export function releaseMutation(d: TokenData, releasedAt: number): Mutation {
  const next: TokenData = { ...d, owner: null, sessionId: null, sid: null, releasedAt };
  return {
    set: { owner: null, sessionId: null, sid: null, releasedAt },
    expiresAt: tokenRecordExpiry(next),
    index: { owner: null, session: null, unassigned: 'yes' },
  };
}

/**
 * Write back what resolution found, best effort: release a token whose session
 * ended, delete one that is dead for good. Conditioned on the version read, so
 * it never overwrites a concurrent change.
 * @returns the resolution, updated to the released record when the write applied
 */
export async function settle(ctx: Ctx, res: TokenResolution): Promise<TokenResolution> {
  if (res.active && res.releaseAt !== undefined) {
    const r = await ctx.store.update(refOf(res.record), releaseMutation(res.d, res.releaseAt), {
      where: { version: res.record.version },
    });
    if (r.ok) {
      const { releaseAt: _done, ...rest } = res;
      return { ...rest, record: r.record, d: readToken(r.record) };
    }
    return res;
  }
  if (!res.active && res.purge && res.record !== null) {
    await ctx.store.delete(refOf(res.record), { version: res.record.version });
  }
  return res;
}

/** A token as callers see it. */
export function toTokenInfo(res: Extract<TokenResolution, { active: true }>): TokenInfo {
  const { d } = res;
  return Object.freeze({
    id: idOf(res.record),
    kind: d.kind,
    state: res.state,
    owner: res.owner,
    sessionId: res.sessionId,
    value: d.value,
    createdAt: d.createdAt,
    expiresAt: res.expiresAt,
    timeoutMs: d.timeoutMs,
    disownmentTimeoutMs: d.disownmentTimeoutMs,
    releasedAt: res.releasedAt,
    sellable: d.sellable,
    price: d.price,
  });
}

/**
 * Release everything an ended session still names: delete its bound tokens,
 * make its transferable tokens unassigned as of the session's end. Each token
 * is one write conditioned on the version read; a token that moved on (was
 * transferred, acquired or destroyed) is left alone. Finally the session's
 * `has_tokens` mark is cleared.
 *
 * @returns how many tokens were released or deleted
 */
export async function releaseSessionTokens(
  ctx: Ctx,
  session: StoredRecord,
  endedAt: number,
): Promise<number> {
  const sid = readSession(session).sid;
  const id = idOf(session);
  let n = 0;
  let cursor: string | null = null;
  do {
    const page = await ctx.store.findByIndex(ctx.tc, 'session', id, { cursor, limit: 100 });
    for (const found of page.records) {
      let record: StoredRecord | null = found;
      for (let attempt = 0; attempt < 3 && record !== null; attempt++) {
        const d = readToken(record);
        if (d.sessionId !== id) break;
        const keep = d.kind === 'transferable' && d.sid === sid;
        if (keep) {
          const r = await ctx.store.update(refOf(record), releaseMutation(d, endedAt), {
            where: { version: record.version },
          });
          if (r.ok) {
            n++;
            break;
          }
          record = r.current;
        } else {
          const r = await ctx.store.delete(refOf(record), { version: record.version });
          if (r.ok) {
            n++;
            break;
          }
          record = r.current;
        }
      }
    }
    cursor = page.cursor;
  } while (cursor !== null);
  await ctx.store.update(
    refOf(session),
    { index: { has_tokens: null } },
    { where: { fields: [{ field: 'endsAt', op: 'lte', value: endedAt }] } },
  );
  return n;
}
