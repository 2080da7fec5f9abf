/**
 * Internal: loading a session and deciding whether it is live. A session is
 * live while its record's `endsAt` is in the future and, in one-per-owner
 * mode, its owner's slot still names it. Nothing else decides: the tokens
 * bound to it read this same answer, so they die with it at once.
 * @module
 */
import { ConflictError } from '../core/errors.js';
import { randomId62 } from '../core/random.js';
import type { Mutation, StoredRecord } from '../stores/contract.js';
import {
  type Ctx,
  gcAt,
  idOf,
  MAX_LOOPS,
  NEVER,
  ownerSlotRef,
  readSession,
  type SessionData,
  sessionRef,
} from './records.js';
import type { SessionRef } from './types.js';
import { checkRef } from './validate.js';

/** Whether a session is live, and if not why and since when. */
export type SessionStatus =
  | { readonly live: true; readonly record: StoredRecord; readonly d: SessionData }
  | {
      readonly live: false;
      readonly reason: 'not_found' | 'expired' | 'revoked';
      readonly record: StoredRecord | null;
      readonly d: SessionData | null;
      /** When it ended, when known (ms since epoch). */
      readonly endedAt: number | null;
      /** Replaced in one-per-owner mode, but its record was not ended yet. */
      readonly stale: boolean;
    };

/** Per-call cache of owner slots (one-per-owner mode), so listings read each once. */
export type SlotCache = Map<string, Promise<StoredRecord | null>>;

/** Generate a session generation id. */
export function newGeneration(): string {
  return randomId62(22);
}

/** The value an owner slot holds for a session. */
export function slotValue(id: string, sid: string): string {
  return `${id}.${sid}`;
}

const NOT_FOUND: SessionStatus = Object.freeze({
  live: false,
  reason: 'not_found',
  record: null,
  d: null,
  endedAt: null,
  stale: false,
});

/**
 * Decide a session record's status at `now`. Synchronous unless the session
 * was created in one-per-owner mode, whose owner slot must be read too.
 */
export function statusOf(
  ctx: Ctx,
  record: StoredRecord | null,
  now: number,
  slots?: SlotCache,
): SessionStatus | Promise<SessionStatus> {
  if (record === null) return NOT_FOUND;
  const d = readSession(record);
  if (d.endsAt <= now) {
    const reason = d.endReason === null ? 'expired' : 'revoked';
    return { live: false, reason, record, d, endedAt: d.endsAt, stale: false };
  }
  if (d.single) return slotStatus(ctx, record, d, slots ?? new Map());
  return { live: true, record, d };
}

/** The status of a live one-per-owner session: live while its owner's slot names it. */
async function slotStatus(
  ctx: Ctx,
  record: StoredRecord,
  d: SessionData,
  slots: SlotCache,
): Promise<SessionStatus> {
  const slotRef = ownerSlotRef(ctx, d.owner);
  let slot = slots.get(slotRef.key);
  if (slot === undefined) {
    slot = ctx.store.get(slotRef);
    slots.set(slotRef.key, slot);
  }
  const current = (await slot)?.data.current;
  if (current !== slotValue(idOf(record), d.sid)) {
    return { live: false, reason: 'revoked', record, d, endedAt: null, stale: true };
  }
  return { live: true, record, d };
}

/**
 * Load a session record by its token (live or not). With a keyring, the token
 * is looked up under every key id in one round trip.
 */
export async function loadSessionByToken(ctx: Ctx, token: string): Promise<StoredRecord | null> {
  const ids = ctx.sessionIds(token);
  if (ids.length === 1) return ctx.store.get(sessionRef(ctx, ids[0]!));
  const found = await ctx.store.getMany(ids.map((id) => sessionRef(ctx, id)));
  return found.find((r) => r !== null) ?? null;
}

/**
 * Load a session record by reference (live or not). With a keyring, a token
 * is looked up under every key id in one round trip.
 * @throws InvalidInputError for a bad reference
 */
export async function loadSession(ctx: Ctx, ref: SessionRef): Promise<StoredRecord | null> {
  checkRef(ref, 'session');
  if ('id' in ref) return ctx.store.get(sessionRef(ctx, ref.id));
  return loadSessionByToken(ctx, ref.token);
}

/** Address of a record as read. */
export function refOf(record: StoredRecord) {
  return { collection: record.collection, key: record.key, partition: record.partition };
}

/**
 * End a session now, in one conditional write: whatever else happens later
 * (releasing its tokens), its bound tokens are dead from this write on.
 * Conditioned on the generation and on the session not having ended, never on
 * the version, so no concurrent activity write can make it fail.
 *
 * @returns the ended record, or `null` when it had ended already (or is gone)
 */
export async function endSession(
  ctx: Ctx,
  record: StoredRecord,
  reason: 'destroyed' | 'replaced',
  now: number,
): Promise<StoredRecord | null> {
  const d = readSession(record);
  const r = await ctx.store.update(
    refOf(record),
    {
      set: { endsAt: now, endReason: reason },
      index: { detached: null },
      expiresAt: gcAt(ctx, now),
    },
    {
      where: {
        fields: [
          { field: 'sid', op: 'eq', value: d.sid },
          { field: 'endsAt', op: 'gt', value: now },
        ],
      },
    },
  );
  return r.ok ? r.record : null;
}

/**
 * Mark a live session as having tokens (so `collect` finds it once it ends).
 * One write the first time; nothing after.
 * @returns false when the session ended meanwhile
 */
export async function markHasTokens(ctx: Ctx, record: StoredRecord, now: number): Promise<boolean> {
  if (record.index.has_tokens === 'yes') return true;
  const d = readSession(record);
  const r = await ctx.store.update(
    refOf(record),
    { index: { has_tokens: 'yes' } },
    {
      where: {
        fields: [
          { field: 'sid', op: 'eq', value: d.sid },
          { field: 'endsAt', op: 'gt', value: now },
        ],
      },
    },
  );
  return r.ok;
}

/**
 * Point the owner's slot at a new session (one-per-owner mode), with a
 * version-conditioned write, and return what it named before.
 */
export async function claimSlot(
  ctx: Ctx,
  owner: string,
  value: string,
  now: number,
): Promise<string | null> {
  const ref = ownerSlotRef(ctx, owner);
  for (let i = 0; i < MAX_LOOPS * 4; i++) {
    const cur = await ctx.store.get(ref);
    if (cur === null) {
      const r = await ctx.store.put(
        { ...ref, data: { owner, current: value }, expiresAt: null },
        { mode: 'insert', now },
      );
      if (r.ok) return null;
      continue;
    }
    const previous = typeof cur.data.current === 'string' ? cur.data.current : null;
    const r = await ctx.store.update(
      ref,
      { set: { current: value } },
      { where: { version: cur.version } },
    );
    if (r.ok) return previous;
  }
  // Each failed round means another login won the slot in between.
  throw new ConflictError('Too many concurrent logins for this owner; retry.');
}

/** The mutation that records activity at `now` (sliding the idle window). */
export function activityMutation(ctx: Ctx, d: SessionData, now: number): Mutation {
  const endsAt = Math.min(
    d.idleTimeoutMs === null ? NEVER : now + d.idleTimeoutMs,
    d.absoluteExpiresAt ?? NEVER,
  );
  return { set: { lastActiveAt: now, endsAt }, expiresAt: gcAt(ctx, endsAt) };
}
