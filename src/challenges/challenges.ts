/**
 * Challenge tokens (seed 003, ms-token semantics): a challenge per (action,
 * id) with an optional secret, a throttle window on re-creation, regenerate,
 * and verification that reports whether it was the first.
 *
 * What differs from ms-token on purpose: secrets come from the CSPRNG and are
 * stored only as HMAC-SHA-256 digests; sealed tokens use AES-256-GCM with key
 * ids; plain secrets draw on attempt budgets (per challenge, and per (action,
 * id) across regenerate and re-creation); a regenerated secret invalidates
 * every earlier token; `secret: false` challenges verify with action and id;
 * and a challenge that never expires is asked for with `ttl: 'never'`.
 * @module
 */
import { type Clock, systemClock } from '../core/clock.js';
import { SealInvalidError } from '../core/errors.js';
import { createHmacHasher } from '../core/hashing.js';
import {
  type AttemptContext,
  attempt,
  type Budget,
  type Presented,
  secretMatches,
} from './attempt.js';
import { importChallenge } from './import.js';
import { createLookups } from './lookups.js';
import { reasonToError } from './outcomes.js';
import { refsFor } from './records.js';
import { createTokenCodec, looksSealed } from './sealing.js';
import type {
  AttemptBudget,
  Challenge,
  ChallengeLookup,
  ChallengesOptions,
  CreateChallengeInput,
  CreatedChallenge,
  ImportChallengeInput,
  InfoInput,
  RegeneratedChallenge,
  RegenerateOptions,
  RemoveOptions,
  VerifiedChallenge,
  VerifyInput,
  VerifyOptions,
  VerifyResult,
} from './types.js';
import {
  checkInt,
  checkName,
  checkObject,
  checkOptionalBoolean,
  checkToken,
  MAX_TTL_SECONDS,
} from './validate.js';
import { createChallenge, regenerateChallenge, type WriteDeps } from './writes.js';

/** The default attempt budgets: 5 wrong secrets per challenge, 10 per (action, id) per 15 minutes. */
export const DEFAULT_ATTEMPT_BUDGET: Required<AttemptBudget> = Object.freeze({
  perChallenge: 5,
  perSubject: 10,
  lockSeconds: 900,
});

/** The challenges API (see {@link createChallenges}). */
export interface Challenges {
  /**
   * Create a challenge for (action, id), replacing any earlier one (its
   * secret, uid and tokens stop working; the attempt budget of (action, id)
   * carries over). Checked against the throttle window in the same atomic step.
   * @throws ThrottledError (`ERR_TESSERA_THROTTLED`) while a throttle window for (action, id) is open
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for bad arguments (`ttl: 0` included)
   */
  create(input: CreateChallengeInput): Promise<CreatedChallenge>;
  /**
   * Read a challenge without completing it: by uid, by action and id, by
   * sealed token (only while the token is current), or by action, id and the
   * plain secret (a wrong one draws on the attempt budgets).
   * @throws NotFoundError, ExpiredError, InvalidValueError, UsedUpError, LockedError, SealInvalidError, InvalidInputError
   */
  info(input: InfoInput): Promise<Challenge>;
  /**
   * Issue a new secret for a challenge created with `regenerate: true`. The
   * metadata, uid, expiry and attempt counts stay; every earlier secret and
   * sealed token stops working.
   * @throws NotFoundError (also for challenges created without `regenerate`), ExpiredError
   * @throws ConflictError (`ERR_TESSERA_CONFLICT`) when the challenge changed or went away between
   *   the read and the write (a parallel regenerate, verify or remove)
   * @throws ThrottledError with `options.throttle` while a window is open
   */
  regenerate(lookup: ChallengeLookup, options?: RegenerateOptions): Promise<RegeneratedChallenge>;
  /**
   * Complete a challenge.
   * @throws NotFoundError, ExpiredError, InvalidValueError, UsedUpError, LockedError, SealInvalidError,
   *   InvalidInputError (bad arguments, or no `token` for a challenge with a secret)
   */
  verify(input: VerifyInput, options?: VerifyOptions): Promise<VerifiedChallenge>;
  /** Like `verify`, but returns `{ valid: false, reason }` instead of throwing for a failed attempt. */
  tryVerify(input: VerifyInput, options?: VerifyOptions): Promise<VerifyResult>;
  /**
   * Delete a challenge and end its throttle window. Resolves to whether a
   * live challenge was removed (a stale sealed token removes nothing).
   * @throws ConflictError when `options.generation` no longer matches
   */
  remove(input: ChallengeLookup | string, options?: RemoveOptions): Promise<boolean>;
  /**
   * Import an existing challenge whose plain secret is known, e.g. while
   * migrating from another system: its action, id, uid, settings, metadata,
   * creation, expiry and first-verification times and throttle window. The
   * secret is stored only as an HMAC digest, as `create` stores it; the user
   * then completes the challenge with `verify({ action, id, token: secret })`
   * (a plain secret, so wrong ones draw on the attempt budgets), and
   * `regenerate` works for a challenge imported with a uid and a secret.
   * One atomic step: refused while a live challenge exists for (action, id),
   * unless `replace` is set; a throttle window ending later than now is opened
   * (or its end moved) in the same step.
   * @returns the imported challenge (never its secret or digest)
   * @throws AlreadyExistsError (`ERR_TESSERA_ALREADY_EXISTS`) when a live challenge exists and
   *   `replace` is not set
   * @throws ExpiredError (`ERR_TESSERA_EXPIRED`) when `expiresAt` is not after now
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for bad arguments
   * @example
   * ```ts
   * await challenges.import({
   *   action: 'register', id: 'a@example.com', secret: '482913',
   *   settings: { type: 'number', length: 6 }, expiresAt: Date.now() + 600_000,
   * });
   * await challenges.verify({ action: 'register', id: 'a@example.com', token: '482913' });
   * ```
   */
  import(input: ImportChallengeInput): Promise<Challenge>;
}

/**
 * Create the challenges API over a store.
 *
 * Defaults: sealed UUID secrets; lifetime 1 hour (`defaultTtlSeconds`);
 * 5 wrong secrets per challenge; 10 wrong secrets per (action, id) lock it
 * for 15 minutes, across regenerate and re-creation.
 *
 * @param options - store, keyring, clock, attempt budget, default ttl, collection
 * @throws TypeError / RangeError for bad options
 * @example
 * ```ts
 * const challenges = createChallenges({ store, keyring });
 * const { secret } = await challenges.create({ action: 'register', id: 'a@example.com', ttl: 3600, throttle: 60 });
 * const done = await challenges.verify(secret!); // done.isFirstVerification === true
 * ```
 */
export function createChallenges(options: ChallengesOptions): Challenges {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const { store, keyring } = options;
  if (!store || typeof store.transact !== 'function') {
    throw new TypeError('options.store must be a Store');
  }
  if (!keyring || typeof keyring.deriveKey !== 'function') {
    throw new TypeError('options.keyring must be a Keyring');
  }
  const clock: Clock = options.clock ?? systemClock;
  const collection = options.collection ?? 'challenge';
  const defaultTtl = options.defaultTtlSeconds ?? 3600;
  if (!Number.isSafeInteger(defaultTtl) || defaultTtl < 1 || defaultTtl > MAX_TTL_SECONDS) {
    throw new RangeError(`defaultTtlSeconds must be an integer in 1..${MAX_TTL_SECONDS}`);
  }
  const budget: Budget = { ...DEFAULT_ATTEMPT_BUDGET, ...(options.attemptBudget ?? {}) };
  for (const [name, max] of [
    ['perChallenge', 1000],
    ['perSubject', 1_000_000],
    ['lockSeconds', MAX_TTL_SECONDS],
  ] as const) {
    const v = budget[name];
    if (!Number.isSafeInteger(v) || v < 1 || v > max) {
      throw new RangeError(`attemptBudget.${name} must be an integer in 1..${max}`);
    }
  }
  const hasher = createHmacHasher(keyring, 'challenges');
  const codec = createTokenCodec(keyring);
  const ctx: AttemptContext = { store, hasher, keyring, budget };
  const lookups = createLookups(store, collection);

  /** Parse a verify/info input into its records and what was presented. */
  function parseInput(input: unknown): { action: string; id: string; presented: Presented } {
    if (typeof input === 'string') {
      checkToken(input, 'token');
      if (!looksSealed(input)) throw new SealInvalidError('Invalid challenge token.');
      const payload = codec.open(input);
      return { action: payload.action, id: payload.id, presented: { kind: 'sealed', payload } };
    }
    checkObject(input, 'input');
    checkName(input.action, 'action');
    checkName(input.id, 'id');
    if (input.token === undefined) {
      return { action: input.action, id: input.id, presented: { kind: 'none' } };
    }
    checkToken(input.token, 'token');
    return {
      action: input.action,
      id: input.id,
      presented: { kind: 'plain', secret: input.token },
    };
  }

  async function tryVerify(input: VerifyInput, opts: VerifyOptions = {}): Promise<VerifyResult> {
    checkObject(opts, 'options');
    checkOptionalBoolean(opts.erase, 'erase');
    checkOptionalBoolean(opts.log, 'log');
    if (opts.control !== undefined) {
      checkObject(opts.control, 'control');
      if (opts.control.action !== undefined) checkName(opts.control.action, 'control.action');
      if (opts.control.id !== undefined) checkName(opts.control.id, 'control.id');
    }
    let parsed: ReturnType<typeof parseInput>;
    try {
      parsed = parseInput(input);
    } catch (err) {
      if (err instanceof SealInvalidError) return { valid: false, reason: 'invalid_token' };
      throw err;
    }
    const control = opts.control ?? {};
    if (
      (control.action !== undefined && control.action !== parsed.action) ||
      (control.id !== undefined && control.id !== parsed.id)
    ) {
      return { valid: false, reason: 'control_mismatch' };
    }
    const refs = refsFor(collection, parsed.action, parsed.id);
    const mode = { kind: 'verify', erase: opts.erase ?? true, log: opts.log === true } as const;
    const out = await attempt(ctx, refs, parsed.presented, mode, clock.now());
    if (out.ok) return { valid: true, challenge: out.challenge as VerifiedChallenge };
    return out.retryAfterSeconds === undefined
      ? { valid: false, reason: out.reason }
      : { valid: false, reason: out.reason, retryAfterSeconds: out.retryAfterSeconds };
  }

  async function verify(input: VerifyInput, opts?: VerifyOptions): Promise<VerifiedChallenge> {
    const r = await tryVerify(input, opts);
    if (r.valid) return r.challenge;
    throw reasonToError(r.reason, r.retryAfterSeconds);
  }

  async function info(input: InfoInput): Promise<Challenge> {
    const now = clock.now();
    if (typeof input !== 'string') {
      checkObject(input, 'input');
      if ('uid' in input || !('token' in input)) return lookups.find(input, now);
    }
    const parsed = parseInput(input);
    const refs = refsFor(collection, parsed.action, parsed.id);
    const out = await attempt(ctx, refs, parsed.presented, { kind: 'info' }, now);
    if (out.ok) return out.challenge;
    throw reasonToError(out.reason, out.retryAfterSeconds);
  }

  async function remove(
    input: ChallengeLookup | string,
    opts: RemoveOptions = {},
  ): Promise<boolean> {
    checkObject(opts, 'options');
    if (opts.generation !== undefined) checkInt(opts.generation, 'generation', 1, 2 ** 31);
    const now = clock.now();
    if (typeof input === 'string') {
      const { action, id, presented } = parseInput(input);
      if (presented.kind !== 'sealed') return false;
      const p = presented.payload;
      return lookups.remove({ action, id }, now, {
        generation: opts.generation,
        guard: (d) =>
          d.instance === p.instance &&
          d.generation === p.generation &&
          secretMatches(ctx, d, p.generation, p.secret),
      });
    }
    return lookups.remove(input, now, { generation: opts.generation });
  }

  const deps: WriteDeps = { store, keyring, hasher, codec, clock, collection, defaultTtl, lookups };
  const create = (input: CreateChallengeInput) => createChallenge(deps, input);
  const regenerate = (lookup: ChallengeLookup, opts?: RegenerateOptions) =>
    regenerateChallenge(deps, lookup, opts);
  const importOne = (input: ImportChallengeInput) => importChallenge(deps, input);

  return Object.freeze({
    create,
    info,
    regenerate,
    verify,
    tryVerify,
    remove,
    import: importOne,
  });
}
