/**
 * Internal: transition-token operations. A token is one record; every change
 * to it is one write conditioned on the version read (and on the token still
 * being active when it was read), so concurrent transfers, acquires and
 * destroys serialize: exactly one of several racers wins.
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
import { type Ctx, MAX_LOOPS, type TokenData, tokenRecordExpiry, tokenRef } from './records.js';
import { loadSession, markHasTokens, refOf, statusOf } from './session-state.js';
import { makeToken } from './token-maker.js';
import {
  loadToken,
  resolveToken,
  settle,
  type TokenResolution,
  toTokenInfo,
} from './token-state.js';
import type {
  AddTokenInput,
  SessionRef,
  TokenCheck,
  TokenInfo,
  TokenRef,
  TransferOptions,
} from './types.js';
import {
  checkAmount,
  checkName,
  checkObject,
  checkRef,
  checkTimeout,
  checkToken,
  checkValue,
} from './validate.js';

type Active = Extract<TokenResolution, { active: true }>;

const NO_TOKEN = 'No active token.';
const NO_SESSION = 'No live session.';

/** Load a live session for a token to join; marks it as having tokens. */
async function joinableSession(ctx: Ctx, ref: SessionRef, now: number) {
  const st = await statusOf(ctx, await loadSession(ctx, ref), now);
  if (!st.live) throw new NotFoundError(NO_SESSION);
  if (!(await markHasTokens(ctx, st.record, now))) throw new NotFoundError(NO_SESSION);
  return st;
}

/** Add a transition token. */
export async function addToken(
  ctx: Ctx,
  input: AddTokenInput,
): Promise<{ token: string; info: TokenInfo }> {
  checkObject(input, 'input');
  const kind = input.kind ?? 'plain';
  if (kind !== 'plain' && kind !== 'bound' && kind !== 'transferable') {
    throw new InvalidInputError("kind must be 'plain', 'bound' or 'transferable'", 'kind');
  }
  checkValue(input.value);
  if (input.owner !== undefined) checkName(input.owner, 'owner');
  if (input.session !== undefined) checkRef(input.session, 'session');
  const timeoutMs = input.timeoutMs === undefined ? ctx.cfg.tokenTimeoutMs : input.timeoutMs;
  checkTimeout(timeoutMs, 'timeoutMs', true);
  const disown =
    input.disownmentTimeoutMs === undefined
      ? ctx.cfg.disownmentTimeoutMs
      : input.disownmentTimeoutMs;
  checkTimeout(disown, 'disownmentTimeoutMs', false);
  if (kind === 'plain' && (input.owner !== undefined || input.session !== undefined)) {
    throw new InvalidInputError('a plain token has no owner or session', 'kind');
  }
  if (kind === 'bound' && input.session === undefined) {
    throw new InvalidInputError('a bound token needs a session', 'session');
  }
  if (kind === 'transferable' && input.session === undefined && input.owner === undefined) {
    throw new InvalidInputError('a transferable token needs an owner or a session', 'owner');
  }
  let token: string;
  if (input.token !== undefined) {
    checkToken(input.token);
    token = input.token;
  } else {
    token = makeToken(ctx.maker, input.prefix);
  }

  const now = ctx.clock.now();
  let owner: string | null = input.owner ?? null;
  let sessionId: string | null = null;
  let sid: string | null = null;
  if (input.session !== undefined) {
    const st = await joinableSession(ctx, input.session, now);
    if (owner !== null && owner !== st.d.owner) {
      throw new ForbiddenError('The session belongs to another owner.');
    }
    owner = st.d.owner;
    sessionId = st.record.key.slice(2);
    sid = st.d.sid;
  }
  const d: TokenData = {
    kind,
    owner,
    sessionId,
    sid,
    value: input.value,
    createdAt: now,
    timeoutMs,
    ownExpiresAt: timeoutMs === null ? null : now + timeoutMs,
    disownmentTimeoutMs: disown,
    releasedAt: null,
    sellable: false,
    price: null,
  };
  const index: Record<string, string> = {};
  if (owner !== null) index.owner = owner;
  if (sessionId !== null) index.session = sessionId;
  const id = ctx.tokenIds(token)[0]!;
  const record = { ...tokenRef(ctx, id), data: { ...d }, expiresAt: d.ownExpiresAt, index };
  for (let i = 0; i < MAX_LOOPS; i++) {
    const r = await ctx.store.put(record, { mode: 'insert', now });
    if (r.ok) {
      const res = await resolveToken(ctx, r.record, now);
      if (!res.active) throw new NotFoundError(NO_SESSION);
      return { token, info: toTokenInfo(res) };
    }
    const cur = await resolveToken(ctx, r.current, now);
    if (cur.active) throw new AlreadyExistsError('An active token with this value exists.');
    if (cur.record === null) continue;
    // The old token is dead (its session ended): its key may be reused.
    const replaced = await ctx.store.put(record, {
      mode: 'replace',
      now,
      where: { version: cur.record.version },
    });
    if (replaced.ok) {
      const res = await resolveToken(ctx, replaced.record, now);
      if (!res.active) throw new NotFoundError(NO_SESSION);
      return { token, info: toTokenInfo(res) };
    }
  }
  throw new ConflictError();
}

/** Check a presented token: active (with its value) or why not. */
export async function checkTransitionToken(ctx: Ctx, token: string): Promise<TokenCheck> {
  checkToken(token);
  const now = ctx.clock.now();
  const res = await settle(ctx, await resolveToken(ctx, await loadToken(ctx, { token }), now));
  if (!res.active) return { active: false, reason: res.reason };
  return { active: true, value: res.d.value, token: toTokenInfo(res) };
}

/** An active token's info, or `null`. */
export async function getToken(ctx: Ctx, ref: TokenRef): Promise<TokenInfo | null> {
  const now = ctx.clock.now();
  const res = await settle(ctx, await resolveToken(ctx, await loadToken(ctx, ref), now));
  return res.active ? toTokenInfo(res) : null;
}

/**
 * Read-check-write loop on an active token: `build` returns the mutation (or
 * `null` for nothing to do); the write is conditioned on the version seen.
 */
async function mutateToken(
  ctx: Ctx,
  ref: TokenRef,
  build: (res: Active, now: number) => Promise<Mutation | null> | Mutation | null,
): Promise<TokenInfo> {
  let record: StoredRecord | null = await loadToken(ctx, ref);
  for (let i = 0; i < MAX_LOOPS; i++) {
    const now = ctx.clock.now();
    const res = await settle(ctx, await resolveToken(ctx, record, now));
    if (!res.active) throw new NotFoundError(NO_TOKEN);
    const m = await build(res, now);
    if (m === null) return toTokenInfo(res);
    const r = await ctx.store.update(refOf(res.record), m, {
      where: { version: res.record.version, liveAt: now },
    });
    if (r.ok) {
      const after = await resolveToken(ctx, r.record, now);
      if (!after.active) throw new NotFoundError(NO_TOKEN);
      return toTokenInfo(after);
    }
    record = r.current;
  }
  throw new ConflictError();
}

function requireTransferable(res: Active): void {
  if (res.d.kind !== 'transferable') {
    throw new ForbiddenError('Only transferable tokens can be transferred, acquired or sold.');
  }
}

/** The mutation that gives a token to `owner`, carried by a session or held. */
function assignMutation(
  d: TokenData,
  owner: string,
  session: { id: string; sid: string } | null,
): Mutation {
  const next: TokenData = {
    ...d,
    owner,
    sessionId: session?.id ?? null,
    sid: session?.sid ?? null,
    releasedAt: null,
  };
  return {
    set: { owner, sessionId: next.sessionId, sid: next.sid, releasedAt: null },
    expiresAt: tokenRecordExpiry(next),
    index: { owner, session: next.sessionId, unassigned: null },
  };
}

/**
 * Transfer a transferable token from its owner (or from unassigned) to
 * another owner, keeping its sellable state and price. One conditional write
 * on the token record: ownership, the owner index and the session pointer
 * move together.
 */
export async function transferToken(
  ctx: Ctx,
  ref: TokenRef,
  options: TransferOptions,
): Promise<TokenInfo> {
  checkRef(ref, 'token');
  checkObject(options, 'options');
  if (options.from !== null) checkName(options.from, 'from');
  checkName(options.to, 'to');
  if (options.toSession !== undefined) checkRef(options.toSession, 'toSession');
  return mutateToken(ctx, ref, async (res, now) => {
    requireTransferable(res);
    if (res.owner !== options.from) {
      throw new ForbiddenError(
        options.from === null
          ? 'The token is not unassigned.'
          : 'The token does not belong to the yielding owner.',
      );
    }
    let session: { id: string; sid: string } | null = null;
    if (options.toSession !== undefined) {
      const st = await joinableSession(ctx, options.toSession, now);
      if (st.d.owner !== options.to) {
        throw new ForbiddenError('The receiving session belongs to another owner.');
      }
      session = { id: st.record.key.slice(2), sid: st.d.sid };
    }
    return assignMutation(res.d, options.to, session);
  });
}

/**
 * Acquire a transferable token into a session: allowed when the token is
 * unassigned or already belongs to the session's owner.
 */
export async function acquireToken(
  ctx: Ctx,
  token: string,
  session: SessionRef,
): Promise<TokenInfo> {
  checkToken(token);
  checkRef(session, 'session');
  return mutateToken(ctx, { token }, async (res, now) => {
    requireTransferable(res);
    const st = await joinableSession(ctx, session, now);
    if (res.owner !== null && res.owner !== st.d.owner) {
      throw new ForbiddenError('The token belongs to another owner.');
    }
    const id = st.record.key.slice(2);
    if (res.state === 'carried' && res.sessionId === id) return null;
    return assignMutation(res.d, st.d.owner, { id, sid: st.d.sid });
  });
}

/** Mark a transferable token sellable, optionally with an amount (positive or negative). */
export async function setSellable(
  ctx: Ctx,
  ref: TokenRef,
  options: { price?: number } = {},
): Promise<TokenInfo> {
  checkObject(options, 'options');
  if (options.price !== undefined) checkAmount(options.price);
  return mutateToken(ctx, ref, (res) => {
    requireTransferable(res);
    return {
      set: { sellable: true, ...(options.price === undefined ? {} : { price: options.price }) },
      index: { sellable: 'yes' },
    };
  });
}

/** Mark a transferable token not sellable (its amount is kept). */
export async function unsetSellable(ctx: Ctx, ref: TokenRef): Promise<TokenInfo> {
  return mutateToken(ctx, ref, (res) => {
    requireTransferable(res);
    if (!res.d.sellable) return null;
    return { set: { sellable: false }, index: { sellable: null } };
  });
}

/** Replace an active token's value (a string or any JSON); its kind, owner and session stay. */
export async function setTokenValue(ctx: Ctx, ref: TokenRef, value: unknown): Promise<TokenInfo> {
  checkValue(value);
  return mutateToken(ctx, ref, () => ({ set: { value } }));
}

/** Set a token's own timeout, counted from now (`null`: none). */
export async function setTokenTimeout(
  ctx: Ctx,
  ref: TokenRef,
  timeoutMs: number | null,
): Promise<TokenInfo> {
  checkTimeout(timeoutMs, 'timeoutMs', true);
  return mutateToken(ctx, ref, (res, now) => {
    const next: TokenData = {
      ...res.d,
      timeoutMs,
      ownExpiresAt: timeoutMs === null ? null : now + timeoutMs,
    };
    return {
      set: { timeoutMs, ownExpiresAt: next.ownExpiresAt },
      expiresAt: tokenRecordExpiry(next),
    };
  });
}

/** Set how long a transferable token may stay unassigned. */
export async function setDisownmentTimeout(
  ctx: Ctx,
  ref: TokenRef,
  disownmentTimeoutMs: number,
): Promise<TokenInfo> {
  checkTimeout(disownmentTimeoutMs, 'disownmentTimeoutMs', false);
  return mutateToken(ctx, ref, (res) => {
    requireTransferable(res);
    const next: TokenData = { ...res.d, disownmentTimeoutMs };
    return { set: { disownmentTimeoutMs }, expiresAt: tokenRecordExpiry(next) };
  });
}

/** Destroy a token. Resolves to whether an active token was destroyed. */
export async function destroyToken(ctx: Ctx, ref: TokenRef): Promise<boolean> {
  let record = await loadToken(ctx, ref);
  for (let i = 0; i < MAX_LOOPS && record !== null; i++) {
    const res = await resolveToken(ctx, record, ctx.clock.now());
    // Conditioned on the version read: never deletes a token re-added meanwhile unseen.
    const r = await ctx.store.delete(refOf(record), { version: record.version });
    if (r.ok) return res.active;
    record = r.current;
  }
  if (record === null) return false;
  throw new ConflictError();
}
