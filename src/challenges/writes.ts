/**
 * The writes that issue secrets: `create` and `regenerate`.
 * @module
 */
import type { Clock } from '../core/clock.js';
import { ConflictError, InvalidInputError, NotFoundError, ThrottledError } from '../core/errors.js';
import type { HmacHasher } from '../core/hashing.js';
import type { Keyring } from '../core/keyring.js';
import { randomUUID } from '../core/random.js';
import { retryAfterSeconds } from '../core/throttle.js';
import type { JsonObject, Store, TransactOp } from '../stores/contract.js';
import type { Lookups } from './lookups.js';
import { type ChallengeData, digestSecret, readChallenge, refsFor } from './records.js';
import type { TokenCodec } from './sealing.js';
import { generateSecret, randomInstance } from './secrets.js';
import type {
  ChallengeLookup,
  CreateChallengeInput,
  CreatedChallenge,
  RegeneratedChallenge,
  RegenerateOptions,
} from './types.js';
import {
  checkInt,
  checkMetadata,
  checkName,
  checkObject,
  checkOptionalBoolean,
  checkTtl,
  MAX_TTL_SECONDS,
  resolveSecretSettings,
  resolveThrottle,
} from './validate.js';

/** What the writes need. */
export interface WriteDeps {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly hasher: HmacHasher;
  readonly codec: TokenCodec;
  readonly clock: Clock;
  readonly collection: string;
  readonly defaultTtl: number;
  readonly lookups: Lookups;
}

const CREATE_KEYS = new Set([
  'action',
  'id',
  'ttl',
  'throttle',
  'metadata',
  'secret',
  'regenerate',
]);

/** What the caller receives: the sealed token, or the plain secret, as the settings say. */
export function sealOrPlain(
  deps: WriteDeps,
  d: ChallengeData,
  generation: number,
  secret: string,
): string {
  if (d.settings === false || !d.settings.encrypt) return secret;
  return deps.codec.seal({
    action: d.action,
    id: d.id,
    uid: d.uid,
    secret,
    instance: d.instance,
    generation,
  });
}

/**
 * `create`: check the input, then write the challenge and take the throttle
 * window in one `transact` (partition of (action, id)).
 * @throws ThrottledError, InvalidInputError
 */
export async function createChallenge(
  deps: WriteDeps,
  input: CreateChallengeInput,
): Promise<CreatedChallenge> {
  const { store, keyring, hasher, collection, clock } = deps;
  checkObject(input, 'input');
  for (const key of Object.keys(input)) {
    if (!CREATE_KEYS.has(key)) throw new InvalidInputError(`unknown option ${key}`, key);
  }
  checkName(input.action, 'action');
  checkName(input.id, 'id');
  const ttl = input.ttl ?? deps.defaultTtl;
  checkTtl(ttl);
  const throttle = resolveThrottle(input.throttle, ttl);
  checkMetadata(input.metadata);
  const settings = resolveSecretSettings(input.secret);
  checkOptionalBoolean(input.regenerate, 'regenerate');
  if (input.regenerate === true && settings === false) {
    throw new InvalidInputError('regenerate needs a secret (secret: false)', 'regenerate');
  }
  const refs = refsFor(collection, input.action, input.id);
  const now = clock.now();
  const expiresAt = ttl === 'never' ? null : now + ttl * 1000;
  const secret = settings === false ? undefined : generateSecret(settings);
  const d: ChallengeData = {
    action: input.action,
    id: input.id,
    uid: input.regenerate === true ? randomUUID() : null,
    settings,
    hash: null,
    kid: null,
    instance: randomInstance(),
    generation: 1,
    createdAt: now,
    ttl,
    throttleUntil: throttle > 0 ? now + throttle * 1000 : 0,
    verifiedAt: null,
    failures: 0,
    regenerate: input.regenerate === true,
  };
  if (input.metadata !== undefined) d.metadata = input.metadata;
  if (secret !== undefined) {
    d.hash = digestSecret(hasher, d, 1, secret);
    d.kid = keyring.activeId;
  }
  const ops: TransactOp[] = [
    throttle > 0
      ? {
          type: 'put',
          mode: 'insert',
          record: {
            ...refs.throttle,
            data: { until: d.throttleUntil },
            expiresAt: d.throttleUntil,
          },
        }
      : { type: 'check', ref: refs.throttle, absent: true },
    {
      type: 'put',
      mode: 'upsert',
      record: {
        ...refs.challenge,
        data: d as unknown as JsonObject,
        expiresAt,
        index: d.uid === null ? {} : { uid: d.uid },
      },
    },
  ];
  const r = await store.transact(ops, now);
  if (!r.ok) {
    throw new ThrottledError(
      retryAfterSeconds(r.current, now),
      'A challenge for this action and id was created recently. Try again later.',
    );
  }
  return Object.freeze({
    action: d.action,
    id: d.id,
    ...(d.uid === null ? {} : { uid: d.uid }),
    ...(secret === undefined ? {} : { secret: sealOrPlain(deps, d, 1, secret) }),
    createdAt: now,
    expiresAt,
  });
}

/**
 * `regenerate`: a new secret and generation, conditional on the generation
 * that was read (and the resend cooldown, when asked for), in one `transact`.
 * @throws NotFoundError, ExpiredError, ConflictError, ThrottledError
 */
export async function regenerateChallenge(
  deps: WriteDeps,
  lookup: ChallengeLookup,
  opts: RegenerateOptions = {},
): Promise<RegeneratedChallenge> {
  const { store, keyring, hasher, collection, clock, lookups } = deps;
  checkObject(opts, 'options');
  if (opts.throttle !== undefined) checkInt(opts.throttle, 'throttle', 1, MAX_TTL_SECONDS);
  const now = clock.now();
  const record = await lookups.findRecord(lookup, now);
  const d = readChallenge(record);
  if (!d.regenerate || d.settings === false || d.uid === null) {
    throw new NotFoundError('No regenerable challenge (create it with regenerate: true).');
  }
  const secret = generateSecret(d.settings);
  const generation = d.generation + 1;
  const refs = refsFor(collection, d.action, d.id);
  const throttleUntil = opts.throttle === undefined ? undefined : now + opts.throttle * 1000;
  const ops: TransactOp[] = [];
  if (throttleUntil !== undefined) {
    ops.push({
      type: 'put',
      mode: 'insert',
      record: { ...refs.throttle, data: { until: throttleUntil }, expiresAt: throttleUntil },
    });
  }
  ops.push({
    type: 'update',
    ref: refs.challenge,
    mutation: {
      set: {
        hash: digestSecret(hasher, d, generation, secret),
        kid: keyring.activeId,
        generation,
        ...(throttleUntil === undefined ? {} : { throttleUntil }),
      },
    },
    where: {
      liveAt: now,
      fields: [
        { field: 'instance', op: 'eq', value: d.instance },
        { field: 'generation', op: 'eq', value: d.generation },
      ],
    },
  });
  const r = await store.transact(ops, now);
  if (!r.ok) {
    if (throttleUntil !== undefined && r.failedIndex === 0) {
      throw new ThrottledError(retryAfterSeconds(r.current, now), 'Try again later.');
    }
    // Read, then gone or changed before the write: a parallel regenerate, verify or remove.
    throw new ConflictError('The challenge changed while regenerating; retry.');
  }
  return Object.freeze({
    action: d.action,
    id: d.id,
    uid: d.uid,
    secret: sealOrPlain(deps, d, generation, secret),
    generation,
  });
}
