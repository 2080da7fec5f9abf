/**
 * One attempt at a challenge: the atomic steps behind `verify` and the
 * secret-checking `info`.
 *
 * A plain secret is charged before it is compared: one `transact` takes one
 * attempt from the challenge (`failures < perChallenge`) and one from the
 * (action, id) budget (`failures < perSubject`). Only then is the secret
 * compared (constant time, HMAC digests). A right secret gets both attempts
 * back in the same `transact` that completes the challenge; a wrong one keeps
 * them. So K parallel guesses never get more than the budget evaluated, and
 * the budgets survive `regenerate` and re-creation.
 *
 * A sealed token is authenticated by AES-256-GCM (it cannot be guessed), so it
 * is checked against the stored digest and completed in one conditional step
 * without drawing on the budgets: first without a read (`fast-verify.ts`),
 * and when that does not settle it, by reading the challenge first.
 * @module
 */

import { ConflictError } from '../core/errors.js';
import type { HmacHasher } from '../core/hashing.js';
import { timingSafeEqualStrings } from '../core/hashing.js';
import type { Keyring } from '../core/keyring.js';
import type {
  FieldCondition,
  JsonObject,
  Mutation,
  Store,
  StoredRecord,
  TransactOp,
} from '../stores/contract.js';
import { charge, refundBudget, stampLock } from './budget.js';
import { canVerifyFast, fastVerify } from './fast-verify.js';
import {
  type ChallengeData,
  digestSecret,
  isLive,
  MAX_LOG_ENTRIES,
  type Refs,
  readChallenge,
  toChallenge,
} from './records.js';
import type { TokenPayload } from './sealing.js';
import type { Challenge, VerifiedChallenge, VerifyFailureReason } from './types.js';

/** The resolved attempt budgets. */
export interface Budget {
  readonly perChallenge: number;
  readonly perSubject: number;
  readonly lockSeconds: number;
}

/** What the attempt engine needs. */
export interface AttemptContext {
  readonly store: Store;
  readonly hasher: HmacHasher;
  readonly keyring: Keyring;
  readonly budget: Budget;
}

/** What was presented. */
export type Presented =
  | { readonly kind: 'plain'; readonly secret: string }
  | { readonly kind: 'sealed'; readonly payload: TokenPayload }
  | { readonly kind: 'none' };

/** What the attempt does on success. */
export type AttemptMode =
  | { readonly kind: 'verify'; readonly erase: boolean; readonly log: boolean }
  | { readonly kind: 'info' };

/** Outcome of an attempt. */
export type AttemptOutcome =
  | { readonly ok: true; readonly challenge: VerifiedChallenge | Challenge }
  | {
      readonly ok: false;
      readonly reason: VerifyFailureReason;
      readonly retryAfterSeconds?: number;
    };

const MAX_LOOPS = 8;

function fail(reason: VerifyFailureReason, retry?: number): AttemptOutcome {
  return retry === undefined
    ? { ok: false, reason }
    : { ok: false, reason, retryAfterSeconds: retry };
}

/** Whether `secret` is the secret of generation `generation` of the challenge `d`. */
export function secretMatches(
  ctx: AttemptContext,
  d: ChallengeData,
  generation: number,
  secret: string,
): boolean {
  if (d.hash === null || d.kid === null || !ctx.keyring.ids.includes(d.kid)) return false;
  return timingSafeEqualStrings(digestSecret(ctx.hasher, d, generation, secret, d.kid), d.hash);
}

function sameSecret(d: ChallengeData): FieldCondition[] {
  return [
    d.hash === null ? { field: 'hash', op: 'absent' } : { field: 'hash', op: 'eq', value: d.hash },
    { field: 'instance', op: 'eq', value: d.instance },
  ];
}

/**
 * The change a non-erasing verification makes: stamp the first verification,
 * give back a charged attempt, and keep the attempt log (at most
 * {@link MAX_LOG_ENTRIES} entries; a charged attempt was logged by the charge).
 */
function completionMutation(
  d: ChallengeData,
  now: number,
  first: boolean,
  charged: boolean,
  log: boolean,
): Mutation {
  const set: JsonObject = {};
  if (first) set.verifiedAt = now;
  const entries = d.log ?? [];
  let add: Record<string, string[]> | undefined;
  if (log && !charged) {
    if (entries.length < MAX_LOG_ENTRIES) add = { log: [String(now)] };
    else set.log = [...entries.slice(entries.length - MAX_LOG_ENTRIES + 1), String(now)];
  } else if (entries.length > MAX_LOG_ENTRIES) {
    set.log = entries.slice(entries.length - MAX_LOG_ENTRIES);
  }
  return {
    ...(Object.keys(set).length > 0 ? { set } : {}),
    ...(charged ? { inc: { failures: -1 } } : {}),
    ...(add === undefined ? {} : { add }),
  };
}

/**
 * Run one attempt: charge (plain secrets), compare, and complete atomically.
 *
 * @param ctx - store, hasher, keyring and budgets
 * @param refs - the records of the (action, id)
 * @param presented - what the caller presented
 * @param mode - verify (erase, log) or info
 * @param now - the caller's clock, ms since epoch
 * @throws ConflictError when the challenge kept changing under the attempt
 */
export async function attempt(
  ctx: AttemptContext,
  refs: Refs,
  presented: Presented,
  mode: AttemptMode,
  now: number,
): Promise<AttemptOutcome> {
  if (presented.kind !== 'plain' && canVerifyFast(presented, mode)) {
    const fast = await fastVerify(ctx, refs, presented, mode, now);
    if (fast !== null) return fast;
  }
  const logging = mode.kind === 'verify' && mode.log;
  let charged = false;
  let snapshot: StoredRecord;
  if (presented.kind === 'plain') {
    const c = await charge(ctx, refs, now, logging);
    if (!c.ok) return c.outcome;
    snapshot = c.record;
    charged = true;
    const d = readChallenge(snapshot);
    if (!secretMatches(ctx, d, d.generation, presented.secret)) {
      await stampLock(ctx, refs, c.budget, now);
      return fail('invalid_value');
    }
  } else {
    const current = await ctx.store.get(refs.challenge);
    if (current === null) return fail('not_found');
    if (!isLive(current, now)) return fail('expired');
    const d = readChallenge(current);
    if (presented.kind === 'none') {
      if (d.hash !== null) return fail('secret_required');
    } else {
      const p = presented.payload;
      if (
        p.instance !== d.instance ||
        p.generation !== d.generation ||
        !secretMatches(ctx, d, p.generation, p.secret)
      ) {
        return fail('invalid_value');
      }
    }
    snapshot = current;
  }
  if (mode.kind === 'info' && !charged) return { ok: true, challenge: toChallenge(snapshot) };

  let refundInTransaction = charged;
  for (let loop = 0; loop < MAX_LOOPS; loop++) {
    const d = readChallenge(snapshot);
    const first = d.verifiedAt === null;
    const fields = sameSecret(d);
    const ops: TransactOp[] = [];
    if (mode.kind === 'info') {
      ops.push({
        type: 'update',
        ref: refs.challenge,
        mutation: { inc: { failures: -1 } },
        where: { liveAt: now, fields },
      });
    } else {
      fields.push(
        first
          ? { field: 'verifiedAt', op: 'absent' }
          : { field: 'verifiedAt', op: 'eq', value: d.verifiedAt },
      );
      const where = { liveAt: now, fields };
      if (mode.erase) {
        ops.push({ type: 'delete', ref: refs.challenge, where });
        if (d.throttleUntil > now) {
          ops.push({
            type: 'update',
            ref: refs.throttle,
            mutation: { expiresAt: now },
            orCreate: { data: { until: 0 }, expiresAt: now },
          });
        }
      } else {
        const mutation = completionMutation(d, now, first, charged, mode.log);
        ops.push(
          Object.keys(mutation).length === 0
            ? { type: 'check', ref: refs.challenge, where }
            : { type: 'update', ref: refs.challenge, mutation, where },
        );
      }
    }
    const refundIndex = ops.length;
    if (refundInTransaction) {
      ops.push({
        type: 'update',
        ref: refs.budget,
        mutation: { inc: { failures: -1 } },
        where: { fields: [{ field: 'failures', op: 'gt', value: 0 }] },
      });
    }
    const r = await ctx.store.transact(ops, now);
    if (r.ok) {
      const after = r.records[0] ?? null;
      if (mode.kind === 'info') return { ok: true, challenge: toChallenge(after ?? snapshot) };
      const base = after === null ? snapshot : after;
      const bd = readChallenge(base);
      const view = toChallenge(base, {
        ...bd,
        failures: after === null && charged ? bd.failures - 1 : bd.failures,
        log: after === null && mode.log && !charged ? [...(bd.log ?? []), String(now)] : bd.log,
      });
      return {
        ok: true,
        challenge: Object.freeze({
          ...view,
          verifiedAt: d.verifiedAt ?? now,
          isFirstVerification: first,
        }),
      };
    }
    if (refundInTransaction && r.failedIndex === refundIndex) {
      // The budget record is gone or already at zero: complete without the refund.
      refundInTransaction = false;
      continue;
    }
    const cur = r.current;
    const gone = cur === null || !isLive(cur, now);
    if (gone || readChallenge(cur).instance !== d.instance || readChallenge(cur).hash !== d.hash) {
      if (refundInTransaction && gone) await refundBudget(ctx, refs);
      if (cur === null) return fail('not_found');
      if (!isLive(cur, now)) return fail('expired');
      return fail('invalid_value');
    }
    snapshot = cur;
  }
  throw new ConflictError('The challenge kept changing during verification; retry.');
}
