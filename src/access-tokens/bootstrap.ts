/**
 * Bootstrap: turn a token whose secret matches the configured bootstrap PHC
 * into the first admin token, once.
 *
 * The gate is a sentinel record (key `_bootstrap`, which no token id can
 * equal), never a count: the seed used DynamoDB's `ItemCount`, which lags by
 * hours, so its bootstrap secret kept minting admin tokens. Here:
 * 1. a `done` or `closed` sentinel, or a live `pending` claim, ends it (`not_found`);
 * 2. if any token exists, the sentinel is written as `closed` (`not_found`);
 * 3. the token is parsed and its secret checked against the bootstrap PHC;
 * 4. a `pending` claim is inserted atomically: of concurrent bootstraps,
 *    exactly one inserts it; the claim lapses after one minute, so a crash
 *    cannot block bootstrap forever;
 * 5. the admin token is inserted, then the claim becomes `done` only if it
 *    is still this caller's claim (otherwise the token is removed again).
 * @module
 */
import type { RecordRef, StoredRecord } from '../stores/contract.js';
import type { Context } from './options.js';
import type { TokenData } from './record.js';
import type { AccessToken, VerifyResult } from './types.js';
import { checkObject, checkOwner } from './validate.js';

/** Key of the sentinel record, in the tokens' collection. */
export const BOOTSTRAP_KEY = '_bootstrap';
/** How long a pending bootstrap claim holds, in ms. */
export const BOOTSTRAP_CLAIM_MS = 60_000;

const NOT_FOUND: VerifyResult = Object.freeze({ valid: false, reason: 'not_found' });

/** Callbacks bootstrap needs from the factory. */
export interface BootstrapDeps {
  /** Insert a new token; throws AlreadyExistsError when the id is taken. */
  insert(data: TokenData, now: number): Promise<StoredRecord>;
  /** A new token's data. */
  newToken(
    fields: Pick<TokenData, 'tokenId' | 'owner' | 'isAdmin' | 'secretPhc' | 'format'>,
    now: number,
  ): TokenData;
  /** The public shape. */
  toPublic(data: TokenData): AccessToken;
  /** Whether any token exists. */
  anyToken(): Promise<boolean>;
}

/** Create the `bootstrap` function. */
export function createBootstrap(
  ctx: Context,
  deps: BootstrapDeps,
): (token: string, input: { owner: string }) => Promise<VerifyResult> {
  const { store, clock, codec, hasher, bootstrapPhc } = ctx;
  const ref: RecordRef = { collection: ctx.collection, key: BOOTSTRAP_KEY };
  let closed = false;

  async function close(now: number): Promise<void> {
    closed = true;
    await store.put(
      { ...ref, data: { state: 'closed', at: now }, expiresAt: null },
      { mode: 'insert', now },
    );
  }

  return async function bootstrap(token, input) {
    checkObject(input, 'input');
    checkOwner(input.owner);
    if (bootstrapPhc === undefined || closed) return NOT_FOUND;
    let now = clock.now();
    const sentinel = await store.get(ref);
    if (sentinel !== null) {
      if (sentinel.data.state !== 'pending') closed = true;
      if (closed || sentinel.expiresAt === null || sentinel.expiresAt > now) return NOT_FOUND;
    }
    if (await deps.anyToken()) {
      await close(now);
      return NOT_FOUND;
    }
    const parsed = codec.parse(token);
    if (!parsed.ok) return { valid: false, reason: parsed.reason };
    const check = await hasher.verify(parsed.secret, bootstrapPhc);
    if (!check.valid) {
      return check.cause === undefined
        ? { valid: false, reason: check.reason }
        : { valid: false, reason: check.reason, cause: check.cause };
    }

    now = clock.now();
    const claim = await store.put(
      {
        ...ref,
        data: { state: 'pending', claimedTokenId: parsed.tokenId, owner: input.owner, at: now },
        expiresAt: now + BOOTSTRAP_CLAIM_MS,
      },
      { mode: 'insert', now },
    );
    if (!claim.ok) return NOT_FOUND;
    const data = deps.newToken(
      {
        tokenId: parsed.tokenId,
        owner: input.owner,
        isAdmin: true,
        secretPhc: bootstrapPhc,
        format: parsed.format,
      },
      now,
    );
    let record: StoredRecord;
    try {
      record = await deps.insert(data, now);
    } catch (err) {
      // Typically AlreadyExistsError (the id is taken): give the claim back.
      await store.delete(ref, { version: claim.record.version });
      throw err;
    }
    const done = await store.update(
      ref,
      { set: { state: 'done' }, expiresAt: null },
      { where: { version: claim.record.version } },
    );
    if (!done.ok) {
      // Our claim lapsed and another caller took over: undo our token.
      await store.delete(ctx.ref(parsed.tokenId), { version: record.version });
      return NOT_FOUND;
    }
    closed = true;
    return { valid: true, record: deps.toPublic(data) };
  };
}
