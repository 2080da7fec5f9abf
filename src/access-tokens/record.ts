/**
 * The stored shape of a token (the `data` of its store record, key = token
 * id, index `owner`) and its checks on every read. Field names are the seed's
 * (`tokenId`, `secretPhc`, `owner`, `isAdmin`, `roles`, `createdAt`,
 * `lastUsedAt`, `revokedAt`, `expiresAt`), with times in ms, plus:
 * - `format`: which token string the current secret belongs to (absent = `legacy`);
 * - `expiresAtBeforeRevoke`: present while revoked, the expiry `restore` brings back;
 * - `previousSecretPhc`, `previousFormat`, `previousSecretExpiresAt`: the secret
 *   replaced by `rotate`, accepted until the overlap ends.
 * @module
 */
import { MalformedRecordError } from '../core/errors.js';
import type { JsonObject, StoredRecord } from '../stores/contract.js';
import { isTokenId } from './format.js';
import type { AccessToken, TokenFormat } from './types.js';
import { isCleanString, MAX_OWNER_LENGTH, MAX_ROLE_LENGTH, MAX_ROLES } from './validate.js';

/** A token as stored, after its checks. */
export interface TokenData {
  tokenId: string;
  owner: string;
  isAdmin: boolean;
  roles: string[];
  secretPhc: string;
  format: TokenFormat;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  expiresAt: number | null;
  /** `undefined` when not recorded (not revoked, or revoked by the seed before a migration). */
  expiresAtBeforeRevoke: number | null | undefined;
  previousSecretPhc: string | null;
  previousFormat: TokenFormat | null;
  previousSecretExpiresAt: number | null;
}

const isTime = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isOptTime = (v: unknown): v is number | null | undefined =>
  v === undefined || v === null || isTime(v);
const isFormat = (v: unknown): v is TokenFormat => v === 'tessera' || v === 'legacy';

/**
 * Read and check a stored token.
 * @throws MalformedRecordError (`ERR_TESSERA_MALFORMED_RECORD`) when the record does not have the
 *   shape this module writes
 */
export function readTokenData(record: StoredRecord): TokenData {
  const d = record.data;
  const fail = (what: string) =>
    new MalformedRecordError(`Malformed access token record ${record.key}: ${what}`);
  if (!isTokenId(d.tokenId) || d.tokenId !== record.key) throw fail('tokenId');
  if (!isCleanString(d.owner, MAX_OWNER_LENGTH)) throw fail('owner');
  if (d.isAdmin !== undefined && typeof d.isAdmin !== 'boolean') throw fail('isAdmin');
  const roles = d.roles ?? [];
  if (
    !Array.isArray(roles) ||
    roles.length > MAX_ROLES ||
    !roles.every((r) => isCleanString(r, MAX_ROLE_LENGTH))
  ) {
    throw fail('roles');
  }
  if (typeof d.secretPhc !== 'string' || d.secretPhc.length === 0) throw fail('secretPhc');
  if (d.format !== undefined && !isFormat(d.format)) throw fail('format');
  if (!isTime(d.createdAt)) throw fail('createdAt');
  for (const f of ['lastUsedAt', 'revokedAt', 'expiresAt', 'previousSecretExpiresAt'] as const) {
    if (!isOptTime(d[f])) throw fail(f);
  }
  if (Object.hasOwn(d, 'expiresAtBeforeRevoke') && !isOptTime(d.expiresAtBeforeRevoke)) {
    throw fail('expiresAtBeforeRevoke');
  }
  const prev = d.previousSecretPhc ?? null;
  if (prev !== null && (typeof prev !== 'string' || prev.length === 0)) {
    throw fail('previousSecretPhc');
  }
  if (d.previousFormat !== undefined && d.previousFormat !== null && !isFormat(d.previousFormat)) {
    throw fail('previousFormat');
  }
  return {
    tokenId: d.tokenId,
    owner: d.owner,
    isAdmin: d.isAdmin === true,
    roles: roles as string[],
    secretPhc: d.secretPhc,
    format: (d.format as TokenFormat | undefined) ?? 'legacy',
    createdAt: d.createdAt,
    lastUsedAt: (d.lastUsedAt as number | null | undefined) ?? null,
    revokedAt: (d.revokedAt as number | null | undefined) ?? null,
    expiresAt: (d.expiresAt as number | null | undefined) ?? null,
    expiresAtBeforeRevoke: Object.hasOwn(d, 'expiresAtBeforeRevoke')
      ? ((d.expiresAtBeforeRevoke as number | null | undefined) ?? null)
      : undefined,
    previousSecretPhc: prev as string | null,
    previousFormat: (d.previousFormat as TokenFormat | null | undefined) ?? null,
    previousSecretExpiresAt: (d.previousSecretExpiresAt as number | null | undefined) ?? null,
  };
}

/** The `data` object to store for a token. */
export function toStoredData(t: TokenData): JsonObject {
  const data: JsonObject = {
    tokenId: t.tokenId,
    owner: t.owner,
    isAdmin: t.isAdmin,
    roles: [...t.roles],
    secretPhc: t.secretPhc,
    format: t.format,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
    expiresAt: t.expiresAt,
    previousSecretPhc: t.previousSecretPhc,
    previousFormat: t.previousFormat,
    previousSecretExpiresAt: t.previousSecretExpiresAt,
  };
  if (t.expiresAtBeforeRevoke !== undefined) data.expiresAtBeforeRevoke = t.expiresAtBeforeRevoke;
  return data;
}

/** The token as callers see it (frozen); `secretPhc` only when asked for. */
export function toAccessToken(t: TokenData, includeSecretPhc = false): AccessToken {
  const out: AccessToken = {
    tokenId: t.tokenId,
    owner: t.owner,
    isAdmin: t.isAdmin,
    roles: Object.freeze([...t.roles]),
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
    expiresAt: t.expiresAt,
    previousSecretExpiresAt: t.previousSecretPhc === null ? null : t.previousSecretExpiresAt,
    ...(includeSecretPhc ? { secretPhc: t.secretPhc } : {}),
  };
  return Object.freeze(out);
}

/**
 * The store-level expiry of a token record: the token's expiry plus the
 * retention, so expired tokens still answer `expired` for a while; `null`
 * (never collected) for tokens without expiry.
 */
export function storeExpiry(t: TokenData, retainMs: number): number | null {
  return t.expiresAt === null ? null : Math.min(t.expiresAt + retainMs, Number.MAX_SAFE_INTEGER);
}
