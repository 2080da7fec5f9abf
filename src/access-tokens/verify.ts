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
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FieldCondition, StoredRecord } from '../stores/contract.js';
import type { CacheEntry } from './cache.js';
import type { Context } from './options.js';
import { readTokenData, type TokenData, toAccessToken } from './record.js';
import type { TokenFormat, VerifyResult } from './types.js';

const NOT_FOUND: VerifyResult = Object.freeze({ valid: false, reason: 'not_found' });
const INVALID_SECRET: VerifyResult = Object.freeze({ valid: false, reason: 'invalid_secret' });
const MAX_VERIFIED = 4;

type TouchOutcome =
  | { kind: 'ok'; entry: CacheEntry }
  | { kind: 'gone' }
  | { kind: 'changed'; entry: CacheEntry }
  | { kind: 'failed' };

/** Create the `verify` function over a context. */
export function createVerify(ctx: Context): (token: string) => Promise<VerifyResult> {
  const { store, clock, codec, hasher, cache, lastUsedIntervalMs } = ctx;

  async function load(tokenId: string, now: number): Promise<CacheEntry | undefined> {
    const ticket = cache?.begin(tokenId);
    let entry: CacheEntry | undefined;
    try {
      const record = await store.get(ctx.ref(tokenId));
      if (record === null) return undefined;
      entry = { record, data: readTokenData(record), verified: [] };
      return entry;
    } finally {
      if (ticket !== undefined) cache?.end(ticket, entry, now);
    }
  }

  function remember(
    entry: CacheEntry,
    digest: Buffer | undefined,
    format: TokenFormat,
    which: 'current' | 'previous',
  ) {
    if (digest === undefined) return;
    if (entry.verified.length >= MAX_VERIFIED) entry.verified.shift();
    entry.verified.push({ digest, format, which });
  }

  /** Whether the secret already verified against this (cached) record. */
  function verifiedBefore(entry: CacheEntry, digest: Buffer, format: TokenFormat, now: number) {
    const t = entry.data;
    for (const v of entry.verified) {
      if (v.format !== format || !timingSafeEqual(v.digest, digest)) continue;
      if (v.which === 'current') return true;
      return t.previousSecretExpiresAt !== null && t.previousSecretExpiresAt > now;
    }
    return false;
  }

  /** `undefined` when the secret is right, else the failure. */
  async function checkSecret(
    entry: CacheEntry,
    secret: Buffer,
    digest: Buffer | undefined,
    format: TokenFormat,
    now: number,
  ): Promise<VerifyResult | undefined> {
    const t = entry.data;
    const previousLive =
      t.previousSecretPhc !== null &&
      t.previousSecretExpiresAt !== null &&
      t.previousSecretExpiresAt > now;
    let failure: VerifyResult = INVALID_SECRET;
    if (t.format === format) {
      const r = await hasher.verify(secret, t.secretPhc, digest);
      if (r.valid) {
        remember(entry, digest, format, 'current');
        return undefined;
      }
      failure =
        r.cause === undefined
          ? { valid: false, reason: r.reason }
          : { valid: false, reason: r.reason, cause: r.cause };
    }
    if (previousLive && t.previousFormat === format) {
      const r = await hasher.verify(secret, t.previousSecretPhc as string, digest);
      if (r.valid) {
        remember(entry, digest, format, 'previous');
        return undefined;
      }
      if (t.format !== format) failure = { valid: false, reason: r.reason };
    }
    return failure;
  }

  function touchDue(t: TokenData, now: number): boolean {
    return t.lastUsedAt === null || now - t.lastUsedAt >= lastUsedIntervalMs;
  }

  async function touch(entry: CacheEntry, now: number): Promise<TouchOutcome> {
    const t = entry.data;
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
    const fresh: CacheEntry = { record, data: readTokenData(record), verified: [] };
    if (result.ok && record.version === entry.record.version + 1) {
      const next: CacheEntry = { ...fresh, verified: entry.verified };
      cache?.replace(t.tokenId, entry, next);
      return { kind: 'ok', entry: next };
    }
    return { kind: 'changed', entry: fresh };
  }

  return async function verify(token: string): Promise<VerifyResult> {
    const parsed = codec.parse(token);
    if (!parsed.ok) return { valid: false, reason: parsed.reason };
    const { tokenId, secret, format } = parsed;
    // The SHA-256 of the secret keys the cache's list of verified secrets (and
    // serves the `$sha256$` check); without a cache it is computed only if needed.
    const digest = cache === undefined ? undefined : createHash('sha256').update(secret).digest();
    let entry: CacheEntry | undefined;
    for (let round = 0; ; round++) {
      const now = clock.now();
      entry ??= cache?.get(tokenId, now) ?? (await load(tokenId, now));
      if (entry === undefined) {
        hasher.spend(secret);
        return NOT_FOUND;
      }
      if (digest === undefined || !verifiedBefore(entry, digest, format, now)) {
        const failure = await checkSecret(entry, secret, digest, format, now);
        if (failure !== undefined) return failure;
      }
      const t = entry.data;
      if (t.revokedAt !== null)
        return { valid: false, reason: 'revoked', record: toAccessToken(t) };
      if (t.expiresAt !== null && t.expiresAt <= now) {
        return { valid: false, reason: 'expired', record: toAccessToken(t) };
      }
      if (round >= 2 || !touchDue(t, now)) return { valid: true, record: toAccessToken(t) };
      const outcome = await touch(entry, now);
      switch (outcome.kind) {
        case 'ok':
          return { valid: true, record: toAccessToken(outcome.entry.data) };
        case 'failed':
          return { valid: true, record: toAccessToken(t) };
        case 'gone':
          cache?.invalidate(tokenId);
          return NOT_FOUND;
        default:
          // Changed behind our back: judge the fresh record (uncached) again.
          cache?.invalidate(tokenId);
          entry = outcome.entry;
      }
    }
  };
}
