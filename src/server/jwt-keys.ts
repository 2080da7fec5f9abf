/**
 * The service's JWT keys: from a JWK set file (`--jwt-keys`, as printed by
 * `tessera keys generate`), or generated on first start and kept in the store
 * sealed (AES-256-GCM) under the server secret, so every instance sharing the
 * store and the secret signs and verifies with the same keys.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createSealer } from '../core/aead.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Keyring } from '../core/keyring.js';
import {
  buildSignerVerifier,
  generateKeySet,
  type JwtSignerVerifier,
  type KeySet,
} from '../jwt/index.js';
import type { Store } from '../stores/contract.js';
import type { JwtPrincipalVerifier } from './auth.js';
import type { Principal } from './roles.js';

const REF = { collection: 'service', key: 'jwt-keyset' } as const;
const PURPOSE = 'tessera-service-jwt-keyset';

/** Read a key set file. */
function readKeySetFile(path: string): KeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read the JWT key set ${path}: ${(err as Error).message}`);
  }
  const ks = parsed as Partial<KeySet>;
  if (
    typeof ks?.active_kid !== 'string' ||
    !Array.isArray(ks.private_keys) ||
    !Array.isArray(ks.public_keys)
  ) {
    throw new ConfigError(
      `${path} is not a key set ({ active_kid, private_keys, public_keys }: see tessera keys generate)`,
    );
  }
  return ks as KeySet;
}

/** The key set in the store, created (EdDSA) when there is none. */
async function storedKeySet(store: Store, keyring: Keyring, clock: Clock): Promise<KeySet> {
  const sealer = createSealer({ keyring, purpose: PURPOSE });
  const existing = await store.get(REF);
  if (existing && typeof existing.data.sealed === 'string') {
    return JSON.parse(sealer.openString(existing.data.sealed, REF.key)) as KeySet;
  }
  const kid = new Date(clock.now())
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  const fresh = await generateKeySet(kid, 'EdDSA');
  const r = await store.put(
    { ...REF, data: { sealed: sealer.seal(JSON.stringify(fresh), REF.key) }, expiresAt: null },
    { mode: 'insert', now: clock.now() },
  );
  if (r.ok) return fresh;
  // Another instance created it first: use theirs.
  const sealed = r.current?.data.sealed;
  if (typeof sealed !== 'string') throw new ConfigError('the stored JWT key set is malformed');
  return JSON.parse(sealer.openString(sealed, REF.key)) as KeySet;
}

/**
 * Build the service's signer/verifier (with the revocation denylist on the store).
 * @param options - the key set file (optional), store, keyring, clock, issuer and JWT lifetime
 * @throws ConfigError for an unreadable or invalid key set
 */
export async function loadServiceSigner(options: {
  keysFile?: string;
  store: Store;
  keyring: Keyring;
  clock: Clock;
  issuer: string;
  ttlSeconds: number;
}): Promise<JwtSignerVerifier> {
  const keySet = options.keysFile
    ? readKeySetFile(options.keysFile)
    : await storedKeySet(options.store, options.keyring, options.clock);
  try {
    return await buildSignerVerifier({
      keySet,
      issuer: options.issuer,
      ttl: options.ttlSeconds,
      store: options.store,
      clock: options.clock,
    });
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) {
      throw new ConfigError(`JWT key set: ${err.message}`);
    }
    throw err;
  }
}

/**
 * Authenticate service callers by JWTs this service minted (`POST /auth/token`):
 * the claims name the access token (`sub`), its admin flag and roles.
 */
export function jwtPrincipals(sv: JwtSignerVerifier): JwtPrincipalVerifier {
  return {
    async verify(jwt) {
      try {
        const { payload } = await sv.verify(jwt);
        if (typeof payload.sub !== 'string') return null;
        const roles = Array.isArray(payload.roles)
          ? payload.roles.filter((r): r is string => typeof r === 'string')
          : [];
        const principal: Principal = {
          kind: 'jwt',
          // The same identity as the access token it was exchanged for: one rate-limit window.
          id: `pat:${payload.sub}`,
          ...(typeof payload.owner === 'string' ? { owner: payload.owner } : {}),
          admin: payload.admin === true,
          roles,
        };
        return principal;
      } catch {
        return null;
      }
    },
  };
}
