/**
 * The in-process verify cache: token records by id, each kept at most `ttlMs`
 * (on the injected clock), with the digests of secrets already verified
 * against them so a hot scrypt token is not re-hashed on every request.
 *
 * Invalidation never loses a race: a read that started before an
 * invalidation of the same id is not cached when it completes (each read
 * holds a ticket that `invalidate` marks stale).
 * @module
 */
import type { StoredRecord } from '../stores/contract.js';
import type { PreparedToken } from './prepared.js';
import type { TokenFormat } from './types.js';

/** A secret that verified against a cached record. */
export interface VerifiedSecret {
  /** SHA-256 of the secret bytes. */
  readonly digest: Buffer;
  readonly format: TokenFormat;
  /** Which hash it matched: the current one, or the one `rotate` replaced. */
  readonly which: 'current' | 'previous';
}

/** One cached token. */
export interface CacheEntry {
  readonly record: StoredRecord;
  /** The record, checked and parsed. */
  readonly token: PreparedToken;
  readonly verified: VerifiedSecret[];
}

/** A pending read of one id (see {@link VerifyCache.begin}). */
export interface CacheTicket {
  readonly tokenId: string;
  stale: boolean;
}

/** The cache (see the module notes). */
export interface VerifyCache {
  /** The live entry for `tokenId` at `now`, if any. */
  get(tokenId: string, now: number): CacheEntry | undefined;
  /** Start a store read of `tokenId`; pass the ticket to {@link VerifyCache.end}. */
  begin(tokenId: string): CacheTicket;
  /** Finish a read: cache `entry` unless the id was invalidated since `begin`. */
  end(ticket: CacheTicket, entry: CacheEntry | undefined, now: number): void;
  /** Replace `previous` by `next` if `previous` is still the cached entry. */
  replace(tokenId: string, previous: CacheEntry, next: CacheEntry): void;
  /** Drop `tokenId` (and make pending reads of it uncacheable). */
  invalidate(tokenId: string): void;
  /** Drop everything. */
  clear(): void;
  /** Number of cached entries. */
  readonly size: number;
}

/**
 * Create a verify cache.
 *
 * @param ttlMs - longest life of an entry, ms
 * @param maxEntries - most entries; the oldest is dropped first
 * @example `const cache = createVerifyCache(5000, 10_000);`
 */
export function createVerifyCache(ttlMs: number, maxEntries: number): VerifyCache {
  const entries = new Map<string, { entry: CacheEntry; storedAt: number }>();
  const pending = new Map<string, Set<CacheTicket>>();

  const store = (tokenId: string, entry: CacheEntry, now: number) => {
    entries.delete(tokenId);
    entries.set(tokenId, { entry, storedAt: now });
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
    }
  };

  return {
    get(tokenId, now) {
      const hit = entries.get(tokenId);
      if (hit === undefined) return undefined;
      if (now - hit.storedAt >= ttlMs || now < hit.storedAt) {
        entries.delete(tokenId);
        return undefined;
      }
      return hit.entry;
    },
    begin(tokenId) {
      const ticket: CacheTicket = { tokenId, stale: false };
      let set = pending.get(tokenId);
      if (set === undefined) {
        set = new Set();
        pending.set(tokenId, set);
      }
      set.add(ticket);
      return ticket;
    },
    end(ticket, entry, now) {
      const set = pending.get(ticket.tokenId);
      set?.delete(ticket);
      if (set?.size === 0) pending.delete(ticket.tokenId);
      if (entry !== undefined && !ticket.stale) store(ticket.tokenId, entry, now);
    },
    replace(tokenId, previous, next) {
      const hit = entries.get(tokenId);
      if (hit !== undefined && hit.entry === previous) {
        entries.set(tokenId, { entry: next, storedAt: hit.storedAt });
      }
    },
    invalidate(tokenId) {
      entries.delete(tokenId);
      for (const ticket of pending.get(tokenId) ?? []) ticket.stale = true;
    },
    clear() {
      entries.clear();
      for (const set of pending.values()) for (const ticket of set) ticket.stale = true;
    },
    get size() {
      return entries.size;
    },
  };
}
