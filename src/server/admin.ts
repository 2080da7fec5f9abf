/**
 * The admin credential of the service: created on first start and printed
 * once, stored only as a SHA-256 PHC in the store (so every instance on a
 * shared store accepts it), rotatable with `tessera admin rotate`.
 * @module
 */
import type { Clock } from '../core/clock.js';
import { sha256Phc, timingSafeEqualStrings } from '../core/hashing.js';
import { randomSecret } from '../core/random.js';
import type { Store } from '../stores/contract.js';

const REF = { collection: 'service', key: 'admin-credential' } as const;

/** Prefix of admin credentials (secret-scanner friendly). */
export const ADMIN_PREFIX = 'tsa_';

function newCredential(): string {
  return `${ADMIN_PREFIX}${randomSecret(32)}`;
}

/**
 * Create the admin credential if the store has none.
 * @returns the new credential (print it once), or `null` when one exists
 */
export async function ensureAdminCredential(store: Store, clock: Clock): Promise<string | null> {
  const credential = newCredential();
  const r = await store.put(
    { ...REF, data: { phc: sha256Phc(credential), createdAt: clock.now() }, expiresAt: null },
    { mode: 'insert', now: clock.now() },
  );
  return r.ok ? credential : null;
}

/**
 * Replace the admin credential. The old one stops working at once (within
 * the verifier's one-second cache on other instances).
 * @returns the new credential (print it once)
 */
export async function rotateAdminCredential(store: Store, clock: Clock): Promise<string> {
  const credential = newCredential();
  await store.put(
    { ...REF, data: { phc: sha256Phc(credential), createdAt: clock.now() }, expiresAt: null },
    { mode: 'upsert', now: clock.now() },
  );
  return credential;
}

/** Checks presented admin credentials. */
export interface AdminVerifier {
  /** Whether `presented` is the admin credential (constant-time compare). */
  verify(presented: string): Promise<boolean>;
}

/**
 * Create a verifier that reads the stored hash (cached for `cacheMs`, default
 * 1000), or compares with `fixed` (from `TESSERA_ADMIN_TOKEN`) when given.
 */
export function createAdminVerifier(
  store: Store,
  clock: Clock,
  options: { fixed?: string; cacheMs?: number } = {},
): AdminVerifier {
  const cacheMs = options.cacheMs ?? 1000;
  const fixedPhc = options.fixed ? sha256Phc(options.fixed) : undefined;
  let cached: { phc: string | null; at: number } | undefined;
  async function storedPhc(): Promise<string | null> {
    const now = clock.now();
    if (cached && now - cached.at < cacheMs) return cached.phc;
    const r = await store.get(REF);
    const phc = typeof r?.data.phc === 'string' ? r.data.phc : null;
    cached = { phc, at: now };
    return phc;
  }
  return {
    async verify(presented) {
      if (typeof presented !== 'string' || presented.length === 0 || presented.length > 512)
        return false;
      const expected = fixedPhc ?? (await storedPhc());
      if (expected === null) return false;
      return timingSafeEqualStrings(sha256Phc(presented), expected);
    },
  };
}
