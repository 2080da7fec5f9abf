/**
 * `import`: write an existing challenge whose plain secret is known (a
 * migration from another system) in the format `create` writes, so the rest
 * of the module treats it as one of its own.
 * @module
 */
import { AlreadyExistsError, ExpiredError, InvalidInputError } from '../core/errors.js';
import type { JsonObject, StoredRecord, TransactOp } from '../stores/contract.js';
import { type ChallengeData, digestSecret, refsFor, toChallenge } from './records.js';
import { randomInstance } from './secrets.js';
import { type Challenge, type ImportChallengeInput, NEVER, type Ttl } from './types.js';
import {
  checkMetadata,
  checkName,
  checkObject,
  checkOptionalBoolean,
  checkToken,
  MAX_TTL_SECONDS,
  resolveSecretSettings,
} from './validate.js';
import type { WriteDeps } from './writes.js';

const IMPORT_KEYS = new Set([
  'action',
  'id',
  'secret',
  'settings',
  'uid',
  'metadata',
  'createdAt',
  'expiresAt',
  'verifiedAt',
  'throttleUntil',
  'replace',
]);

/** Check a time in ms since epoch. */
function checkTime(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`${field} must be a time in ms since epoch`, field);
  }
}

/** The lifetime an imported challenge reports: creation to expiry, in whole seconds. */
function lifetime(createdAt: number, expiresAt: number | null): Ttl {
  if (expiresAt === null) return NEVER;
  return Math.min(MAX_TTL_SECONDS, Math.max(1, Math.ceil((expiresAt - createdAt) / 1000)));
}

/**
 * Check the input, then write the challenge, and the throttle window when it
 * ends later than now, in one `transact` (partition of (action, id)): an
 * insert that refuses a live challenge, or an upsert with `replace`. The
 * failure budget of (action, id) is left as it is, as `create` leaves it.
 * @throws AlreadyExistsError, ExpiredError, InvalidInputError
 */
export async function importChallenge(
  deps: WriteDeps,
  input: ImportChallengeInput,
): Promise<Challenge> {
  const { store, keyring, hasher, collection, clock } = deps;
  checkObject(input, 'input');
  for (const key of Object.keys(input)) {
    if (!IMPORT_KEYS.has(key)) throw new InvalidInputError(`unknown option ${key}`, key);
  }
  checkName(input.action, 'action');
  checkName(input.id, 'id');
  if (input.secret !== null) checkToken(input.secret, 'secret');
  if (input.secret === null && input.settings !== undefined) {
    throw new InvalidInputError('settings need a secret (secret is null)', 'settings');
  }
  if ((input.settings as unknown) === false || (input.settings as unknown) === true) {
    throw new InvalidInputError('settings must be an object', 'settings');
  }
  const settings = input.secret === null ? false : resolveSecretSettings(input.settings);
  const uid = input.uid ?? null;
  if (uid !== null) checkName(uid, 'uid');
  checkMetadata(input.metadata);
  const now = clock.now();
  const createdAt = input.createdAt ?? now;
  checkTime(createdAt, 'createdAt');
  if (input.expiresAt !== null) checkTime(input.expiresAt, 'expiresAt');
  const verifiedAt = input.verifiedAt ?? null;
  if (verifiedAt !== null) checkTime(verifiedAt, 'verifiedAt');
  const throttleUntil = input.throttleUntil ?? 0;
  checkTime(throttleUntil, 'throttleUntil');
  checkOptionalBoolean(input.replace, 'replace');
  if (input.expiresAt !== null && input.expiresAt <= now) {
    throw new ExpiredError('The challenge to import has already expired.');
  }

  const refs = refsFor(collection, input.action, input.id);
  const d: ChallengeData = {
    action: input.action,
    id: input.id,
    uid,
    settings,
    hash: null,
    kid: null,
    instance: randomInstance(),
    generation: 1,
    createdAt,
    ttl: lifetime(createdAt, input.expiresAt),
    throttleUntil: throttleUntil > now ? throttleUntil : 0,
    verifiedAt,
    failures: 0,
    regenerate: uid !== null && settings !== false,
  };
  if (input.metadata !== undefined) d.metadata = input.metadata;
  if (input.secret !== null) {
    d.hash = digestSecret(hasher, d, 1, input.secret);
    d.kid = keyring.activeId;
  }
  const ops: TransactOp[] = [
    {
      type: 'put',
      mode: input.replace === true ? 'upsert' : 'insert',
      record: {
        ...refs.challenge,
        data: d as unknown as JsonObject,
        expiresAt: input.expiresAt,
        index: uid === null ? {} : { uid },
      },
    },
  ];
  if (d.throttleUntil > 0) {
    ops.push({
      type: 'update',
      ref: refs.throttle,
      mutation: { set: { until: d.throttleUntil }, expiresAt: d.throttleUntil },
      orCreate: { data: { until: d.throttleUntil }, expiresAt: d.throttleUntil },
    });
  }
  const r = await store.transact(ops, now);
  if (!r.ok) {
    throw new AlreadyExistsError('A live challenge exists for this action and id.');
  }
  return toChallenge(r.records[0] as StoredRecord, d);
}
