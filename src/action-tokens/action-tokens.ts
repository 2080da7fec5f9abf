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
  InvalidValueError,
  LockedError,
  MalformedRecordError,
  NotFoundError,
  ThrottledError,
  UsedUpError,
} from '../core/errors.js';
import { createHmacHasher } from '../core/hashing.js';
import { randomNumericCode, randomSecret } from '../core/random.js';
import { checkThrottleRule, retryAfterSeconds, throttleHitOp } from '../core/throttle.js';
import type {
  JsonObject,
  Mutation,
  RecordInput,
  RecordRef,
  StoredRecord,
  TransactOp,
  Where,
} from '../stores/contract.js';
import type {
  ActionToken,
  ActionTokensOptions,
  CreateInput,
  FailureBudget,
  UseInput,
  UseResult,
} from './types.js';
import { MIN_LOOKUP_VALUE_LENGTH } from './types.js';
import {
  checkInt,
  checkName,
  checkObject,
  checkOptionalBoolean,
  checkPayload,
  checkValue,
} from './validate.js';

/** The default failure budget: 10 wrong values per (owner, action), then 15 minutes locked. */
export const DEFAULT_FAILURE_BUDGET: FailureBudget = Object.freeze({
  maxFailures: 10,
  lockSeconds: 900,
});

const MAX_TTL_SECONDS = 31_536_000;
const MAX_ATTEMPT_LOOPS = 8;

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

interface TokenData {
  owner: string;
  action: string;
  valueHash: string;
  kid: string;
  remainingUses: number;
  createdAt: number;
  failures: number;
  lockedUntil: number;
  lookup: boolean;
  data?: JsonObject;
}

function part(s: string): string {
  return encodeURIComponent(s);
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
  const hasher = createHmacHasher(keyring, 'action-tokens');

  const ref = (owner: string, action: string): RecordRef => {
    const key = `k:${part(action)}:${part(owner)}`;
    if (key.length > 512)
      throw new InvalidInputError('owner and action are too long together', 'owner');
    return { collection, key, partition: `a:${part(action)}` };
  };
  const throttleRef = (action: string, id: string): RecordRef => {
    const key = `t:${part(action)}:${part(id)}`;
    if (key.length > 512)
      throw new InvalidInputError('throttle id and action are too long together', 'throttle.id');
    return { collection, key, partition: `a:${part(action)}` };
  };
  const valueHash = (owner: string, action: string, value: string, kid?: string) =>
    hasher.digest(['action-token', owner, action, value], kid);
  const lookupHashes = (action: string, value: string) =>
    hasher.digestAll(['action-token-lookup', action, value]);

  function readData(record: StoredRecord): TokenData {
    const d = record.data as Partial<TokenData>;
    if (
      typeof d.owner !== 'string' ||
      typeof d.action !== 'string' ||
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

  function toToken(record: StoredRecord): ActionToken {
    const d = readData(record);
    return Object.freeze({
      owner: d.owner,
      action: d.action,
      remainingUses: d.remainingUses,
      createdAt: d.createdAt,
      expiresAt: record.expiresAt as number,
      data: d.data,
      lookup: d.lookup === true,
    });
  }

  async function create(input: CreateInput): Promise<{ token: ActionToken; value: string }> {
    checkObject(input, 'input');
    checkName(input.owner, 'owner');
    checkName(input.action, 'action');
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
    if (lookup && !generatedSecret && value.length < MIN_LOOKUP_VALUE_LENGTH) {
      throw new InvalidInputError(
        `a value used without its owner must carry >= 112 bits: generate a secret, or supply at least ${MIN_LOOKUP_VALUE_LENGTH} random characters`,
        'lookup',
      );
    }
    const lookupHash = lookup ? lookupHashes(input.action, value)[0] : undefined;
    if (lookupHash !== undefined) {
      const clash = await store.findByIndex(collection, 'lookup', lookupHash, { limit: 2 });
      if (clash.records.some((r) => r.data.owner !== input.owner && (r.expiresAt ?? 0) > now)) {
        throw new AlreadyExistsError('Another owner holds a token with this value.');
      }
    }

    const tokenRef = ref(input.owner, input.action);
    const fields: JsonObject = {
      owner: input.owner,
      action: input.action,
      valueHash: valueHash(input.owner, input.action, value),
      kid: keyring.activeId,
      remainingUses,
      createdAt: now,
      lookup,
    };
    if (input.data !== undefined) fields.data = input.data;
    const index: Record<string, string> = lookupHash === undefined ? {} : { lookup: lookupHash };

    let tokenOp: TransactOp;
    if (input.overwrite === true) {
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
      const record: RecordInput = {
        ...tokenRef,
        data: { ...fields, failures: 0, lockedUntil: 0 },
        expiresAt,
        index,
      };
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
        ops.push(throttleHitOp(throttleRef(input.action, rule.id), rule, now));
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
    return { token: toToken(record), value };
  }

  async function findOwner(action: string, value: string): Promise<string | null> {
    const now = clock.now();
    const owners = new Set<string>();
    for (const lh of lookupHashes(action, value)) {
      const page = await store.findByIndex(collection, 'lookup', lh, { limit: 2 });
      for (const r of page.records) {
        if (
          r.data.action === action &&
          typeof r.data.owner === 'string' &&
          (r.expiresAt ?? 0) > now
        ) {
          owners.add(r.data.owner);
        }
      }
    }
    // Never pick one of several owners: refuse instead.
    return owners.size === 1 ? [...owners][0]! : null;
  }

  async function tryUse(input: UseInput): Promise<UseResult> {
    checkObject(input, 'input');
    checkName(input.action, 'action');
    checkValue(input.value);
    checkOptionalBoolean(input.drainWhenValid, 'drainWhenValid');
    let owner = input.owner;
    if (owner === undefined) {
      owner = (await findOwner(input.action, input.value)) ?? undefined;
      if (owner === undefined) return { valid: false, reason: 'not_found' };
    } else {
      checkName(owner, 'owner');
    }
    const tokenRef = ref(owner, input.action);
    const drain = input.drainWhenValid ?? true;
    const mutation: Mutation = drain
      ? { set: { remainingUses: 0 } }
      : { inc: { remainingUses: -1 } };
    let kid = keyring.activeId;
    for (let attempt = 0; attempt < MAX_ATTEMPT_LOOPS; attempt++) {
      const now = clock.now();
      const h = valueHash(owner, input.action, input.value, kid);
      const fields: Where['fields'] = [
        { field: 'remainingUses', op: 'gt', value: 0 },
        { field: 'valueHash', op: 'eq', value: h },
        ...(budget === false
          ? []
          : [{ field: 'failures', op: 'lt' as const, value: budget.maxFailures }]),
      ];
      const r = await store.update(tokenRef, mutation, { where: { liveAt: now, fields } });
      if (r.ok) return { valid: true, token: toToken(r.record) };
      const cur = r.current;
      if (cur === null) return { valid: false, reason: 'not_found' };
      const d = readData(cur);
      if ((cur.expiresAt as number) <= now) return { valid: false, reason: 'expired' };
      if (d.remainingUses <= 0) return { valid: false, reason: 'used_up' };
      if (budget !== false && d.failures >= budget.maxFailures) {
        if (d.lockedUntil > now) {
          return {
            valid: false,
            reason: 'locked',
            retryAfterSeconds: Math.max(1, Math.ceil((d.lockedUntil - now) / 1000)),
          };
        }
        if (d.lockedUntil === 0) {
          // The lock was not stamped yet (a racer is doing it): stamp it now.
          await store.update(
            tokenRef,
            { set: { lockedUntil: now + budget.lockSeconds * 1000 } },
            {
              where: { version: cur.version },
            },
          );
        } else {
          await store.update(
            tokenRef,
            { set: { failures: 0, lockedUntil: 0 } },
            { where: { version: cur.version } },
          );
        }
        continue;
      }
      if (d.kid !== kid && keyring.ids.includes(d.kid)) {
        kid = d.kid;
        continue;
      }
      if (d.valueHash === h) continue; // lost a race on the counter: look again
      // Wrong value: it still costs an attempt (and one from the failure budget).
      const charge = await store.update(
        tokenRef,
        { inc: { remainingUses: -1, ...(budget === false ? {} : { failures: 1 }) } },
        {
          where: {
            liveAt: now,
            fields: [
              { field: 'remainingUses', op: 'gt', value: 0 },
              { field: 'valueHash', op: 'eq', value: d.valueHash },
            ],
          },
        },
      );
      if (!charge.ok) continue; // the token changed under us: look again
      if (budget !== false) {
        const after = readData(charge.record);
        if (after.failures >= budget.maxFailures && after.lockedUntil <= now) {
          await store.update(
            tokenRef,
            { set: { lockedUntil: now + budget.lockSeconds * 1000 } },
            { where: { fields: [{ field: 'failures', op: 'gte', value: budget.maxFailures }] } },
          );
        }
      }
      return { valid: false, reason: 'invalid_value' };
    }
    throw new ConflictError();
  }

  async function use(input: UseInput): Promise<ActionToken> {
    const r = await tryUse(input);
    if (r.valid) return r.token;
    switch (r.reason) {
      case 'not_found':
        throw new NotFoundError('Token not found.');
      case 'expired':
        throw new ExpiredError('Token has expired.');
      case 'used_up':
        throw new UsedUpError('Token cannot be used anymore.');
      case 'locked':
        throw new LockedError(
          r.retryAfterSeconds ?? 1,
          'Too many failed attempts. Try again later.',
        );
      default:
        throw new InvalidValueError('Token is invalid.');
    }
  }

  async function peek(input: { owner: string; action: string }): Promise<ActionToken> {
    checkObject(input, 'input');
    checkName(input.owner, 'owner');
    checkName(input.action, 'action');
    const record = await store.get(ref(input.owner, input.action));
    if (record === null) throw new NotFoundError('Token not found.');
    const token = toToken(record);
    if (token.expiresAt <= clock.now()) throw new ExpiredError('Token has expired.');
    if (token.remainingUses <= 0) throw new UsedUpError('Token cannot be used anymore.');
    return token;
  }

  async function drain(input: { owner: string; action: string }): Promise<boolean> {
    checkObject(input, 'input');
    checkName(input.owner, 'owner');
    checkName(input.action, 'action');
    const r = await store.delete(ref(input.owner, input.action));
    return r.ok;
  }

  return Object.freeze({ create, use, tryUse, peek, drain });
}
