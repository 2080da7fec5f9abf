/**
 * Moving a claimed ms-token challenge into a Tessera challenge: the same
 * action, id, uid, settings, metadata, creation and first-verification
 * times, remaining lifetime and throttle window, and the same secret, stored
 * from now on only as the challenges module's HMAC digest. The challenges
 * module writes it (`challenges.import`); this file only maps ms-token's
 * fields to what it takes.
 * @module
 */
import type { Challenges } from '../../../challenges/index.js';
import type { ResolvedSecretSettings, SecretSettings } from '../../../challenges/types.js';
import { MIN_SECRET_SPACE } from '../../../challenges/validate.js';
import { AlreadyExistsError, ExpiredError } from '../../../core/errors.js';
import { MIN_SECRET_LENGTH } from '../schemas.js';
import type { LegacyChallenge } from './record.js';

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
   * wins) or its lifetime ran out meanwhile. Resolves to whether it was written.
   */
  adopt(claimed: Claimed, now: number): Promise<boolean>;
}

/**
 * Settings as Tessera generates from them: at least {@link MIN_SECRET_LENGTH}
 * characters (at most 64), a distinct alphabet, and at least as many possible
 * values as `create` requires (a weaker ms-token alphabet code grows longer;
 * an alphabet of one character becomes digits). They only shape what
 * `regenerate` issues: the secret the user holds stays as it is.
 */
function tesseraSettings(s: ResolvedSecretSettings): SecretSettings {
  if (s.type === 'uuid') return s;
  const length = Math.max(MIN_SECRET_LENGTH, Math.min(64, Math.trunc(s.length) || 8));
  const chars = s.type === 'alphabet' ? [...new Set(Array.from(s.alphabet))] : [];
  if (chars.length < 2) return { type: 'number', length, encrypt: s.encrypt };
  const needed = Math.ceil(Math.log(MIN_SECRET_SPACE) / Math.log(chars.length) - 1e-9);
  return {
    type: 'alphabet',
    alphabet: chars.join(''),
    length: Math.min(256, Math.max(length, needed)),
    encrypt: s.encrypt,
  };
}

/** A time ms-token stored, as an integer (`fallback` when it is not one). */
function timeOf(value: number | string | null, fallback: number): number {
  const n = Math.trunc(Number(value));
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

/**
 * An adopter over the facade's challenges module.
 * @example `await createAdopter(challenges).adopt(claimed, clock.now())`
 */
export function createAdopter(challenges: Challenges): Adopter {
  async function adopt(claimed: Claimed, now: number): Promise<boolean> {
    const c = claimed.challenge;
    const hasSecret = claimed.secret !== '' && c.settings !== false;
    try {
      await challenges.import({
        action: c.action,
        id: c.id,
        secret: hasSecret ? claimed.secret : null,
        ...(hasSecret ? { settings: tesseraSettings(c.settings as ResolvedSecretSettings) } : {}),
        uid: c.uid,
        ...(c.metadata === undefined ? {} : { metadata: c.metadata }),
        createdAt: timeOf(c.created, now),
        expiresAt: claimed.pttl >= 0 ? now + Math.max(1, claimed.pttl) : null,
        verifiedAt: c.verified === null ? null : timeOf(c.verified, now),
        throttleUntil: claimed.throttlePttl > 0 ? now + claimed.throttlePttl : 0,
      });
      return true;
    } catch (err) {
      if (err instanceof AlreadyExistsError || err instanceof ExpiredError) return false;
      throw err;
    }
  }

  return Object.freeze({ adopt });
}
