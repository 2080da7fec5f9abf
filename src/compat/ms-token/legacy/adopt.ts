/**
 * Moving a claimed ms-token challenge into a Tessera challenge: the same
 * action, id, uid, settings, metadata, creation and first-verification
 * times, remaining lifetime and throttle window, and the same secret, stored
 * from now on only as the challenges module's HMAC digest.
 *
 * `tessera/challenges` has no public way to import a challenge with a given
 * secret, so this writes the record the module writes (`records.ts`): the
 * challenge tests read adopted challenges back through the public API, so a
 * change of that record format fails them.
 * @module
 */
import { type ChallengeData, digestSecret, refsFor } from '../../../challenges/records.js';
import type { ResolvedSecretSettings } from '../../../challenges/types.js';
import { createHmacHasher, type HmacHasher } from '../../../core/hashing.js';
import type { Keyring } from '../../../core/keyring.js';
import { randomId62 } from '../../../core/random.js';
import type { JsonObject, Store, TransactOp } from '../../../stores/contract.js';
import { MIN_SECRET_LENGTH } from '../schemas.js';
import type { LegacyChallenge } from './record.js';

/** The collection `createChallenges` uses by default (the facade does not change it). */
const COLLECTION = 'challenge';
/** The hashing purpose of `createChallenges` (its digests of secrets). */
const HASH_PURPOSE = 'challenges';

/** A claimed challenge: its fields and what was left of its lifetimes. */
export interface Claimed {
  readonly challenge: LegacyChallenge;
  /** The secret the caller holds ('' without a secret). */
  readonly secret: string;
  /** Remaining lifetime of the challenge, ms (-1: none, it never expires). */
  readonly pttl: number;
  /** Remaining throttle window, ms (negative: none). */
  readonly throttlePttl: number;
}

/** Writes adopted challenges into a store. */
export interface Adopter {
  /**
   * Write the Tessera challenge for a claimed ms-token challenge, unless a
   * live Tessera challenge exists for its action and id (a newer `create`
   * wins). Resolves to whether it was written.
   */
  adopt(claimed: Claimed, now: number): Promise<boolean>;
}

/** Settings as Tessera generates from them (at least 4 characters, distinct alphabet). */
function tesseraSettings(s: ResolvedSecretSettings | false): ResolvedSecretSettings | false {
  if (s === false || s.type === 'uuid') return s;
  const length = Math.max(MIN_SECRET_LENGTH, Math.min(64, Math.trunc(s.length) || 8));
  if (s.type === 'number') return { type: 'number', length, encrypt: s.encrypt };
  const alphabet = [...new Set(Array.from(s.alphabet))].join('');
  return { type: 'alphabet', alphabet, length, encrypt: s.encrypt };
}

/**
 * An adopter over the facade's store and keyring.
 * @example `await createAdopter(store, keyring).adopt(claimed, clock.now())`
 */
export function createAdopter(store: Store, keyring: Keyring): Adopter {
  const hasher: HmacHasher = createHmacHasher(keyring, HASH_PURPOSE);

  async function adopt(claimed: Claimed, now: number): Promise<boolean> {
    const c = claimed.challenge;
    const refs = refsFor(COLLECTION, c.action, c.id);
    const expiresAt = claimed.pttl >= 0 ? now + Math.max(1, claimed.pttl) : null;
    const throttleUntil = claimed.throttlePttl > 0 ? now + claimed.throttlePttl : 0;
    const d: ChallengeData = {
      action: c.action,
      id: c.id,
      uid: c.uid,
      settings: tesseraSettings(c.settings),
      hash: null,
      kid: null,
      instance: randomId62(16),
      generation: 1,
      createdAt: Number(c.created),
      ttl: expiresAt === null ? 'never' : Math.max(1, Math.ceil((expiresAt - now) / 1000)),
      throttleUntil,
      metadata: c.metadata,
      verifiedAt: c.verified,
      failures: 0,
      regenerate: c.uid !== null,
    };
    if (claimed.secret !== '') {
      d.hash = digestSecret(hasher, d, 1, claimed.secret);
      d.kid = keyring.activeId;
    }
    const ops: TransactOp[] = [
      {
        type: 'put',
        mode: 'insert',
        record: {
          ...refs.challenge,
          data: d as unknown as JsonObject,
          expiresAt,
          index: d.uid === null ? {} : { uid: d.uid },
        },
      },
    ];
    if (throttleUntil > 0) {
      ops.push({
        type: 'update',
        ref: refs.throttle,
        mutation: { set: { until: throttleUntil }, expiresAt: throttleUntil },
        orCreate: { data: { until: throttleUntil }, expiresAt: throttleUntil },
      });
    }
    const r = await store.transact(ops, now);
    return r.ok;
  }

  return Object.freeze({ adopt });
}
