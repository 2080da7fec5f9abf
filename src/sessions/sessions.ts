/**
 * Internal: session operations (create, validate, timeouts, detach/attach,
 * destroy, log out everywhere, collect). Every write is conditioned on the
 * version read or on the session still being live, never a blind upsert, so a
 * slow request cannot bring back a session that was destroyed meanwhile.
 * @module
 */
import {
  AlreadyExistsError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
} from '../core/errors.js';
import type { Mutation, StoredRecord } from '../stores/contract.js';
import {
  activityEvery,
  type Ctx,
  computeEndsAt,
  gcAt,
  idOf,
  MAX_LOOPS,
  readSession,
  type SessionData,
  sessionRef,
  toSessionInfo,
} from './records.js';
import {
  activityMutation,
  claimSlot,
  endSession,
  loadSession,
  loadSessionByToken,
  newGeneration,
  refOf,
  type SessionStatus,
  slotValue,
  statusOf,
} from './session-state.js';
import { makeToken } from './token-maker.js';
import { releaseSessionTokens } from './token-state.js';
import type {
  CreateSessionInput,
  SessionCheck,
  SessionInfo,
  SessionRef,
  SessionTimeouts,
  ValidateOptions,
} from './types.js';
import {
  checkName,
  checkObject,
  checkOptionalBoolean,
  checkPayload,
  checkTimeout,
  checkToken,
} from './validate.js';

const NO_SESSION = 'No live session.';

/**
 * Finish what an ended session leaves behind (its tokens), and end a session
 * whose one-per-owner slot moved on. Idempotent; safe to race.
 */
export async function settleEnded(ctx: Ctx, st: SessionStatus, now: number): Promise<void> {
  if (st.live || st.record === null) return;
  let record: StoredRecord | null = st.record;
  let endedAt = st.endedAt;
  if (st.stale) {
    record = await endSession(ctx, st.record, 'replaced', now);
    endedAt = now;
  }
  if (record !== null && endedAt !== null && record.index.has_tokens === 'yes') {
    await releaseSessionTokens(ctx, record, endedAt);
  }
}

function resolveTimeouts(ctx: Ctx, t: SessionTimeouts) {
  const pick = (v: number | null | undefined, name: string, def: number | null) => {
    if (v === undefined) return def;
    checkTimeout(v, name, true);
    return v;
  };
  return {
    idleTimeoutMs: pick(t.idleTimeoutMs, 'idleTimeoutMs', ctx.cfg.idleTimeoutMs),
    absoluteTimeoutMs: pick(t.absoluteTimeoutMs, 'absoluteTimeoutMs', ctx.cfg.absoluteTimeoutMs),
    detachTimeoutMs: pick(t.detachTimeoutMs, 'detachTimeoutMs', ctx.cfg.detachTimeoutMs),
  };
}

/** Create a session. */
export async function createSession(
  ctx: Ctx,
  input: CreateSessionInput,
): Promise<{ token: string; session: SessionInfo }> {
  checkObject(input, 'input');
  checkName(input.owner, 'owner');
  checkOptionalBoolean(input.detachable, 'detachable');
  checkOptionalBoolean(input.sliding, 'sliding');
  checkPayload(input.data);
  const t = resolveTimeouts(ctx, input);
  let token: string;
  if (input.token !== undefined) {
    checkToken(input.token);
    token = input.token;
  } else {
    token = makeToken(ctx.maker, input.prefix);
  }
  const now = ctx.clock.now();
  const id = ctx.sessionIds(token)[0]!;
  const d: SessionData = {
    sid: newGeneration(),
    owner: input.owner,
    createdAt: now,
    lastActiveAt: now,
    idleTimeoutMs: t.idleTimeoutMs,
    absoluteExpiresAt: t.absoluteTimeoutMs === null ? null : now + t.absoluteTimeoutMs,
    detachTimeoutMs: t.detachTimeoutMs,
    detachable: input.detachable ?? false,
    detached: false,
    detachedAt: null,
    endsAt: 0,
    endReason: null,
    single: ctx.cfg.onePerOwner,
  };
  if (input.sliding === false) d.sliding = false;
  d.endsAt = computeEndsAt(d);
  if (input.data !== undefined) d.data = input.data;
  const record = {
    ...sessionRef(ctx, id),
    data: { ...d },
    expiresAt: gcAt(ctx, d.endsAt),
    index: { owner: input.owner },
  };
  let written: StoredRecord | null = null;
  for (let i = 0; i < MAX_LOOPS && written === null; i++) {
    const r = await ctx.store.put(record, { mode: 'insert', now });
    if (r.ok) {
      written = r.record;
      break;
    }
    // A record under this token: refuse a live session, reuse the key of an ended one
    // (after releasing its tokens; the new generation never revives them).
    const st = await statusOf(ctx, r.current, now);
    if (st.live) throw new AlreadyExistsError('A live session exists for this token.');
    if (st.record === null) continue;
    await settleEnded(ctx, st, now);
    const current = await ctx.store.get(refOf(st.record));
    if (current === null) continue;
    const replaced = await ctx.store.put(record, {
      mode: 'replace',
      now,
      where: {
        version: current.version,
        fields: [{ field: 'endsAt', op: 'lte', value: now }],
      },
    });
    if (replaced.ok) written = replaced.record;
  }
  if (written === null) throw new ConflictError();
  if (ctx.cfg.onePerOwner) {
    const previous = await claimSlot(ctx, input.owner, slotValue(id, d.sid), now);
    if (previous !== null) {
      const dot = previous.indexOf('.');
      const prevId = previous.slice(0, dot);
      const prevSid = previous.slice(dot + 1);
      const prev = await ctx.store.get(sessionRef(ctx, prevId));
      if (prev !== null && readSession(prev).sid === prevSid) {
        const ended = await endSession(ctx, prev, 'replaced', now);
        if (ended !== null && ended.index.has_tokens === 'yes') {
          await releaseSessionTokens(ctx, ended, now);
        }
      }
    }
  }
  return { token, session: toSessionInfo(written, readSession(written)) };
}

const DETACHED: SessionCheck = Object.freeze({ valid: false, reason: 'detached' });
const WRONG_OWNER: SessionCheck = Object.freeze({ valid: false, reason: 'wrong_owner' });

/**
 * Check a session token, recording activity when due. The hot path of the
 * module: one hash of the token, one store read, one decode of the record, and
 * no await beyond the store's unless the session needs its owner slot read or
 * an activity write. With `options.owner`, a session of another owner is
 * refused before anything else is decided or written (no activity, no
 * release of an ended session's tokens).
 */
export async function validateSession(
  ctx: Ctx,
  token: string,
  options?: ValidateOptions,
): Promise<SessionCheck> {
  checkToken(token);
  let owner: string | undefined;
  if (options !== undefined) {
    checkObject(options, 'options');
    if (options.owner !== undefined) checkName(options.owner, 'owner');
    owner = options.owner;
  }
  let record = await loadSessionByToken(ctx, token);
  for (let i = 0; i < MAX_LOOPS; i++) {
    const now = ctx.clock.now();
    const decided = statusOf(ctx, record, now);
    const st = decided instanceof Promise ? await decided : decided;
    if (owner !== undefined && st.d !== null && st.d.owner !== owner) return WRONG_OWNER;
    if (!st.live) {
      await settleEnded(ctx, st, now);
      return { valid: false, reason: st.reason };
    }
    const d = st.d;
    if (d.detached) return DETACHED;
    const every = activityEvery(ctx, d);
    if (every === null || now - d.lastActiveAt < every) {
      return { valid: true, session: toSessionInfo(st.record, d) };
    }
    const r = await ctx.store.update(refOf(st.record), activityMutation(ctx, d, now), {
      where: {
        version: st.record.version,
        fields: [{ field: 'endsAt', op: 'gt', value: now }],
      },
    });
    if (r.ok) return { valid: true, session: toSessionInfo(r.record, readSession(r.record)) };
    // Someone wrote first (another request's activity, a destroy...): decide again on what is there.
    record = r.current;
  }
  throw new ConflictError();
}

/** A live session's info, without recording activity; `null` when there is none. */
export async function getSession(ctx: Ctx, ref: SessionRef): Promise<SessionInfo | null> {
  const record = await loadSession(ctx, ref);
  const st = await statusOf(ctx, record, ctx.clock.now());
  return st.live ? toSessionInfo(st.record, st.d) : null;
}

/**
 * Read-check-write loop on a live session: `build` returns the mutation (or
 * `null` for nothing to do) from what it sees; the write is conditioned on the
 * version seen and on the session still being live.
 */
export async function mutateSession(
  ctx: Ctx,
  ref: SessionRef,
  build: (d: SessionData, now: number) => Mutation | null,
): Promise<StoredRecord> {
  let record = await loadSession(ctx, ref);
  for (let i = 0; i < MAX_LOOPS; i++) {
    const now = ctx.clock.now();
    const st = await statusOf(ctx, record, now);
    if (!st.live) throw new NotFoundError(NO_SESSION);
    const m = build(st.d, now);
    if (m === null) return st.record;
    const r = await ctx.store.update(refOf(st.record), m, {
      where: { version: st.record.version, fields: [{ field: 'endsAt', op: 'gt', value: now }] },
    });
    if (r.ok) return r.record;
    record = r.current;
  }
  throw new ConflictError();
}

/** Change a session's timeouts. */
export async function setSessionTimeouts(
  ctx: Ctx,
  ref: SessionRef,
  timeouts: SessionTimeouts,
): Promise<SessionInfo> {
  checkObject(timeouts, 'timeouts');
  for (const k of ['idleTimeoutMs', 'absoluteTimeoutMs', 'detachTimeoutMs'] as const) {
    if (timeouts[k] !== undefined) checkTimeout(timeouts[k], k, true);
  }
  const record = await mutateSession(ctx, ref, (d, now) => {
    const next: SessionData = { ...d };
    if (timeouts.idleTimeoutMs !== undefined) {
      next.idleTimeoutMs = timeouts.idleTimeoutMs;
      // The new idle window starts now; a paused (detached, non-sliding) one when it resumes.
      next.lastActiveAt = d.detached && d.sliding === false ? (d.detachedAt ?? now) : now;
    }
    if (timeouts.absoluteTimeoutMs !== undefined) {
      next.absoluteExpiresAt =
        timeouts.absoluteTimeoutMs === null ? null : d.createdAt + timeouts.absoluteTimeoutMs;
    }
    if (timeouts.detachTimeoutMs !== undefined) next.detachTimeoutMs = timeouts.detachTimeoutMs;
    next.endsAt = Math.max(now, computeEndsAt(next));
    return {
      set: {
        idleTimeoutMs: next.idleTimeoutMs,
        lastActiveAt: next.lastActiveAt,
        absoluteExpiresAt: next.absoluteExpiresAt,
        detachTimeoutMs: next.detachTimeoutMs,
        endsAt: next.endsAt,
      },
      expiresAt: gcAt(ctx, next.endsAt),
    };
  });
  const d = readSession(record);
  const now = ctx.clock.now();
  if (d.endsAt <= now) {
    // The new timeouts end the session at once: release its tokens now.
    if (record.index.has_tokens === 'yes') await releaseSessionTokens(ctx, record, d.endsAt);
    throw new NotFoundError('The new timeouts ended the session.');
  }
  return toSessionInfo(record, d);
}

/** Allow (or forbid) detaching a session. */
export async function allowDetach(
  ctx: Ctx,
  ref: SessionRef,
  allowed: boolean,
): Promise<SessionInfo> {
  checkOptionalBoolean(allowed, 'allowed');
  const record = await mutateSession(ctx, ref, (d) =>
    d.detachable === allowed ? null : { set: { detachable: allowed } },
  );
  return toSessionInfo(record, readSession(record));
}

/** Detach a detachable session: it stops authenticating and lives on for its detachment timeout. */
export async function detachSession(ctx: Ctx, ref: SessionRef): Promise<SessionInfo> {
  const record = await mutateSession(ctx, ref, (d, now) => {
    if (!d.detachable) throw new ForbiddenError('This session does not allow detachment.');
    if (d.detached) return null;
    const endsAt = computeEndsAt({ ...d, detached: true, detachedAt: now });
    return {
      set: { detached: true, detachedAt: now, endsAt },
      expiresAt: gcAt(ctx, endsAt),
      index: { detached: 'yes' },
    };
  });
  return toSessionInfo(record, readSession(record));
}

/**
 * Attach a detached session again: it authenticates again, with a fresh idle
 * window (a non-sliding one resumes what was left when it was detached).
 */
export async function attachSession(ctx: Ctx, ref: SessionRef): Promise<SessionInfo> {
  const record = await mutateSession(ctx, ref, (d, now) => {
    if (!d.detached) return null;
    const lastActiveAt = d.sliding === false ? d.lastActiveAt + (now - (d.detachedAt ?? now)) : now;
    const endsAt = computeEndsAt({ ...d, detached: false, detachedAt: null, lastActiveAt });
    return {
      set: { detached: false, detachedAt: null, lastActiveAt, endsAt },
      expiresAt: gcAt(ctx, endsAt),
      index: { detached: null },
    };
  });
  return toSessionInfo(record, readSession(record));
}

/** End one session record and release its tokens. Returns whether this call ended it. */
export async function destroyRecord(
  ctx: Ctx,
  record: StoredRecord | null,
  reason: 'destroyed' | 'replaced' = 'destroyed',
): Promise<boolean> {
  const now = ctx.clock.now();
  const st = await statusOf(ctx, record, now);
  if (st.record === null) return false;
  let ended: StoredRecord | null = null;
  if (st.live || st.stale) ended = await endSession(ctx, st.record, reason, now);
  const after = ended ?? (await ctx.store.get(refOf(st.record)));
  if (after !== null && after.index.has_tokens === 'yes') {
    const d = readSession(after);
    if (d.endsAt <= now) await releaseSessionTokens(ctx, after, d.endsAt);
  }
  return ended !== null && st.live;
}

/** Destroy a session: one write ends it (its bound tokens die at once), then its tokens are released. */
export async function destroySession(ctx: Ctx, ref: SessionRef): Promise<boolean> {
  return destroyRecord(ctx, await loadSession(ctx, ref));
}

/** Destroy every live session of an owner, except one. Returns how many it ended. */
export async function destroyAllSessions(
  ctx: Ctx,
  owner: string,
  options: { except?: SessionRef } = {},
): Promise<number> {
  checkName(owner, 'owner');
  checkObject(options, 'options');
  let exceptId: string | null = null;
  if (options.except !== undefined) {
    const keep = await loadSession(ctx, options.except);
    exceptId = keep === null ? null : idOf(keep);
  }
  let n = 0;
  let cursor: string | null = null;
  do {
    const now = ctx.clock.now();
    const page = await ctx.store.findByIndex(ctx.sc, 'owner', owner, {
      cursor,
      limit: 100,
      fields: [{ field: 'endsAt', op: 'gt', value: now }],
    });
    for (const record of page.records) {
      if (!record.key.startsWith('s:') || idOf(record) === exceptId) continue;
      if (await destroyRecord(ctx, record)) n++;
    }
    cursor = page.cursor;
  } while (cursor !== null);
  return n;
}

/**
 * Release the tokens of sessions that ended (timed out) since the last call:
 * bound tokens are deleted, transferable ones become unassigned as of the
 * session's end. Maintenance work, like `store.sweep`: run it from a job.
 */
export async function collectEnded(
  ctx: Ctx,
  options: { limit?: number } = {},
): Promise<{ sessions: number; tokens: number }> {
  checkObject(options, 'options');
  const limit = options.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
    throw new InvalidInputError('limit must be an integer in 1..10000', 'limit');
  }
  const now = ctx.clock.now();
  let sessions = 0;
  let tokens = 0;
  let cursor: string | null = null;
  do {
    const page = await ctx.store.findByIndex(ctx.sc, 'has_tokens', 'yes', {
      cursor,
      limit: Math.min(100, limit - sessions),
      fields: [{ field: 'endsAt', op: 'lte', value: now }],
    });
    for (const record of page.records) {
      const d = readSession(record);
      tokens += await releaseSessionTokens(ctx, record, d.endsAt);
      sessions++;
    }
    cursor = page.cursor;
  } while (cursor !== null && sessions < limit);
  return { sessions, tokens };
}
