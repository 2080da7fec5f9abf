/**
 * The JWT revocation denylist, in a Tessera store. Two kinds of entries, each
 * held only until the tokens it covers have expired (record `expiresAt`):
 * - `jti:<jti>`: one token (RFC 7009 revocation of a minted JWT);
 * - `sub:<sub>` with `revokedAt`: every token of a subject issued at or before
 *   that second (a revoked PAT's outstanding JWTs).
 * @module
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { RecordRef, Store, StoredRecord } from '../stores/contract.js';

/** Default store collection of the denylist. */
export const DEFAULT_DENYLIST_COLLECTION = 'jwt-denylist';

/** The denylist (see {@link createJwtDenylist}). */
export interface JwtDenylist {
  /** Deny the token `jti` until `expSeconds` (its `exp`, epoch seconds). */
  denyToken(jti: string, expSeconds: number): Promise<void>;
  /**
   * Deny every token of `sub` issued at or before now, until `untilSeconds`
   * (epoch seconds: the `exp` of the last token that can have been issued).
   */
  denySubject(sub: string, untilSeconds: number): Promise<void>;
  /** Whether a verified payload is denied (one store round trip). */
  isDenied(payload: { jti?: unknown; sub?: unknown; iat?: unknown }): Promise<boolean>;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: keys must not hold control characters
const SAFE_KEY = /^[^\u0000-\u001f\u007f]{1,256}$/;

function keyOf(kind: 'jti' | 'sub', value: string): string {
  if (SAFE_KEY.test(value)) return `${kind}:${value}`;
  return `${kind}#${createHash('sha256').update(value, 'utf8').digest('base64url')}`;
}

function live(r: StoredRecord | null | undefined, now: number): r is StoredRecord {
  return r != null && (r.expiresAt === null || r.expiresAt > now);
}

/**
 * Create the denylist over a store.
 *
 * @param options - `store`; `clock` (default system clock); `collection` (default `jwt-denylist`)
 * @example
 * ```ts
 * const denylist = createJwtDenylist({ store, clock });
 * await denylist.denyToken(payload.jti, payload.exp);
 * ```
 */
export function createJwtDenylist(options: {
  store: Store;
  clock: Clock;
  collection?: string;
}): JwtDenylist {
  const { store, clock } = options;
  const collection = options.collection ?? DEFAULT_DENYLIST_COLLECTION;
  const ref = (kind: 'jti' | 'sub', value: string): RecordRef => ({
    collection,
    key: keyOf(kind, value),
  });

  async function deny(r: RecordRef, untilSeconds: number, revokedAt: number): Promise<void> {
    const now = clock.now();
    const expiresAt = untilSeconds * 1000;
    if (expiresAt <= now) return;
    await store.put({ ...r, data: { revokedAt }, expiresAt }, { mode: 'upsert', now });
  }

  return Object.freeze({
    async denyToken(jti: string, expSeconds: number) {
      await deny(ref('jti', jti), expSeconds, Math.floor(clock.now() / 1000));
    },
    async denySubject(sub: string, untilSeconds: number) {
      await deny(ref('sub', sub), untilSeconds, Math.floor(clock.now() / 1000));
    },
    async isDenied(payload: { jti?: unknown; sub?: unknown; iat?: unknown }) {
      const refs: RecordRef[] = [];
      const jti = typeof payload.jti === 'string' && payload.jti !== '' ? payload.jti : null;
      const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : null;
      if (jti !== null) refs.push(ref('jti', jti));
      if (sub !== null) refs.push(ref('sub', sub));
      if (refs.length === 0) return false;
      const now = clock.now();
      const records = await store.getMany(refs);
      let i = 0;
      if (jti !== null && live(records[i++], now)) return true;
      if (sub !== null) {
        const r = records[i];
        if (live(r, now)) {
          const revokedAt = r.data.revokedAt;
          const iat = typeof payload.iat === 'number' ? payload.iat : Number.NEGATIVE_INFINITY;
          if (typeof revokedAt !== 'number' || iat <= revokedAt) return true;
        }
      }
      return false;
    },
  });
}
