/**
 * An ms-token challenge as its Redis hash holds it (BEHAVIOUR.md §4.4), and
 * the facade's view of it.
 * @module
 */
import type { ResolvedSecretSettings } from '../../../challenges/types.js';
import { timingSafeEqualStrings } from '../../../core/hashing.js';
import type { Json } from '../../../stores/contract.js';
import type { TokenResponse } from '../responses.js';
import type { LegacyLayout } from './layout.js';
import type { LegacyTarget } from './script.js';

/** The fields of an ms-token challenge hash, typed. */
export interface LegacyChallenge {
  readonly id: string;
  readonly action: string;
  /** The uid, or `null` when created without `regenerate`. */
  readonly uid: string | null;
  /**
   * The `secret` field as stored: the raw secret, `''` without a secret, or
   * (after ms-token's `regenerate` of a sealed challenge) an encrypted token.
   */
  readonly secret: string;
  /** The `created` field as stored (ms since epoch, as a string). */
  readonly created: string;
  readonly settings: ResolvedSecretSettings | false;
  readonly metadata: Json;
  /** First verification time (ms), if any. */
  readonly verified: number | null;
  /** Key names ms-token listed in `related`. */
  readonly related: readonly string[];
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseSettings(text: string | undefined): ResolvedSecretSettings | false {
  const s = parseJson(text) as Record<string, unknown> | undefined;
  if (typeof s !== 'object' || s === null) return false;
  const encrypt = typeof s.encrypt === 'boolean' ? s.encrypt : s.type === 'uuid';
  const length = typeof s.length === 'number' ? s.length : 8;
  if (s.type === 'number') return { type: 'number', length, encrypt };
  if (s.type === 'alphabet' && typeof s.alphabet === 'string') {
    return { type: 'alphabet', alphabet: s.alphabet, length, encrypt };
  }
  return { type: 'uuid', encrypt };
}

/**
 * Whether a hash is the marker a claim leaves while the challenge moves to
 * Tessera (see `script.ts`).
 */
export function isMoving(hash: Record<string, string>): boolean {
  return typeof hash.moving === 'string';
}

/**
 * The challenge a hash holds, or `null` for an empty (missing) or foreign hash.
 * @example `readLegacy(await client.hgetall(layout.idKey(action, id)))`
 */
export function readLegacy(hash: Record<string, string>): LegacyChallenge | null {
  if (isMoving(hash)) return null;
  if (typeof hash.id !== 'string' || typeof hash.action !== 'string') return null;
  if (typeof hash.created !== 'string') return null;
  const related = parseJson(hash.related);
  const metadata = parseJson(hash.metadata);
  const verified = Number(hash.verified);
  return {
    id: hash.id,
    action: hash.action,
    uid: hash.uid ? hash.uid : null,
    secret: hash.secret ?? '',
    created: hash.created,
    settings: hash.secret ? parseSettings(hash.settings) : false,
    metadata: metadata === undefined ? {} : (metadata as Json),
    verified: hash.verified !== undefined && Number.isFinite(verified) ? verified : null,
    related: Array.isArray(related) ? related.filter((k) => typeof k === 'string') : [],
  };
}

/**
 * The keys of a challenge, for the script: the challenge, its throttle
 * window, its uid and secret copies, and whatever ms-token listed as related
 * (after ms-token's own `regenerate`, `related` still names the old secret key).
 */
export function targetOf(layout: LegacyLayout, c: LegacyChallenge): LegacyTarget {
  const others = [...c.related];
  if (c.secret !== '') others.push(layout.secretKey(c.action, c.id, c.secret));
  return {
    idKey: layout.idKey(c.action, c.id),
    throttleKey: layout.throttleKey(c.action, c.id),
    uidKey: c.uid === null ? null : layout.uidKey(c.uid),
    others: others.filter((k) => k.startsWith(layout.prefix)),
    secret: c.secret,
    created: c.created,
  };
}

/**
 * Whether `presented` is the challenge's secret (constant time). After
 * ms-token's `regenerate` of a sealed challenge the stored "secret" is the new
 * encrypted token itself, whose decrypted secret is what a caller presents;
 * `open` decrypts it (`undefined` when it cannot).
 */
export function legacySecretMatches(
  c: LegacyChallenge,
  presented: string,
  open: (token: string) => string | undefined,
): boolean {
  if (c.secret === '') return false;
  if (timingSafeEqualStrings(presented, c.secret)) return true;
  if (c.settings === false || !c.settings.encrypt) return false;
  const inner = open(c.secret);
  return inner !== undefined && timingSafeEqualStrings(presented, inner);
}

/** The secret a caller of a sealed challenge holds (see {@link legacySecretMatches}). */
export function callerSecret(c: LegacyChallenge, open: (token: string) => string | undefined) {
  if (c.secret === '' || c.settings === false || !c.settings.encrypt) return c.secret;
  return open(c.secret) ?? c.secret;
}

/**
 * ms-token's response for a legacy challenge, without internal key names.
 *
 * @param c - the challenge
 * @param secret - the secret the caller presented (else omitted, as for Tessera challenges)
 * @param isFirstVerification - set by `verify` only
 */
export function legacyResponse(
  c: LegacyChallenge,
  secret: string | undefined,
  isFirstVerification?: boolean,
): TokenResponse {
  const known = c.secret === '' ? '' : secret;
  return {
    id: c.id,
    action: c.action,
    uid: c.uid ?? '',
    ...(known === undefined ? {} : { secret: known }),
    created: Number(c.created),
    settings: c.settings === false ? false : { ...c.settings },
    metadata: c.metadata,
    ...(c.verified === null ? {} : { verified: c.verified }),
    ...(isFirstVerification === undefined ? {} : { isFirstVerification }),
  };
}
