/**
 * Internal: the listings, each one page of a store index with a cursor. Every
 * item is checked against the live state before it is returned (a page may
 * hold fewer items than asked for), so a listing never shows an ended session
 * or a dead token.
 * @module
 */
import { InvalidInputError } from '../core/errors.js';
import type { FieldCondition, Page } from '../stores/contract.js';
import { type Ctx, readSession, toSessionInfo } from './records.js';
import { loadSession, type SlotCache, statusOf } from './session-state.js';
import { newCache, resolveToken, settle, toTokenInfo } from './token-state.js';
import type {
  ListPage,
  PageOptions,
  SessionInfo,
  SessionRef,
  TokenInfo,
  TokenKind,
  TokenState,
} from './types.js';
import { checkName, checkObject } from './validate.js';

function pageArgs(options: PageOptions | undefined) {
  if (options === undefined) return { limit: 100, cursor: null };
  checkObject(options, 'options');
  const limit = options.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    throw new InvalidInputError('limit must be an integer in 1..1000', 'limit');
  }
  const cursor = options.cursor ?? null;
  if (cursor !== null && typeof cursor !== 'string') {
    throw new InvalidInputError('cursor must be a string or null', 'cursor');
  }
  return { limit, cursor };
}

async function sessionPage(ctx: Ctx, page: Page, now: number): Promise<ListPage<SessionInfo>> {
  const slots: SlotCache = new Map();
  const items: SessionInfo[] = [];
  for (const record of page.records) {
    if (!record.key.startsWith('s:')) continue;
    const st = await statusOf(ctx, record, now, slots);
    if (st.live) items.push(toSessionInfo(record, readSession(record)));
  }
  return { items, cursor: page.cursor };
}

/** Live sessions (attached or detached) of an owner. */
export async function listOwnerSessions(
  ctx: Ctx,
  owner: string,
  options?: PageOptions,
): Promise<ListPage<SessionInfo>> {
  checkName(owner, 'owner');
  const { limit, cursor } = pageArgs(options);
  const now = ctx.clock.now();
  const page = await ctx.store.findByIndex(ctx.sc, 'owner', owner, {
    limit,
    cursor,
    fields: [{ field: 'endsAt', op: 'gt', value: now }],
  });
  return sessionPage(ctx, page, now);
}

/** Detached sessions that are still alive. */
export async function listDetachedSessions(
  ctx: Ctx,
  options?: PageOptions,
): Promise<ListPage<SessionInfo>> {
  const { limit, cursor } = pageArgs(options);
  const now = ctx.clock.now();
  const page = await ctx.store.findByIndex(ctx.sc, 'detached', 'yes', {
    limit,
    cursor,
    fields: [{ field: 'endsAt', op: 'gt', value: now }],
  });
  return sessionPage(ctx, page, now);
}

async function tokenPage(
  ctx: Ctx,
  page: Page,
  now: number,
  keep: (info: TokenInfo) => boolean,
): Promise<ListPage<TokenInfo>> {
  const cache = newCache();
  const items: TokenInfo[] = [];
  for (const record of page.records) {
    const res = await settle(ctx, await resolveToken(ctx, record, now, cache));
    if (!res.active) continue;
    const info = toTokenInfo(res);
    if (keep(info)) items.push(info);
  }
  return { items, cursor: page.cursor };
}

/**
 * Tokens of a live session: bound and carried ones, or only one kind. An
 * ended session lists nothing (its transferable tokens are unassigned).
 */
export async function listSessionTokens(
  ctx: Ctx,
  session: SessionRef,
  options: PageOptions & { kind?: TokenKind } = {},
): Promise<ListPage<TokenInfo>> {
  const { limit, cursor } = pageArgs(options);
  const kind = options.kind;
  if (kind !== undefined && kind !== 'bound' && kind !== 'transferable') {
    throw new InvalidInputError("kind must be 'bound' or 'transferable'", 'kind');
  }
  const now = ctx.clock.now();
  const st = await statusOf(ctx, await loadSession(ctx, session), now);
  if (!st.live) return { items: [], cursor: null };
  const fields: FieldCondition[] = [{ field: 'sid', op: 'eq', value: st.d.sid }];
  if (kind !== undefined) fields.push({ field: 'kind', op: 'eq', value: kind });
  const id = st.record.key.slice(2);
  const page = await ctx.store.findByIndex(ctx.tc, 'session', id, { limit, cursor, fields });
  return tokenPage(ctx, page, now, (t) => t.sessionId === id);
}

/** Tokens an owner holds or carries in a live session. */
export async function listOwnerTokens(
  ctx: Ctx,
  owner: string,
  options?: PageOptions,
): Promise<ListPage<TokenInfo>> {
  checkName(owner, 'owner');
  const { limit, cursor } = pageArgs(options);
  const now = ctx.clock.now();
  const page = await ctx.store.findByIndex(ctx.tc, 'owner', owner, { limit, cursor });
  return tokenPage(ctx, page, now, (t) => t.owner === owner);
}

/** Active tokens marked sellable (with their amounts). */
export async function listSellableTokens(
  ctx: Ctx,
  options?: PageOptions,
): Promise<ListPage<TokenInfo>> {
  const { limit, cursor } = pageArgs(options);
  const now = ctx.clock.now();
  const page = await ctx.store.findByIndex(ctx.tc, 'sellable', 'yes', { limit, cursor });
  return tokenPage(ctx, page, now, (t) => t.sellable);
}

const UNASSIGNED: TokenState = 'unassigned';

/**
 * Unassigned tokens still within their disownment timeout. Tokens released by
 * `destroy`, `destroyAll`, `collect`, or when first seen after their session
 * ended; run `collect` to release those of sessions that merely timed out.
 */
export async function listUnassignedTokens(
  ctx: Ctx,
  options?: PageOptions,
): Promise<ListPage<TokenInfo>> {
  const { limit, cursor } = pageArgs(options);
  const now = ctx.clock.now();
  const page = await ctx.store.findByIndex(ctx.tc, 'unassigned', 'yes', { limit, cursor });
  return tokenPage(ctx, page, now, (t) => t.state === UNASSIGNED);
}
