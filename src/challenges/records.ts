/**
 * The records of the challenges module and their addresses.
 *
 * Per (action, id), three records share one partition, so every state change
 * is one `transact` (or one conditional update) at the store:
 * - `c:<action>:<id>`: the challenge. Its secret is stored only as an
 *   HMAC-SHA-256 digest bound to (action, id, instance, generation); it
 *   carries the uid as a secondary index for lookups by uid.
 * - `t:<action>:<id>`: the throttle window of `create`; live while it blocks.
 * - `f:<action>:<id>`: the failure budget of (action, id); re-creating or
 *   regenerating the challenge never touches it.
 *
 * Parts are encoded with `encodeURIComponent`, so no two (action, id) pairs
 * share a key. Key names hold no secret.
 * @module
 */
import { InvalidInputError, MalformedRecordError } from '../core/errors.js';
import type { HmacHasher } from '../core/hashing.js';
import type { Json, RecordRef, StoredRecord } from '../stores/contract.js';
import { type Challenge, NEVER, type ResolvedSecretSettings, type Ttl } from './types.js';

/** The stored fields of a challenge record. */
export interface ChallengeData {
  action: string;
  id: string;
  uid: string | null;
  settings: ResolvedSecretSettings | false;
  /** HMAC digest of the secret, `null` without a secret. */
  hash: string | null;
  /** Key id of the digest, `null` without a secret. */
  kid: string | null;
  /** Random per `create`: tells one challenge for (action, id) from the next. */
  instance: string;
  generation: number;
  createdAt: number;
  ttl: Ttl;
  /** End of the throttle window this challenge opened, ms since epoch (0 for none). */
  throttleUntil: number;
  metadata?: Json;
  verifiedAt: number | null;
  failures: number;
  regenerate: boolean;
  log?: string[];
}

/** Most attempt times kept per challenge. */
export const MAX_LOG_ENTRIES = 50;

/** The three record addresses of one (action, id). */
export interface Refs {
  readonly challenge: RecordRef;
  readonly throttle: RecordRef;
  readonly budget: RecordRef;
}

/**
 * Addresses of the records of (action, id) in `collection`.
 * @throws InvalidInputError when action and id are too long together
 */
export function refsFor(collection: string, action: string, id: string): Refs {
  const suffix = `${encodeURIComponent(action)}:${encodeURIComponent(id)}`;
  if (suffix.length > 500) {
    throw new InvalidInputError('action and id are too long together', 'id');
  }
  const partition = `p:${suffix}`;
  return {
    challenge: { collection, key: `c:${suffix}`, partition },
    throttle: { collection, key: `t:${suffix}`, partition },
    budget: { collection, key: `f:${suffix}`, partition },
  };
}

/** The digest of a secret, bound to its challenge instance and generation. */
export function digestSecret(
  hasher: HmacHasher,
  d: Pick<ChallengeData, 'action' | 'id' | 'instance'>,
  generation: number,
  secret: string,
  kid?: string,
): string {
  return hasher.digest(
    ['tessera.challenge', d.action, d.id, d.instance, String(generation), secret],
    kid,
  );
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The typed data of a challenge record.
 * @throws MalformedRecordError when the record does not have the shape this module writes
 */
export function readChallenge(record: StoredRecord): ChallengeData {
  const d = record.data as Partial<ChallengeData>;
  if (
    typeof d.action !== 'string' ||
    typeof d.id !== 'string' ||
    (d.uid !== null && typeof d.uid !== 'string') ||
    (d.settings !== false && (typeof d.settings !== 'object' || d.settings === null)) ||
    (d.hash !== null && typeof d.hash !== 'string') ||
    (d.kid !== null && typeof d.kid !== 'string') ||
    typeof d.instance !== 'string' ||
    !isNum(d.generation) ||
    !isNum(d.createdAt) ||
    (d.ttl !== NEVER && !isNum(d.ttl)) ||
    !isNum(d.throttleUntil) ||
    (d.verifiedAt !== null && !isNum(d.verifiedAt)) ||
    !isNum(d.failures) ||
    typeof d.regenerate !== 'boolean' ||
    (d.log !== undefined && !Array.isArray(d.log))
  ) {
    throw new MalformedRecordError('Malformed challenge record.');
  }
  return d as ChallengeData;
}

/** Whether a record is live at `now`. */
export function isLive(record: StoredRecord, now: number): boolean {
  return record.expiresAt === null || record.expiresAt > now;
}

/** The public view of a challenge record (never the digest). */
export function toChallenge(record: StoredRecord, d = readChallenge(record)): Challenge {
  return Object.freeze({
    action: d.action,
    id: d.id,
    uid: d.uid,
    settings: d.settings === false ? false : Object.freeze({ ...d.settings }),
    metadata: Object.hasOwn(d, 'metadata') ? d.metadata : undefined,
    createdAt: d.createdAt,
    expiresAt: record.expiresAt,
    ttl: d.ttl,
    regenerate: d.regenerate,
    generation: d.generation,
    verifiedAt: d.verifiedAt,
    failedAttempts: Math.max(0, d.failures),
    attempts: Object.freeze(
      (d.log ?? [])
        .map(Number)
        .filter(Number.isFinite)
        .sort((a, b) => a - b),
    ),
  });
}
