/**
 * The store records of action tokens: addresses, the stored fields, and the
 * token callers see.
 *
 * One record per (owner, action): key `k:<action>:<owner>` with URI-encoded
 * parts (so `:` never appears inside a part and the key is unambiguous),
 * partition `a:<action>`. Owner and action live in the key only; records
 * written before that also carry them as fields, which readers ignore.
 * @module
 */
import { checkName } from '../core/checks.js';
import { InvalidInputError, MalformedRecordError } from '../core/errors.js';
import type { JsonObject, RecordRef, StoredRecord } from '../stores/contract.js';
import type { ActionToken } from './types.js';

/** The fields of a token record's `data`. */
export interface TokenData {
  readonly valueHash: string;
  readonly kid: string;
  readonly remainingUses: number;
  readonly createdAt: number;
  readonly failures: number;
  readonly lockedUntil: number;
  readonly lookup?: boolean;
  readonly data?: JsonObject;
}

/** Longest record key the store contract accepts. */
const MAX_KEY_LENGTH = 512;
/** Actions whose names are cached at most (a cache, cleared when full). */
const MAX_CACHED_ACTIONS = 1024;
/** 1 at the (ASCII) codes of the characters `encodeURIComponent` leaves as they are. */
const UNRESERVED = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()") {
  UNRESERVED[c.charCodeAt(0)] = 1;
}

/** `encodeURIComponent(s)`, without building a copy when nothing needs escaping. */
function encodePart(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || UNRESERVED[c] === 0) return encodeURIComponent(s);
  }
  return s;
}

/** The addresses derived from one action name. */
export interface ActionNames {
  /** The action, as given. */
  readonly action: string;
  /** `k:<action>:`, the prefix of its token keys. */
  readonly tokenPrefix: string;
  /** `t:<action>:`, the prefix of its throttle keys. */
  readonly throttlePrefix: string;
  /** `a:<action>`: one string shared by every record of the action. */
  readonly partition: string;
}

/** Address helpers bound to one collection. */
export interface TokenAddresses {
  /**
   * Check an action name and return its addresses (cached per action).
   * @throws InvalidInputError for a bad action name
   */
  names(action: unknown): ActionNames;
  /**
   * The token record of (owner, action); the owner must be checked already.
   * @throws InvalidInputError when the key would exceed 512 characters
   */
  tokenRef(names: ActionNames, owner: string): RecordRef;
  /**
   * A throttle window record of the action.
   * @throws InvalidInputError when the key would exceed 512 characters
   */
  throttleRef(names: ActionNames, id: string): RecordRef;
  /** The owner a token record of this action belongs to, or null for another action's key. */
  ownerOf(names: ActionNames, key: string): string | null;
}

/**
 * Create the address helpers of one collection.
 * @example `const at = createTokenAddresses('action'); at.tokenRef(at.names('login'), 'u1').key // 'k:login:u1'`
 */
export function createTokenAddresses(collection: string): TokenAddresses {
  const cache = new Map<string, ActionNames>();
  return {
    names(action) {
      const hit = typeof action === 'string' ? cache.get(action) : undefined;
      if (hit !== undefined) return hit;
      checkName(action, 'action');
      const part = encodePart(action);
      const names: ActionNames = Object.freeze({
        action,
        tokenPrefix: `k:${part}:`,
        throttlePrefix: `t:${part}:`,
        partition: `a:${part}`,
      });
      if (cache.size >= MAX_CACHED_ACTIONS) cache.clear();
      cache.set(action, names);
      return names;
    },
    tokenRef(names, owner) {
      const key = names.tokenPrefix + encodePart(owner);
      if (key.length > MAX_KEY_LENGTH)
        throw new InvalidInputError('owner and action are too long together', 'owner');
      return { collection, key, partition: names.partition };
    },
    throttleRef(names, id) {
      const key = names.throttlePrefix + encodePart(id);
      if (key.length > MAX_KEY_LENGTH)
        throw new InvalidInputError('throttle id and action are too long together', 'throttle.id');
      return { collection, key, partition: names.partition };
    },
    ownerOf(names, key) {
      if (!key.startsWith(names.tokenPrefix)) return null;
      try {
        return decodeURIComponent(key.slice(names.tokenPrefix.length));
      } catch {
        return null;
      }
    },
  };
}

/**
 * The token fields of a record, checked.
 * @throws MalformedRecordError when a field is missing or has the wrong type
 */
export function readTokenData(record: StoredRecord): TokenData {
  const d = record.data as Partial<TokenData>;
  if (
    typeof d.valueHash !== 'string' ||
    typeof d.kid !== 'string' ||
    typeof d.remainingUses !== 'number' ||
    typeof d.createdAt !== 'number' ||
    typeof d.failures !== 'number' ||
    typeof d.lockedUntil !== 'number' ||
    record.expiresAt === null
  ) {
    throw new MalformedRecordError(`Malformed action token record ${record.key}`);
  }
  return d as TokenData;
}

/**
 * The token a caller sees (never the value, never its hash).
 * @throws MalformedRecordError when the record is not a token record
 */
export function toToken(record: StoredRecord, owner: string, action: string): ActionToken {
  const d = readTokenData(record);
  return Object.freeze({
    owner,
    action,
    remainingUses: d.remainingUses,
    createdAt: d.createdAt,
    expiresAt: record.expiresAt as number,
    data: d.data,
    lookup: d.lookup === true,
  });
}
