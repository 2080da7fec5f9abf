/**
 * The attempt budgets of plain secrets: charging one attempt to the challenge
 * and to the (action, id) failure record in one `transact`, stamping the lock
 * when the budget is spent, and giving an attempt back.
 * @module
 */
import { retryAfterSeconds } from '../core/throttle.js';
import type { Mutation, StoredRecord, TransactOp } from '../stores/contract.js';
import type { AttemptContext, AttemptOutcome } from './attempt.js';
import { isLive, type Refs, readChallenge } from './records.js';

const fail = (reason: 'not_found' | 'expired' | 'invalid_value' | 'used_up'): AttemptOutcome => ({
  ok: false,
  reason,
});

function lockedFor(budget: StoredRecord | null, now: number): number {
  const until = budget?.data.lockedUntil;
  if (typeof until === 'number' && until > now) return Math.ceil((until - now) / 1000);
  return retryAfterSeconds(budget, now);
}

/** Charge one attempt to the challenge and to the (action, id) budget. */
export async function charge(
  ctx: AttemptContext,
  refs: Refs,
  now: number,
  log: boolean,
): Promise<
  | { ok: true; record: StoredRecord; budget: StoredRecord | null }
  | { ok: false; outcome: AttemptOutcome }
> {
  const { budget } = ctx;
  const mutation: Mutation = {
    inc: { failures: 1 },
    ...(log ? { add: { log: [String(now)] } } : {}),
  };
  // The (action, id) budget first: a locked subject is reported as such.
  const ops: TransactOp[] = [
    {
      type: 'update',
      ref: refs.budget,
      mutation: { inc: { failures: 1 } },
      where: { fields: [{ field: 'failures', op: 'lt', value: budget.perSubject }] },
      orCreate: {
        data: { failures: 0, lockedUntil: 0 },
        expiresAt: now + budget.lockSeconds * 1000,
      },
    },
    {
      type: 'update',
      ref: refs.challenge,
      mutation,
      where: {
        liveAt: now,
        fields: [
          { field: 'hash', op: 'exists' },
          { field: 'failures', op: 'lt', value: budget.perChallenge },
        ],
      },
    },
  ];
  const r = await ctx.store.transact(ops, now);
  if (r.ok) return { ok: true, record: r.records[1]!, budget: r.records[0] ?? null };
  if (r.failedIndex === 0)
    return {
      ok: false,
      outcome: { ok: false, reason: 'locked', retryAfterSeconds: lockedFor(r.current, now) },
    };
  const cur = r.current;
  if (cur === null) return { ok: false, outcome: fail('not_found') };
  if (!isLive(cur, now)) return { ok: false, outcome: fail('expired') };
  const d = readChallenge(cur);
  if (d.hash === null) return { ok: false, outcome: fail('invalid_value') };
  return { ok: false, outcome: fail('used_up') };
}

/** After a wrong secret spent the (action, id) budget, start the lock (first stamp wins). */
export async function stampLock(
  ctx: AttemptContext,
  refs: Refs,
  budget: StoredRecord | null,
  now: number,
): Promise<void> {
  const failures = budget?.data.failures;
  if (typeof failures !== 'number' || failures < ctx.budget.perSubject) return;
  if (budget?.data.lockedUntil !== 0) return;
  const until = now + ctx.budget.lockSeconds * 1000;
  await ctx.store.update(
    refs.budget,
    { set: { lockedUntil: until }, expiresAt: until },
    {
      where: {
        fields: [
          { field: 'failures', op: 'gte', value: ctx.budget.perSubject },
          { field: 'lockedUntil', op: 'eq', value: 0 },
        ],
      },
    },
  );
}

/** Give back a charged (action, id) attempt outside a transaction (best effort). */
export async function refundBudget(ctx: AttemptContext, refs: Refs): Promise<void> {
  await ctx.store.update(
    refs.budget,
    { inc: { failures: -1 } },
    { where: { fields: [{ field: 'failures', op: 'gt', value: 0 }] } },
  );
}
