/**
 * The hot path: verify a presented token.
 *
 * 1. Parse offline (prefix, canonical encoding, checksum): no store read for junk.
 * 2. Read the record (or take it from the cache), then check the secret in
 *    constant time against the current hash, or the one `rotate` replaced
 *    while its overlap lasts. An unknown id spends one SHA-256 (or HMAC) more,
 *    so it answers in about the time a wrong secret takes for SHA-256 and
 *    HMAC hashes (scrypt hashes are slower on purpose, as in the seed).
 * 3. Report `revoked` and `expired` only after the secret checks out (as the seed).
 * 4. Write `lastUsedAt` only when the last write is older than the interval,
 *    as a conditional update of an existing record: never an upsert, so a
 *    verify racing a delete cannot recreate the token.
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256, type VerifyPhcResult } from '../core/hashing.js';
import type { FieldCondition, StoredRecord } from '../stores/contract.js';
import type { CacheEntry } from './cache.js';
import type { Context } from './options.js';
import type { PreparedPhc } from './phc.js';
import { createPreparer, type PreparedToken } from './prepared.js';
import type { TokenData } from './record.js';
import type { TokenFormat, VerifyResult } from './types.js';

const NOT_FOUND: VerifyResult = Object.freeze({ valid: false, reason: 'not_found' });
const INVALID_SECRET: VerifyResult = Object.freeze({ valid: false, reason: 'invalid_secret' });
const INVALID_PREFIX: VerifyResult = Object.freeze({ valid: false, reason: 'invalid_prefix' });
const INVALID_FORMAT: VerifyResult = Object.freeze({ valid: false, reason: 'invalid_format' });
const MAX_VERIFIED = 4;

type VerifyPhcFailure = Extract<VerifyPhcResult, { valid: false }>;

type TouchOutcome =
  | { kind: 'ok'; token: PreparedToken }
  | { kind: 'gone' }
  | { kind: 'changed'; token: PreparedToken }
  | { kind: 'failed' };

/** Whether the secret `rotate` replaced still verifies at `now`. */
function previousLive(t: TokenData, now: number): boolean {
  return (
    t.previousSecretPhc !== null &&
    t.previousSecretExpiresAt !== null &&
    t.previousSecretExpiresAt > now
  );
}

/** Create the `verify` function over a context. */
export function createVerify(ctx: Context): (token: string) => Promise<VerifyResult> {
  const { store, clock, codec, hasher, cache, feed, lastUsedIntervalMs } = ctx;
  const prepare = createPreparer();

  async function load(tokenId: string, now: number): Promise<CacheEntry | undefined> {
    const ticket = cache?.begin(tokenId);
    let entry: CacheEntry | undefined;
    try {
      const record = await store.get(ctx.ref(tokenId));
      if (record === null) return undefined;
      entry = { record, token: prepare(record), verified: [] };
      return entry;
    } finally {
      if (ticket !== undefined) cache?.end(ticket, entry, now);
    }
  }

  function remember(
    entry: CacheEntry | undefined,
    digest: Buffer | undefined,
    format: TokenFormat,
    which: 'current' | 'previous',
  ) {
    if (entry === undefined || digest === undefined) return;
    if (entry.verified.length >= MAX_VERIFIED) entry.verified.shift();
    entry.verified.push({ digest, format, which });
  }

  /** Whether the secret already verified against this (cached) record. */
  function verifiedBefore(entry: CacheEntry, digest: Buffer, format: TokenFormat, now: number) {
    const t = entry.token.data;
    for (const v of entry.verified) {
      if (v.format !== format || !timingSafeEqual(v.digest, digest)) continue;
      if (v.which === 'current') return true;
      return t.previousSecretExpiresAt !== null && t.previousSecretExpiresAt > now;
    }
    return false;
  }

  function touchDue(t: TokenData, now: number): boolean {
    return t.lastUsedAt === null || now - t.lastUsedAt >= lastUsedIntervalMs;
  }

  async function touch(
    token: PreparedToken,
    entry: CacheEntry | undefined,
    now: number,
  ): Promise<TouchOutcome> {
    const t = token.data;
    const used: FieldCondition =
      t.lastUsedAt === null
        ? { field: 'lastUsedAt', op: 'absent' }
        : { field: 'lastUsedAt', op: 'lte', value: now - lastUsedIntervalMs };
    let result: Awaited<ReturnType<typeof store.update>>;
    try {
      result = await store.update(
        ctx.ref(t.tokenId),
        { set: { lastUsedAt: now } },
        { where: { fields: [{ field: 'createdAt', op: 'eq', value: t.createdAt }, used] } },
      );
    } catch {
      // lastUsedAt is advisory: a failed write never fails a verification that succeeded.
      return { kind: 'failed' };
    }
    const record: StoredRecord | null = result.ok ? result.record : result.current;
    if (record === null) return { kind: 'gone' };
    const fresh = prepare(record);
    if (result.ok && record.version === token.version + 1) {
      if (entry !== undefined) {
        const next: CacheEntry = { record, token: fresh, verified: entry.verified };
        cache?.replace(t.tokenId, entry, next);
      }
      return { kind: 'ok', token: fresh };
    }
    return { kind: 'changed', token: fresh };
  }

  /** A failed check of `phc` as a verify result. */
  function failureOf(r: VerifyPhcFailure): VerifyResult {
    if (r.cause !== undefined) return { valid: false, reason: r.reason, cause: r.cause };
    return r.reason === 'invalid_secret' ? INVALID_SECRET : { valid: false, reason: r.reason };
  }

  return async function verify(presented: string): Promise<VerifyResult> {
    const parsed = codec.parse(presented);
    if (!parsed.ok) return parsed.reason === 'invalid_prefix' ? INVALID_PREFIX : INVALID_FORMAT;
    const { tokenId, secret, format } = parsed;
    // The cache answers only while subscribed to other instances' changes.
    const cached = feed?.live === true ? cache : undefined;
    // The SHA-256 of the secret keys the cache's list of verified secrets (and
    // serves the `$sha256$` check); without a cache it is computed only if needed.
    const digest = cached === undefined ? undefined : sha256(secret);
    let entry: CacheEntry | undefined;
    let token: PreparedToken | undefined;
    for (let round = 0; ; round++) {
      const now = clock.now();
      if (token === undefined) {
        if (cached === undefined) {
          const record = await store.get(ctx.ref(tokenId));
          if (record !== null) token = prepare(record);
        } else {
          entry = cached.get(tokenId, now) ?? (await load(tokenId, now));
          token = entry?.token;
        }
        if (token === undefined) {
          hasher.spend(secret);
          return NOT_FOUND;
        }
      }
      const t = token.data;
      if (
        entry === undefined ||
        digest === undefined ||
        !verifiedBefore(entry, digest, format, now)
      ) {
        // The current hash first, then the one `rotate` replaced while its overlap lasts; a
        // promise only for hashes the core verifies (scrypt), so the usual path never waits.
        let failure: VerifyResult | undefined = INVALID_SECRET;
        if (t.format === format) {
          let r = hasher.check(secret, token.current, digest);
          if (r instanceof Promise) r = await r;
          if (r.valid) {
            remember(entry, digest, format, 'current');
            failure = undefined;
          } else {
            failure = failureOf(r);
          }
        }
        if (failure !== undefined && previousLive(t, now) && t.previousFormat === format) {
          let r = hasher.check(secret, token.previous as PreparedPhc, digest);
          if (r instanceof Promise) r = await r;
          if (r.valid) {
            remember(entry, digest, format, 'previous');
            failure = undefined;
          } else if (t.format !== format) {
            failure = { valid: false, reason: r.reason };
          }
        }
        if (failure !== undefined) return failure;
      }
      if (t.revokedAt !== null) return { valid: false, reason: 'revoked', record: token.view };
      if (t.expiresAt !== null && t.expiresAt <= now) {
        return { valid: false, reason: 'expired', record: token.view };
      }
      if (round >= 2 || !touchDue(t, now)) return token.valid;
      const outcome = await touch(token, entry, now);
      switch (outcome.kind) {
        case 'ok':
          return outcome.token.valid;
        case 'failed':
          return token.valid;
        case 'gone':
          cache?.invalidate(tokenId);
          return NOT_FOUND;
        default:
          // Changed behind our back: judge the fresh record (uncached) again.
          cache?.invalidate(tokenId);
          entry = undefined;
          token = outcome.token;
      }
    }
  };
}
