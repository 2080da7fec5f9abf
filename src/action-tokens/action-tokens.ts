/**
 * One-time action tokens: email codes, magic links, password resets, OTPs.
 *
 * Each token belongs to an (owner, action) pair, holds a counter of remaining
 * attempts and an absolute expiry, and stores its value only as an HMAC bound
 * to owner and action. A use is one atomic store step that checks expiry, the
 * counter, the value and the failure budget together; a wrong value still
 * costs an attempt, so guessing is bounded.
 * @module
 */
import { type Clock, systemClock } from '../core/clock.js';
import {
  AlreadyExistsError,
  ConflictError,
  ExpiredError,
  InvalidInputError,
  NotFoundError,
  ThrottledError,
  UsedUpError,
} from '../core/errors.js';
import { randomNumericCode, randomSecret } from '../core/random.js';
import { checkThrottleRule, retryAfterSeconds, throttleHitOp } from '../core/throttle.js';
import type {
  JsonObject,
  Mutation,
  RecordInput,
  StoredRecord,
  TransactOp,
} from '../stores/contract.js';
import { estimateEntropyBits, MIN_LOOKUP_BITS } from './entropy.js';
import { createTokenAddresses, toToken } from './records.js';
import type {
  ActionToken,
  ActionTokensOptions,
  CreateInput,
  FailureBudget,
  UseInput,
  UseResult,
} from './types.js';
import { MIN_LOOKUP_VALUE_LENGTH } from './types.js';
import { createUse } from './use.js';
import {
  checkInt,
  checkName,
  checkObject,
  checkOptionalBoolean,
  checkPayload,
  checkValue,
} from './validate.js';
import { createValueHasher } from './value-hash.js';

/** The default failure budget: 10 wrong values per (owner, action), then 15 minutes locked. */
export const DEFAULT_FAILURE_BUDGET: FailureBudget = Object.freeze({
  maxFailures: 10,
  lockSeconds: 900,
});

const MAX_TTL_SECONDS = 31_536_000;

/** The action-tokens API (see {@link createActionTokens}). */
export interface ActionTokens {
  /**
   * Create a token and return it with its value (the only time the value is
   * available in plaintext).
   * @throws AlreadyExistsError (`ERR_TESSERA_ALREADY_EXISTS`) when a live token exists and `overwrite` is false
   * @throws ThrottledError (`ERR_TESSERA_THROTTLED`) when a throttle window is full; `retryAfterSeconds` says for how long
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for bad arguments
   */
  create(input: CreateInput): Promise<{ token: ActionToken; value: string }>;
  /**
   * Use a token: one attempt, right or wrong. Returns the token after the use.
   * @throws NotFoundError, ExpiredError, UsedUpError, InvalidValueError, LockedError
   */
  use(input: UseInput): Promise<ActionToken>;
  /** Like `use`, but returns `{ valid: false, reason }` instead of throwing for a bad token. */
  tryUse(input: UseInput): Promise<UseResult>;
  /**
   * Read a token without using it.
   * @throws NotFoundError, ExpiredError, UsedUpError
   */
  peek(input: { owner: string; action: string }): Promise<ActionToken>;
  /** Delete a token. Resolves to whether one existed. */
  drain(input: { owner: string; action: string }): Promise<boolean>;
}

/**
 * Create the action-tokens API over a store.
 *
 * Defaults (see the README's security notes): values generated as 256-bit
 * secrets, or 8-digit codes with `generate: { kind: 'code' }`; lifetime 10
 * minutes; 5 attempts for codes and 1 for secrets; a valid use drains the
 * token; 10 wrong values per (owner, action) lock it for 15 minutes, across
 * resends.
 *
 * @param options - store, keyring, clock and defaults
 * @throws TypeError / RangeError for bad options
 * @example
 * ```ts
 * const tokens = createActionTokens({ store, keyring });
 * const { value } = await tokens.create({ owner: 'u1', action: 'verify-email', generate: { kind: 'code' } });
 * await tokens.use({ owner: 'u1', action: 'verify-email', value });
 * ```
 */
export function createActionTokens(options: ActionTokensOptions): ActionTokens {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const { store, keyring } = options;
  if (!store || typeof store.update !== 'function')
    throw new TypeError('options.store must be a Store');
  if (!keyring || typeof keyring.deriveKey !== 'function')
    throw new TypeError('options.keyring must be a Keyring');
  const clock: Clock = options.clock ?? systemClock;
  const collection = options.collection ?? 'action';
  const defaultTtl = options.defaultTtlSeconds ?? 600;
  if (!Number.isSafeInteger(defaultTtl) || defaultTtl < 1 || defaultTtl > MAX_TTL_SECONDS) {
    throw new RangeError(`defaultTtlSeconds must be an integer in 1..${MAX_TTL_SECONDS}`);
  }
  const budget =
    options.failureBudget === undefined ? DEFAULT_FAILURE_BUDGET : options.failureBudget;
  if (budget !== false) {
    if (!Number.isSafeInteger(budget.maxFailures) || budget.maxFailures < 1) {
      throw new RangeError('failureBudget.maxFailures must be an integer >= 1');
    }
    if (!Number.isSafeInteger(budget.lockSeconds) || budget.lockSeconds < 1) {
      throw new RangeError('failureBudget.lockSeconds must be an integer >= 1');
    }
  }
  const hasher = createValueHasher(keyring, 'action-tokens');
  const addresses = createTokenAddresses(collection);
  const valueHash = (owner: string, action: string, value: string) =>
    hasher.digest(['action-token', owner, action, value]);
  const lookupHashes = (action: string, value: string) =>
    hasher.digestAll(['action-token-lookup', action, value]);

  async function create(input: CreateInput): Promise<{ token: ActionToken; value: string }> {
    checkObject(input, 'input');
    checkName(input.owner, 'owner');
    const names = addresses.names(input.action);
    checkPayload(input.data);
    checkOptionalBoolean(input.overwrite, 'overwrite');
    checkOptionalBoolean(input.lookup, 'lookup');
    const now = clock.now();

    let value: string;
    let generatedSecret = false;
    let isCode = false;
    if (input.value !== undefined) {
      if (input.generate !== undefined)
        throw new InvalidInputError('give value or generate, not both', 'generate');
      checkValue(input.value);
      value = input.value;
    } else {
      const gen = input.generate ?? { kind: 'secret' };
      checkObject(gen, 'generate');
      if (gen.kind === 'code') {
        const length = gen.length ?? 8;
        checkInt(length, 'generate.length', 4, 64);
        value = randomNumericCode(length);
        isCode = true;
      } else if (gen.kind === 'secret') {
        const bytes = gen.bytes ?? 32;
        checkInt(bytes, 'generate.bytes', 16, 128);
        value = randomSecret(bytes);
        generatedSecret = true;
      } else {
        throw new InvalidInputError("generate.kind must be 'code' or 'secret'", 'generate.kind');
      }
    }

    const remainingUses = input.remainingUses ?? (isCode ? 5 : 1);
    checkInt(remainingUses, 'remainingUses', 1, 1_000_000);
    let expiresAt: number;
    if (input.expiresAt !== undefined) {
      if (input.ttlSeconds !== undefined)
        throw new InvalidInputError('give ttlSeconds or expiresAt, not both', 'expiresAt');
      checkInt(input.expiresAt, 'expiresAt', now + 1, now + MAX_TTL_SECONDS * 1000);
      expiresAt = input.expiresAt;
    } else {
      const ttl = input.ttlSeconds ?? defaultTtl;
      checkInt(ttl, 'ttlSeconds', 1, MAX_TTL_SECONDS);
      expiresAt = now + ttl * 1000;
    }

    const lookup = input.lookup ?? generatedSecret;
    if (lookup && !generatedSecret) {
      const bits = value.length < MIN_LOOKUP_VALUE_LENGTH ? 0 : estimateEntropyBits(value);
      if (bits < MIN_LOOKUP_BITS) {
        throw new InvalidInputError(
          `a value used without its owner must carry >= ${MIN_LOOKUP_BITS} bits: generate a secret, or supply at least ${MIN_LOOKUP_VALUE_LENGTH} random characters of a varied alphabet (${value.length < MIN_LOOKUP_VALUE_LENGTH ? `this one has ${value.length} characters` : `this one is estimated at ${bits} bits`})`,
          'lookup',
        );
      }
    }
    const lookupHash = lookup ? lookupHashes(input.action, value)[0] : undefined;
    if (lookupHash !== undefined) {
      const clash = await store.findByIndex(collection, 'lookup', lookupHash, { limit: 2 });
      const other = (r: StoredRecord) =>
        addresses.ownerOf(names, r.key) !== input.owner && (r.expiresAt ?? 0) > now;
      if (clash.records.some(other)) {
        throw new AlreadyExistsError('Another owner holds a token with this value.');
      }
    }

    const tokenRef = addresses.tokenRef(names, input.owner);
    const hash = valueHash(input.owner, input.action, value);
    const kid = keyring.activeId;
    const index: Record<string, string> = lookupHash === undefined ? {} : { lookup: lookupHash };

    let tokenOp: TransactOp;
    if (input.overwrite === true) {
      const fields: JsonObject = { valueHash: hash, kid, remainingUses, createdAt: now, lookup };
      if (input.data !== undefined) fields.data = input.data;
      const mutation: Mutation = {
        set: fields,
        expiresAt,
        index: { lookup: lookupHash ?? null },
        ...(input.data === undefined ? { unset: ['data'] } : {}),
      };
      tokenOp = {
        type: 'update',
        ref: tokenRef,
        mutation,
        orCreate: { data: { failures: 0, lockedUntil: 0 }, expiresAt, index: {} },
      };
    } else {
      // One literal of one shape, frozen: a store may keep it as it is, without a copy.
      const data: JsonObject =
        input.data === undefined
          ? {
              valueHash: hash,
              kid,
              remainingUses,
              createdAt: now,
              lookup,
              failures: 0,
              lockedUntil: 0,
            }
          : {
              valueHash: hash,
              kid,
              remainingUses,
              createdAt: now,
              lookup,
              failures: 0,
              lockedUntil: 0,
              data: input.data,
            };
      const record: RecordInput = { ...tokenRef, data: Object.freeze(data), expiresAt, index };
      tokenOp = { type: 'put', record, mode: 'insert' };
    }

    const ops: TransactOp[] = [];
    if (input.throttle !== undefined) {
      const t = input.throttle;
      checkObject(t, 'throttle');
      const rules = [
        { id: t.id ?? input.owner, windowSeconds: t.windowSeconds, limit: t.limit },
        ...(t.also ?? []),
      ];
      const seen = new Set<string>();
      for (const rule of rules) {
        checkName(rule.id, 'throttle.id');
        try {
          checkThrottleRule(rule);
        } catch (err) {
          throw new InvalidInputError((err as Error).message, 'throttle');
        }
        if (seen.has(rule.id)) continue;
        seen.add(rule.id);
        ops.push(throttleHitOp(addresses.throttleRef(names, rule.id), rule, now));
      }
    }
    ops.push(tokenOp);

    let record: StoredRecord;
    if (ops.length === 1) {
      if (tokenOp.type === 'put') {
        const r = await store.put(tokenOp.record, { mode: 'insert', now });
        if (!r.ok) throw new AlreadyExistsError('A live token exists for this owner and action.');
        record = r.record;
      } else if (tokenOp.type === 'update') {
        const r = await store.update(tokenRef, tokenOp.mutation, {
          orCreate: tokenOp.orCreate,
          now,
        });
        if (!r.ok) throw new ConflictError();
        record = r.record;
      } else {
        throw new Error('unreachable');
      }
    } else {
      const r = await store.transact(ops, now);
      if (!r.ok) {
        if (r.failedIndex < ops.length - 1) {
          throw new ThrottledError(
            retryAfterSeconds(r.current, now),
            'Too many requests. Try again later.',
          );
        }
        throw new AlreadyExistsError('A live token exists for this owner and action.');
      }
      const last = r.records[r.records.length - 1];
      if (!last) throw new ConflictError();
      record = last;
    }
    return { token: toToken(record, input.owner, input.action), value };
  }

  async function findOwner(action: string, value: string): Promise<string | null> {
    const names = addresses.names(action);
    const now = clock.now();
    const owners = new Set<string>();
    for (const lh of lookupHashes(action, value)) {
      const page = await store.findByIndex(collection, 'lookup', lh, { limit: 2 });
      for (const r of page.records) {
        const owner = addresses.ownerOf(names, r.key);
        if (owner !== null && (r.expiresAt ?? 0) > now) owners.add(owner);
      }
    }
    // Never pick one of several owners: refuse instead.
    return owners.size === 1 ? [...owners][0]! : null;
  }

  const { use, tryUse } = createUse({
    store,
    keyring,
    clock,
    budget,
    addresses,
    hasher,
    findOwner,
  });

  async function peek(input: { owner: string; action: string }): Promise<ActionToken> {
    checkObject(input, 'input');
    checkName(input.owner, 'owner');
    const names = addresses.names(input.action);
    const record = await store.get(addresses.tokenRef(names, input.owner));
    if (record === null) throw new NotFoundError('Token not found.');
    const token = toToken(record, input.owner, input.action);
    if (token.expiresAt <= clock.now()) throw new ExpiredError('Token has expired.');
    if (token.remainingUses <= 0) throw new UsedUpError('Token cannot be used anymore.');
    return token;
  }

  async function drain(input: { owner: string; action: string }): Promise<boolean> {
    checkObject(input, 'input');
    checkName(input.owner, 'owner');
    const r = await store.delete(addresses.tokenRef(addresses.names(input.action), input.owner));
    return r.ok;
  }

  return Object.freeze({ create, use, tryUse, peek, drain });
}
