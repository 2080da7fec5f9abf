/**
 * `use()` and `tryUse()` of action tokens.
 *
 * A right value is one conditional `update`: live at now, `remainingUses > 0`,
 * `valueHash = H(value)`, `failures < max`, and the decrement (or drain), in
 * one atomic store step. Everything constant in that step (the mutation, the
 * conditions but the hash) is built once and frozen, so stores can recognise
 * and skip re-checking it. When the update does not apply, the current record
 * says why, and a wrong value is charged by a second conditional update.
 * @module
 */
import type { Clock } from '../core/clock.js';
import {
  ConflictError,
  ExpiredError,
  InvalidValueError,
  LockedError,
  NotFoundError,
  UsedUpError,
} from '../core/errors.js';
import type { Keyring } from '../core/keyring.js';
import type {
  FieldCondition,
  Mutation,
  RecordRef,
  Store,
  StoredRecord,
  UpdateOptions,
  UpdateResult,
} from '../stores/contract.js';
import { type ActionNames, readTokenData, type TokenAddresses, toToken } from './records.js';
import type { ActionToken, FailureBudget, UseInput, UseResult } from './types.js';
import { checkObject, checkOptionalBoolean, checkOwner, checkValue } from './validate.js';
import type { ValueHasher } from './value-hash.js';

const MAX_ATTEMPT_LOOPS = 8;

/** What `use` needs from the module. */
export interface UseContext {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly budget: FailureBudget | false;
  readonly addresses: TokenAddresses;
  readonly hasher: ValueHasher;
  /** The single owner of a lookup token with this value, or null. */
  findOwner(action: string, value: string): Promise<string | null>;
}

/** The use API. */
export interface UseApi {
  use(input: UseInput): Promise<ActionToken>;
  tryUse(input: UseInput): Promise<UseResult>;
}

const DRAIN: Mutation = Object.freeze({ set: Object.freeze({ remainingUses: 0 }) });
const DECREMENT: Mutation = Object.freeze({ inc: Object.freeze({ remainingUses: -1 }) });
const HAS_USES: FieldCondition = Object.freeze({ field: 'remainingUses', op: 'gt', value: 0 });

function valueHashIs(h: string): FieldCondition {
  return { field: 'valueHash', op: 'eq', value: h };
}

/** Throw the typed error of a failed use. */
function unwrap(r: UseResult): ActionToken {
  if (r.valid) return r.token;
  switch (r.reason) {
    case 'not_found':
      throw new NotFoundError('Token not found.');
    case 'expired':
      throw new ExpiredError('Token has expired.');
    case 'used_up':
      throw new UsedUpError('Token cannot be used anymore.');
    case 'locked':
      throw new LockedError(r.retryAfterSeconds ?? 1, 'Too many failed attempts. Try again later.');
    default:
      throw new InvalidValueError('Token is invalid.');
  }
}

/**
 * Build `use` and `tryUse` over a context.
 * @example `const { use, tryUse } = createUse(ctx);`
 */
export function createUse(ctx: UseContext): UseApi {
  const { store, keyring, clock, budget, addresses, hasher } = ctx;
  const underBudget: FieldCondition | undefined =
    budget === false
      ? undefined
      : Object.freeze({ field: 'failures', op: 'lt', value: budget.maxFailures });
  const tokenDigest = hasher.tagged('action-token');
  const hashOf = (owner: string, action: string, value: string, kid: string) =>
    tokenDigest([owner, action, value], kid);
  const useOptions = (now: number, h: string): UpdateOptions => ({
    where: {
      liveAt: now,
      fields:
        underBudget === undefined
          ? [HAS_USES, valueHashIs(h)]
          : [HAS_USES, valueHashIs(h), underBudget],
    },
  });

  /** Everything after a first update that did not apply. */
  async function settle(
    ref: RecordRef,
    owner: string,
    action: string,
    value: string,
    mutation: Mutation,
    first: UpdateResult,
    firstKid: string,
    firstNow: number,
    firstHash: string,
  ): Promise<UseResult> {
    let r = first;
    let kid = firstKid;
    let now = firstNow;
    let h = firstHash;
    for (let attempt = 1; ; attempt++) {
      if (r.ok) return { valid: true, token: toToken(r.record, owner, action) };
      const cur: StoredRecord | null = r.current;
      if (cur === null) return { valid: false, reason: 'not_found' };
      const d = readTokenData(cur);
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
        // Not stamped yet (a racer is doing it): stamp it; or expired: reset the budget.
        const reset: Mutation =
          d.lockedUntil === 0
            ? { set: { lockedUntil: now + budget.lockSeconds * 1000 } }
            : { set: { failures: 0, lockedUntil: 0 } };
        await store.update(ref, reset, { where: { version: cur.version } });
      } else if (d.kid !== kid && keyring.ids.includes(d.kid)) {
        kid = d.kid;
      } else if (d.valueHash !== h) {
        // Wrong value: it still costs an attempt (and one from the failure budget).
        const charge = await store.update(
          ref,
          { inc: { remainingUses: -1, ...(budget === false ? {} : { failures: 1 }) } },
          {
            where: {
              liveAt: now,
              fields: [HAS_USES, valueHashIs(d.valueHash)],
            },
          },
        );
        if (charge.ok) {
          if (budget !== false) {
            const after = readTokenData(charge.record);
            if (after.failures >= budget.maxFailures && after.lockedUntil <= now) {
              await store.update(
                ref,
                { set: { lockedUntil: now + budget.lockSeconds * 1000 } },
                {
                  where: { fields: [{ field: 'failures', op: 'gte', value: budget.maxFailures }] },
                },
              );
            }
          }
          return { valid: false, reason: 'invalid_value' };
        }
        // The token changed under us: look again.
      }
      // Otherwise the right value lost a race on the counter: look again too.
      if (attempt >= MAX_ATTEMPT_LOOPS) throw new ConflictError();
      now = clock.now();
      h = hashOf(owner, action, value, kid);
      r = await store.update(ref, mutation, useOptions(now, h));
    }
  }

  /** The first update, and whatever follows when it does not apply. */
  function attempt(
    names: ActionNames,
    owner: string,
    value: string,
    mutation: Mutation,
    throwing: boolean,
  ): Promise<UseResult | ActionToken> {
    const action = names.action;
    const ref = addresses.tokenRef(names, owner);
    const kid = keyring.activeId;
    const now = clock.now();
    const h = hashOf(owner, action, value, kid);
    // A plain continuation rather than an async function: the right value costs one
    // promise reaction, not a suspended frame holding every local.
    return store.update(ref, mutation, useOptions(now, h)).then((r) => {
      if (r.ok) {
        const token = toToken(r.record, owner, action);
        return throwing ? token : { valid: true, token };
      }
      return settle(ref, owner, action, value, mutation, r, kid, now, h).then((result) =>
        throwing ? unwrap(result) : result,
      );
    });
  }

  async function consumeByValue(
    names: ActionNames,
    value: string,
    mutation: Mutation,
    throwing: boolean,
  ): Promise<UseResult | ActionToken> {
    const owner = await ctx.findOwner(names.action, value);
    if (owner === null) {
      const missing: UseResult = { valid: false, reason: 'not_found' };
      return throwing ? unwrap(missing) : missing;
    }
    return attempt(names, owner, value, mutation, throwing);
  }

  /** One use; resolves to a token (`throwing`) or a result, and rejects for bad input. */
  function consume(input: UseInput, throwing: boolean): Promise<UseResult | ActionToken> {
    try {
      checkObject(input, 'input');
      const names = addresses.names(input.action);
      const { owner, value, drainWhenValid } = input;
      checkValue(value);
      checkOptionalBoolean(drainWhenValid, 'drainWhenValid');
      const mutation = drainWhenValid === false ? DECREMENT : DRAIN;
      if (owner === undefined) return consumeByValue(names, value, mutation, throwing);
      checkOwner(owner);
      return attempt(names, owner, value, mutation, throwing);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  return {
    use: (input) => consume(input, true) as Promise<ActionToken>,
    tryUse: (input) => consume(input, false) as Promise<UseResult>,
  };
}
