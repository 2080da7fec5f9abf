/**
 * What `verify` needs from a token record, worked out once per record
 * version: the record's checks ({@link readTokenData}), its PHC strings
 * parsed for the fast checks, and the frozen token callers see.
 *
 * Stores that hand out the same deeply frozen `data` object until the next
 * write (the memory store does) get this cached per data object: a frozen
 * object cannot change, so its checks and parsed hashes stay right; a hit is
 * used only for the same record key and version, so nothing is trusted
 * across versions; and the cache is weak, so it never outlives the data it
 * describes. Data that is not deeply frozen (every networked store returns
 * fresh objects per read) is prepared on each read.
 * @module
 */
import type { JsonObject, StoredRecord } from '../stores/contract.js';
import { type PreparedPhc, preparePhc } from './phc.js';
import { readTokenData, type TokenData, toAccessToken } from './record.js';
import type { AccessToken, VerifyResult } from './types.js';

/** A checked token record, ready to verify secrets against. */
export interface PreparedToken {
  /** The store record key and version this was made from. */
  readonly key: string;
  readonly version: number;
  readonly data: TokenData;
  /** The current secret's PHC string, parsed. */
  readonly current: PreparedPhc;
  /** The secret `rotate` replaced, parsed; `null` when there is none. */
  readonly previous: PreparedPhc | null;
  /** The token as callers see it (frozen, without its hash). */
  readonly view: AccessToken;
  /** `{ valid: true, record: view }`, frozen. */
  readonly valid: VerifyResult;
}

function make(record: StoredRecord): PreparedToken {
  const data = readTokenData(record);
  const view = toAccessToken(data);
  return Object.freeze({
    key: record.key,
    version: record.version,
    data,
    current: preparePhc(data.secretPhc),
    previous: data.previousSecretPhc === null ? null : preparePhc(data.previousSecretPhc),
    view,
    valid: Object.freeze({ valid: true, record: view }),
  });
}

/** Whether nothing this module reads from `data` can change any more. */
function isDeeplyFrozen(data: JsonObject): boolean {
  if (!Object.isFrozen(data)) return false;
  const roles = data.roles;
  return roles === undefined || roles === null || Object.isFrozen(roles);
}

/**
 * Create a preparer with its own cache.
 *
 * @returns `prepare(record)`: the prepared token of `record`
 * @throws MalformedRecordError (`ERR_TESSERA_MALFORMED_RECORD`) from `prepare` when the record
 *   does not have the shape this module writes (never cached: it throws on every read)
 * @example
 * ```ts
 * const prepare = createPreparer();
 * const token = prepare(record); // cached while the store returns the same frozen data
 * ```
 */
export function createPreparer(): (record: StoredRecord) => PreparedToken {
  const byData = new WeakMap<JsonObject, PreparedToken>();
  return (record) => {
    const hit = byData.get(record.data);
    if (hit !== undefined && hit.version === record.version && hit.key === record.key) return hit;
    const prepared = make(record);
    if (isDeeplyFrozen(record.data)) byData.set(record.data, prepared);
    return prepared;
  };
}
