/**
 * Internal: the configuration every part of the module shares, record
 * addresses, and the shape of session and token records.
 *
 * Layout (see the module documentation in `index.ts` for why):
 * - `sessions` collection: `s:<id>` one record per session, `o:<sha256(owner)>`
 *   the owner's slot in one-per-owner mode. Indexes on session records:
 *   `owner`, `detached` (`yes`), `has_tokens` (`yes`).
 * - `tokens` collection: `t:<id>` one record per transition token. Indexes:
 *   `owner`, `session` (the session id that binds or carries it), `sellable`
 *   (`yes`), `unassigned` (`yes`).
 * Every record is its own partition: a reader knows only a token, so the
 * partition must derive from it.
 * @module
 */
import { type Clock, systemClock } from '../core/clock.js';
import { MalformedRecordError } from '../core/errors.js';
import type { Json, JsonObject, RecordRef, Store, StoredRecord } from '../stores/contract.js';
import { createIdsOf, sha256Id } from './token-ids.js';
import { defaultTokenMaker } from './token-maker.js';
import {
  SESSION_DEFAULTS,
  type SessionInfo,
  type SessionsOptions,
  type TokenKind,
  type TokenMaker,
} from './types.js';
import { checkOptionTimeout } from './validate.js';

/**
 * `endsAt` of a session that never ends: a number, so stores can compare it;
 * the largest time a `Date` holds (8.64e15), which survives JSON encoders that
 * print 14 significant digits.
 */
export const NEVER = 8_640_000_000_000_000;

/** Optimistic-concurrency retries before `ConflictError`. */
export const MAX_LOOPS = 8;

/** Resolved options. */
export interface Config {
  readonly onePerOwner: boolean;
  readonly idleTimeoutMs: number | null;
  readonly absoluteTimeoutMs: number | null;
  readonly activityIntervalMs: number;
  readonly detachTimeoutMs: number | null;
  readonly tokenTimeoutMs: number | null;
  readonly disownmentTimeoutMs: number;
  readonly endedRetentionMs: number;
}

/** What every operation needs. */
export interface Ctx {
  readonly store: Store;
  readonly clock: Clock;
  readonly maker: TokenMaker;
  readonly cfg: Config;
  /** Collection of sessions and owner slots. */
  readonly sc: string;
  /** Collection of transition tokens. */
  readonly tc: string;
  /** Candidate ids of a session token: the active key's first. */
  sessionIds(token: string): string[];
  /** Candidate ids of a transition token: the active key's first. */
  tokenIds(token: string): string[];
}

const COLLECTION_RE = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * Check options and build the shared context.
 * @throws TypeError / RangeError for bad options
 */
export function createCtx(options: SessionsOptions): Ctx {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const { store, keyring } = options;
  if (!store || typeof store.update !== 'function' || typeof store.findByIndex !== 'function') {
    throw new TypeError('options.store must be a Store');
  }
  if (keyring !== undefined && (!keyring || typeof keyring.deriveKey !== 'function')) {
    throw new TypeError('options.keyring must be a Keyring');
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw new TypeError('options.clock must be a Clock');
  const maker = options.tokenMaker ?? defaultTokenMaker;
  if (typeof maker !== 'function') throw new TypeError('options.tokenMaker must be a function');
  if (options.onePerOwner !== undefined && typeof options.onePerOwner !== 'boolean') {
    throw new TypeError('options.onePerOwner must be a boolean');
  }
  const pick = <K extends keyof typeof SESSION_DEFAULTS>(
    name: K,
    nullable: boolean,
  ): number | null => {
    const v = options[name] === undefined ? SESSION_DEFAULTS[name] : options[name];
    checkOptionTimeout(v, `options.${name}`, nullable);
    return v;
  };
  const idleTimeoutMs = pick('idleTimeoutMs', true);
  const absoluteTimeoutMs = pick('absoluteTimeoutMs', true);
  const activityIntervalMs = pick('activityIntervalMs', false) as number;
  const detachTimeoutMs = pick('detachTimeoutMs', true);
  const tokenTimeoutMs = pick('tokenTimeoutMs', true);
  const disownmentTimeoutMs = pick('disownmentTimeoutMs', false) as number;
  const endedRetentionMs = options.endedRetentionMs ?? Math.max(disownmentTimeoutMs, 3_600_000);
  checkOptionTimeout(endedRetentionMs, 'options.endedRetentionMs', false);
  const sc = options.collections?.sessions ?? 'sessions';
  const tc = options.collections?.tokens ?? 'session_tokens';
  for (const c of [sc, tc]) {
    if (typeof c !== 'string' || !COLLECTION_RE.test(c)) {
      throw new RangeError('options.collections names must match /^[a-z][a-z0-9_-]{0,31}$/');
    }
  }
  if (sc === tc) throw new RangeError('options.collections must name two different collections');

  const sessionIds = createIdsOf(keyring, 'session-token');
  const tokenIds = createIdsOf(keyring, 'transition-token');
  const cfg: Config = Object.freeze({
    onePerOwner: options.onePerOwner ?? false,
    idleTimeoutMs,
    absoluteTimeoutMs,
    activityIntervalMs,
    detachTimeoutMs,
    tokenTimeoutMs,
    disownmentTimeoutMs,
    endedRetentionMs,
  });
  return Object.freeze({ store, clock, maker, cfg, sc, tc, sessionIds, tokenIds });
}

// ---------------------------------------------------------------- addresses

/** Address of a session record. */
export function sessionRef(ctx: Ctx, id: string): RecordRef {
  return { collection: ctx.sc, key: `s:${id}` };
}

/** Address of a token record. */
export function tokenRef(ctx: Ctx, id: string): RecordRef {
  return { collection: ctx.tc, key: `t:${id}` };
}

/** Address of an owner's slot (one-per-owner mode). */
export function ownerSlotRef(ctx: Ctx, owner: string): RecordRef {
  return { collection: ctx.sc, key: `o:${sha256Id(owner)}` };
}

/** The public id inside a record key. */
export function idOf(record: StoredRecord): string {
  return record.key.slice(2);
}

/** When an ended session's record may be collected (`expiresAt` of the record). */
export function gcAt(ctx: Ctx, endsAt: number): number | null {
  return endsAt >= NEVER ? null : endsAt + ctx.cfg.endedRetentionMs;
}

// ---------------------------------------------------------------- sessions

/** The data of a session record. */
export interface SessionData {
  /** Generation: random per creation, so a reused token never revives old tokens. */
  sid: string;
  owner: string;
  createdAt: number;
  lastActiveAt: number;
  idleTimeoutMs: number | null;
  absoluteExpiresAt: number | null;
  detachTimeoutMs: number | null;
  detachable: boolean;
  detached: boolean;
  detachedAt: number | null;
  /** `false`: activity does not extend the idle timeout (absent: it does). */
  sliding?: false;
  /** When the session ends ({@link NEVER}: never); the one field that decides liveness. */
  endsAt: number;
  /** Why it ended early: `destroyed` or `replaced`; `null` otherwise. */
  endReason: string | null;
  /** Created in one-per-owner mode: also valid only while the owner's slot names it. */
  single: boolean;
  data?: JsonObject;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): v is number | null => v === null || isNum(v);

/**
 * Read a session record's data.
 * @throws MalformedRecordError when it is not what this module writes
 */
export function readSession(record: StoredRecord): SessionData {
  const d = record.data as Partial<SessionData>;
  if (
    typeof d.sid !== 'string' ||
    typeof d.owner !== 'string' ||
    !isNum(d.createdAt) ||
    !isNum(d.lastActiveAt) ||
    !isNumOrNull(d.idleTimeoutMs) ||
    !isNumOrNull(d.absoluteExpiresAt) ||
    !isNumOrNull(d.detachTimeoutMs) ||
    typeof d.detachable !== 'boolean' ||
    typeof d.detached !== 'boolean' ||
    !isNumOrNull(d.detachedAt) ||
    (d.sliding !== undefined && d.sliding !== false) ||
    !isNum(d.endsAt) ||
    (d.endReason !== null && typeof d.endReason !== 'string') ||
    typeof d.single !== 'boolean'
  ) {
    throw new MalformedRecordError(`Malformed session record ${record.key}`);
  }
  return d as SessionData;
}

/** When a session ends given its timing fields (attached: idle; detached: detachment; both capped). */
export function computeEndsAt(
  d: Pick<
    SessionData,
    | 'detached'
    | 'detachedAt'
    | 'detachTimeoutMs'
    | 'lastActiveAt'
    | 'idleTimeoutMs'
    | 'absoluteExpiresAt'
  >,
): number {
  const cap = d.absoluteExpiresAt ?? NEVER;
  let base: number;
  if (d.detached) {
    base = d.detachTimeoutMs === null ? NEVER : (d.detachedAt ?? 0) + d.detachTimeoutMs;
  } else {
    base = d.idleTimeoutMs === null ? NEVER : d.lastActiveAt + d.idleTimeoutMs;
  }
  return Math.min(base, cap, NEVER);
}

/**
 * How long after the last recorded activity a new activity is written: the
 * configured interval, but at most half the idle timeout, so an active session
 * never idles out between two writes. `null`: never (no idle timeout, or one
 * that does not slide).
 */
export function activityEvery(ctx: Ctx, d: SessionData): number | null {
  if (d.idleTimeoutMs === null || d.detached || d.sliding === false) return null;
  return Math.max(1, Math.min(ctx.cfg.activityIntervalMs, Math.floor(d.idleTimeoutMs / 2)));
}

/** A session as callers see it. */
export function toSessionInfo(record: StoredRecord, d: SessionData): SessionInfo {
  return Object.freeze({
    id: idOf(record),
    owner: d.owner,
    createdAt: d.createdAt,
    lastActiveAt: d.lastActiveAt,
    expiresAt: d.endsAt >= NEVER ? null : d.endsAt,
    absoluteExpiresAt: d.absoluteExpiresAt,
    idleTimeoutMs: d.idleTimeoutMs,
    sliding: d.sliding !== false,
    detachTimeoutMs: d.detachTimeoutMs,
    detachable: d.detachable,
    detached: d.detached,
    detachedAt: d.detachedAt,
    data: d.data,
  });
}

// ---------------------------------------------------------------- tokens

/** The data of a token record. */
export interface TokenData {
  kind: TokenKind;
  /** Owner; `null` for plain and released tokens. */
  owner: string | null;
  /** Session id that binds or carries it; `null` otherwise. */
  sessionId: string | null;
  /** That session's generation when the token joined it. */
  sid: string | null;
  value: Json;
  createdAt: number;
  timeoutMs: number | null;
  /** Own end, ms since epoch; `null`: none. */
  ownExpiresAt: number | null;
  disownmentTimeoutMs: number;
  /** When it became unassigned; `null` unless released. */
  releasedAt: number | null;
  sellable: boolean;
  price: number | null;
}

/**
 * Read a token record's data.
 * @throws MalformedRecordError when it is not what this module writes
 */
export function readToken(record: StoredRecord): TokenData {
  const d = record.data as Partial<TokenData>;
  if (
    (d.kind !== 'plain' && d.kind !== 'bound' && d.kind !== 'transferable') ||
    (d.owner !== null && typeof d.owner !== 'string') ||
    (d.sessionId !== null && typeof d.sessionId !== 'string') ||
    (d.sid !== null && typeof d.sid !== 'string') ||
    d.value === undefined ||
    !isNum(d.createdAt) ||
    !isNumOrNull(d.timeoutMs) ||
    !isNumOrNull(d.ownExpiresAt) ||
    !isNum(d.disownmentTimeoutMs) ||
    !isNumOrNull(d.releasedAt) ||
    typeof d.sellable !== 'boolean' ||
    !isNumOrNull(d.price)
  ) {
    throw new MalformedRecordError(`Malformed transition token record ${record.key}`);
  }
  return d as TokenData;
}

/** The record-level end of a token: its own end, capped by its disownment deadline once released. */
export function tokenRecordExpiry(d: TokenData): number | null {
  if (d.releasedAt === null) return d.ownExpiresAt;
  const deadline = d.releasedAt + d.disownmentTimeoutMs;
  return d.ownExpiresAt === null ? deadline : Math.min(d.ownExpiresAt, deadline);
}
