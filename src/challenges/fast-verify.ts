/**
 * The one-step verification of a sealed token, or of a challenge without a
 * secret: no read before the write. The conditions that the read-based path
 * checks against a snapshot are the store's conditions here:
 * - live at `now`;
 * - a sealed token: the instance and generation it was issued for, and the
 *   HMAC digest of its secret under the active key id (a digest under an
 *   older key id fails the condition and takes the read-based path);
 * - no secret: the challenge has none.
 *
 * With `erase` the challenge is deleted and the deleted record tells whether
 * this was the first verification; a throttle window the challenge opened is
 * then ended by a second conditional write (only for throttled challenges).
 * Without `erase` the first verification is stamped (`verifiedAt` absent);
 * any later one takes the read-based path, as does `log`.
 *
 * A failed condition is explained from the record the store returns when that
 * settles it (missing, expired); anything else (wrong token, key rotation, an
 * earlier verification) is left to the read-based path, which reports it.
 * @module
 */
import type { FieldCondition } from '../stores/contract.js';
import type { AttemptContext, AttemptMode, AttemptOutcome, Presented } from './attempt.js';
import { digestSecret, isLive, type Refs, readChallenge, toChallenge } from './records.js';

type VerifyMode = Extract<AttemptMode, { kind: 'verify' }>;

/** Whether {@link fastVerify} applies: a sealed token or no secret, and no attempt log. */
export function canVerifyFast(presented: Presented, mode: AttemptMode): mode is VerifyMode {
  return mode.kind === 'verify' && !mode.log && presented.kind !== 'plain';
}

/**
 * Verify in one conditional write.
 * @returns the outcome, or `null` when the read-based path must decide
 */
export async function fastVerify(
  ctx: AttemptContext,
  refs: Refs,
  presented: Exclude<Presented, { kind: 'plain' }>,
  mode: VerifyMode,
  now: number,
): Promise<AttemptOutcome | null> {
  const fields: FieldCondition[] = [];
  if (presented.kind === 'none') {
    fields.push({ field: 'hash', op: 'absent' });
  } else {
    const p = presented.payload;
    fields.push(
      { field: 'instance', op: 'eq', value: p.instance },
      { field: 'generation', op: 'eq', value: p.generation },
      {
        field: 'hash',
        op: 'eq',
        value: digestSecret(
          ctx.hasher,
          { action: p.action, id: p.id, instance: p.instance },
          p.generation,
          p.secret,
        ),
      },
    );
  }
  if (mode.erase) {
    const r = await ctx.store.delete(refs.challenge, { liveAt: now, fields });
    if (!r.ok) return explain(r.current, now);
    const d = readChallenge(r.previous);
    if (d.throttleUntil > now) {
      // The window this challenge opened ends with it (no later window can open while it lasts).
      await ctx.store.update(refs.throttle, { expiresAt: now }, { where: { liveAt: now } });
    }
    return {
      ok: true,
      challenge: Object.freeze({
        ...toChallenge(r.previous, d),
        verifiedAt: d.verifiedAt ?? now,
        isFirstVerification: d.verifiedAt === null,
      }),
    };
  }
  fields.push({ field: 'verifiedAt', op: 'absent' });
  const r = await ctx.store.update(
    refs.challenge,
    { set: { verifiedAt: now } },
    { where: { liveAt: now, fields } },
  );
  if (!r.ok) return explain(r.current, now);
  return {
    ok: true,
    challenge: Object.freeze({
      ...toChallenge(r.record),
      verifiedAt: now,
      isFirstVerification: true,
    }),
  };
}

function explain(current: Parameters<typeof isLive>[0] | null, now: number): AttemptOutcome | null {
  if (current === null) return { ok: false, reason: 'not_found' };
  if (!isLive(current, now)) return { ok: false, reason: 'expired' };
  return null;
}
