/**
 * The facade's operations over Tessera challenges with the fallback to the
 * challenges ms-token itself wrote (`legacy/`): each tries Tessera first; on
 * a miss it turns to ms-token's keys, where the step either completes the
 * operation (as ms-token would) or moves the challenge to Tessera, after
 * which the operation is repeated there.
 * @module
 */
import type { Challenges } from '../../challenges/index.js';
import type { ChallengeLookup, VerifyResult } from '../../challenges/types.js';
import type { Clock } from '../../core/clock.js';
import { isTesseraError } from '../../core/errors.js';
import type { Legacy, LegacyStep } from './legacy/legacy.js';
import { legacyResponse } from './legacy/record.js';
import { fromReason, httpError, type TokenResponse, toResponse } from './responses.js';
import type { RemoveArgs } from './schemas.js';

/** The native module, and the fallback to ms-token's own keys (on an ioredis connection). */
export interface Backend {
  readonly native: Challenges;
  readonly legacy: Legacy | undefined;
  readonly clock: Clock;
}

/** How many times an operation goes back to Tessera after an ms-token challenge moved there. */
const MAX_ROUNDS = 5;

/** Whether a Tessera error says that no live challenge is there. */
function isMiss(err: unknown): boolean {
  return (
    isTesseraError(err) &&
    (err.code === 'ERR_TESSERA_NOT_FOUND' || err.code === 'ERR_TESSERA_EXPIRED')
  );
}

/** Whether a failed verification found no live challenge. */
const missed = (r: VerifyResult) =>
  !r.valid && (r.reason === 'not_found' || r.reason === 'expired');

/**
 * Before the next round: nothing after a move made here, a short growing wait
 * (5, 10, 20... ms) while another caller moves the challenge.
 */
function pause(step: LegacyStep, round: number): Promise<void> {
  if (step.kind !== 'moving') return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, 5 * 2 ** round));
}

/** `info` by lookup: the Tessera challenge, else the ms-token one. */
export async function infoBy(
  { native, legacy }: Backend,
  lookup: ChallengeLookup,
  secret: string | undefined,
): Promise<TokenResponse> {
  for (let round = 0; ; round++) {
    try {
      return toResponse(await native.info(lookup), secret);
    } catch (err) {
      if (legacy === undefined || !isMiss(err) || round >= MAX_ROUNDS) throw err;
      const c = await legacy.find(lookup);
      if (c === null) throw err;
      if (c !== 'moving') return legacyResponse(c, secret);
      await pause({ kind: 'moving' }, round);
    }
  }
}

/** `info` by action, id and the plain secret (a wrong secret draws on the attempt budget). */
export async function infoWithSecret(
  { native, legacy, clock }: Backend,
  action: string,
  id: string,
  token: string,
): Promise<TokenResponse> {
  for (let round = 0; ; round++) {
    try {
      return toResponse(await native.info({ action, id, token }), token);
    } catch (err) {
      if (legacy === undefined || !isMiss(err) || round >= MAX_ROUNDS) throw err;
      const step = await legacy.attempt({ action, id, token }, 'info', clock.now());
      if (step.kind === 'done') return legacyResponse(step.challenge, token);
      if (step.kind !== 'adopted' && step.kind !== 'moving' && step.kind !== 'changed') throw err;
      await pause(step, round);
    }
  }
}

/**
 * `regenerate`: an ms-token challenge is moved into a Tessera challenge
 * first (same uid, metadata and expiry), so its earlier tokens stop working.
 */
export async function regenerate(
  { native, legacy, clock }: Backend,
  lookup: ChallengeLookup,
): Promise<string> {
  for (let round = 0; ; round++) {
    try {
      return (await native.regenerate(lookup)).secret;
    } catch (err) {
      if (legacy === undefined || !isMiss(err) || round >= MAX_ROUNDS) throw err;
      const step = await legacy.claimForRegenerate(lookup, clock.now());
      // As ms-token: a parallel regenerate (or remove) got there between the read and the write.
      if (step.kind === 'changed') throw httpError('409', 'the ms-token challenge changed');
      if (step.kind === 'adopted' && step.uid !== undefined) {
        return (await native.regenerate({ uid: step.uid })).secret;
      }
      if (step.kind !== 'moving') throw err;
      await pause(step, round);
    }
  }
}

/**
 * `verify` (input and options already checked): Tessera, then the ms-token
 * challenge (completed there by an erasing verification with the right
 * secret, else moved to Tessera and verified there).
 */
export async function verify(
  { native, legacy, clock }: Backend,
  input: string | { action: string; id: string; token?: string },
  parsed: { id: string; action: string; token: string | undefined },
  o: { erase: boolean; log: boolean },
): Promise<TokenResponse> {
  const opts = { erase: o.erase, log: o.log };
  let r = await native.tryVerify(input, opts);
  // A sealed Tessera token never names an ms-token challenge.
  if (legacy !== undefined && typeof input !== 'string') {
    const mode = o.erase ? 'verify' : 'verify-keep';
    for (let round = 0; round < MAX_ROUNDS && missed(r); round++) {
      const step = await legacy.attempt(parsed, mode, clock.now());
      if (step.kind === 'done') {
        return legacyResponse(step.challenge, parsed.token, step.first === true);
      }
      if (step.kind === 'secret_required') r = { valid: false, reason: 'secret_required' };
      if (step.kind !== 'adopted' && step.kind !== 'moving' && step.kind !== 'changed') break;
      await pause(step, round);
      r = await native.tryVerify(input, opts);
    }
  }
  if (!r.valid) {
    // Only a challenge without a secret verifies without a token; for anything else the
    // caller gets ms-token's validation error, as ms-token requires the token.
    const absent = r.reason === 'not_found' || r.reason === 'expired';
    throw fromReason(
      absent && parsed.token === undefined ? 'secret_required' : r.reason,
      r.retryAfterSeconds,
    );
  }
  return toResponse(r.challenge, parsed.token, r.challenge.isFirstVerification);
}

/** Remove the Tessera challenge a `remove` target names (checked by `info` first). */
async function removeNative(native: Challenges, target: RemoveArgs): Promise<boolean> {
  if (target.kind === 'uid') {
    const c = await native.info({ uid: target.uid });
    return native.remove({ uid: target.uid }, { generation: c.generation });
  }
  const { action, id, token } = target;
  const c = await native.info(token === undefined ? { action, id } : { action, id, token });
  return native.remove({ action, id }, { generation: c.generation });
}

/** `remove` of a uid or action + id (+ token) target: `'200'`, else `'404'` or `'409'`. */
export async function remove(
  { native, legacy, clock }: Backend,
  target: RemoveArgs,
): Promise<'200'> {
  for (let round = 0; ; round++) {
    try {
      if (!(await removeNative(native, target))) throw httpError('404', 'not removed');
      return '200';
    } catch (err) {
      if (legacy === undefined || !isMiss(err) || round >= MAX_ROUNDS) throw err;
      const now = clock.now();
      const step =
        target.kind === 'uid'
          ? await legacy.remove({ uid: target.uid }, now)
          : target.token === undefined
            ? await legacy.remove({ action: target.action, id: target.id }, now)
            : await legacy.attempt(target, 'remove', now);
      if (step.kind === 'done') return '200';
      // As ms-token: the challenge changed between the read and the delete.
      if (step.kind === 'changed') throw httpError('409', 'the ms-token challenge changed');
      if (step.kind !== 'adopted' && step.kind !== 'moving') throw err;
      await pause(step, round);
    }
  }
}
