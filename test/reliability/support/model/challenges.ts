/**
 * The challenge family of the model-based tests: create (a plain code or a
 * sealed token, regenerable or not, with or without a throttle window),
 * verify (the current secret, a stale one from an earlier generation or
 * challenge, a wrong code, a tampered token), regenerate (by uid or by action
 * and id, with or without a resend cooldown), remove and expiry, with both
 * attempt budgets small enough to be reached and their lock to pass.
 */
import fc from 'fast-check';
import { createChallenges } from '../../../../src/challenges/index.js';
import { createFakeClock } from '../../../../src/core/clock.js';
import { randomSuffix, testKeyring } from '../../../../src/testing/index.js';
import { codeOf, compare, type ModelFamily, OWNERS, T0 } from './harness.js';

/** Attempt budgets: 3 wrong codes per challenge, 4 per (action, id) within a 90 s window/lock. */
const BUDGET = { perChallenge: 3, perSubject: 4, lockSeconds: 90 } as const;
/** A create's throttle window (capped by its ttl), and a regenerate's resend cooldown, seconds. */
const CREATE_THROTTLE = 15;
const COOLDOWN = 20;
const ACTION = 'otp';

/** One challenge command (`s`: the subject, i.e. the id). */
export type ChallengeOp =
  | { t: 'create'; s: number; ttl: number; sealed: boolean; regen: boolean; thr: boolean }
  | { t: 'verify'; s: number; which: 'right' | 'stale' | 'wrong' }
  | { t: 'regenerate'; s: number; byUid: boolean; oldUid: boolean; cooldown: boolean }
  | { t: 'remove'; s: number }
  | { t: 'tick'; s: number };

const subject = fc.nat(1);

const op: fc.Arbitrary<ChallengeOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('create' as const),
      s: subject,
      ttl: fc.integer({ min: 1, max: 90 }),
      sealed: fc.boolean(),
      regen: fc.boolean(),
      thr: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('verify' as const),
      s: subject,
      which: fc.constantFrom('right' as const, 'stale' as const, 'wrong' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('regenerate' as const),
      s: subject,
      byUid: fc.boolean(),
      oldUid: fc.boolean(),
      cooldown: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remove' as const), s: subject }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 60 }) }),
  },
);

const create = (
  s: number,
  more: Partial<Extract<ChallengeOp, { t: 'create' }>> = {},
): ChallengeOp => ({ t: 'create', s, ttl: 90, sealed: false, regen: true, thr: false, ...more });
const verify = (s: number, which: 'right' | 'stale' | 'wrong' = 'right'): ChallengeOp => ({
  t: 'verify',
  s,
  which,
});
const regenerate = (
  s: number,
  more: Partial<Extract<ChallengeOp, { t: 'regenerate' }>> = {},
): ChallengeOp => ({ t: 'regenerate', s, byUid: true, oldUid: false, cooldown: false, ...more });
const tick = (s: number): ChallengeOp => ({ t: 'tick', s });

/** Hand-written sequences: both budgets and the lock; regenerate; sealed tokens; throttles. */
const examples: ChallengeOp[][] = [
  [
    create(0),
    verify(0, 'wrong'),
    verify(0, 'wrong'),
    verify(0, 'wrong'),
    verify(0),
    create(0),
    verify(0, 'stale'),
    verify(0),
    create(0),
    verify(0),
    tick(60),
    tick(31),
    create(0),
    verify(0, 'wrong'),
    verify(0),
  ],
  [
    create(1, { regen: true }),
    regenerate(1),
    verify(1, 'stale'),
    regenerate(1, { byUid: false, cooldown: true }),
    regenerate(1),
    regenerate(1, { cooldown: true }),
    create(1, { regen: false }),
    tick(21),
    create(1, { regen: false }),
    regenerate(1, { byUid: false }),
    regenerate(1),
    create(1, { sealed: true, thr: true }),
    regenerate(1, { oldUid: true }),
    regenerate(1),
    verify(1, 'wrong'),
    verify(1, 'stale'),
    create(1),
    verify(1),
    create(1),
    { t: 'remove', s: 1 },
    create(1, { thr: true, ttl: 10 }),
    { t: 'remove', s: 1 },
    { t: 'remove', s: 1 },
    create(1, { sealed: true, ttl: 5 }),
    tick(5),
    verify(1),
    regenerate(1),
    { t: 'remove', s: 1 },
  ],
];

/** The model's challenge record. */
interface Challenge {
  exp: number;
  wrong: number;
  regen: boolean;
  uid: string | null;
  /** Starts at 1; +1 per regenerate. */
  gen: number;
  /** The secret as presented (a plain code or a sealed token) of the current generation. */
  secret: string;
  throttleUntil: number;
}

export const challengesFamily: ModelFamily<ChallengeOp> = {
  key: 'challenges',
  title:
    'challenges behave like the model: create (plain or sealed, regenerable, throttled), verify (right, stale, wrong, tampered), both attempt budgets and the lock, regenerate by uid or by action and id with a cooldown, remove, expiry',
  commands: [
    'create:plain',
    'create:sealed',
    'create:throttled',
    'verify:right',
    'verify:stale',
    'verify:wrong',
    'regenerate:uid',
    'regenerate:old-uid',
    'regenerate:action-id',
    'regenerate:cooldown',
    'remove',
    'tick',
  ],
  labels(o) {
    if (o.t === 'create')
      return [o.sealed ? 'create:sealed' : 'create:plain', ...(o.thr ? ['create:throttled'] : [])];
    if (o.t === 'verify') return [`verify:${o.which}`];
    if (o.t === 'regenerate')
      return [
        o.byUid ? (o.oldUid ? 'regenerate:old-uid' : 'regenerate:uid') : 'regenerate:action-id',
        ...(o.cooldown ? ['regenerate:cooldown'] : []),
      ];
    return [o.t];
  },
  op,
  examples,
  async run(store, issued, seq, onStep) {
    const clock = createFakeClock(T0);
    const challenges = createChallenges({
      store,
      keyring: testKeyring(),
      clock,
      attemptBudget: BUDGET,
      collection: `c${randomSuffix(6)}`,
    });
    const run = randomSuffix(3);
    const idOf = (s: number) => `${OWNERS[s]}-${run}`;
    /** What the real side knows per subject: every secret issued (last is current), every uid. */
    const known = [0, 1].map(() => ({ secrets: [] as string[], uids: [] as string[] }));
    /** What the real side of the step presented (a secret or uid), read by the model. */
    let presented: { kind: 'plain' | 'sealed' | 'tampered'; secret: string } | null = null;
    let presentedUid: string | null = null;
    const sealedLike = (x: string) => x.startsWith('v1.');
    const tamper = (x: string) => {
      const at = Math.floor(x.length * 0.75);
      const c = x[at] === 'A' ? 'B' : 'A';
      return `${x.slice(0, at)}${c}${x.slice(at + 1)}`;
    };

    const m = new Map<number, Challenge>();
    const budgets = new Map<number, { failures: number; exp: number; lockedUntil: number }>();
    /** Throttle windows per subject (create throttles and regenerate cooldowns). */
    const windows = new Map<number, number>();

    await compare(
      seq,
      async (op) => {
        if (op.t === 'tick') {
          clock.advance(op.s * 1000);
          return null;
        }
        const id = idOf(op.s);
        const k = known[op.s] as (typeof known)[number];
        try {
          if (op.t === 'create') {
            const r = await challenges.create({
              action: ACTION,
              id,
              ttl: op.ttl,
              secret: { type: 'number', length: 8, encrypt: op.sealed },
              regenerate: op.regen,
              ...(op.thr ? { throttle: Math.min(CREATE_THROTTLE, op.ttl) } : {}),
            });
            k.secrets.push(r.secret as string);
            if (r.uid !== undefined) k.uids.push(r.uid);
            presentedUid = r.uid ?? null;
            presented = { kind: op.sealed ? 'sealed' : 'plain', secret: r.secret as string };
            issued.add('challenge secret', r.secret);
            return `created:${r.expiresAt}`;
          }
          if (op.t === 'verify') {
            const current = k.secrets[k.secrets.length - 1];
            let secret: string | undefined =
              op.which === 'stale' ? k.secrets.findLast((x) => x !== current) : current;
            let kind: 'plain' | 'sealed' | 'tampered' =
              secret !== undefined && sealedLike(secret) ? 'sealed' : 'plain';
            if (op.which === 'wrong' || secret === undefined) {
              if (current !== undefined && sealedLike(current)) {
                secret = tamper(current);
                kind = 'tampered';
              } else {
                secret = current === '00000000' ? '00000001' : '00000000';
                kind = 'plain';
              }
            }
            presented = { kind, secret };
            const r = await challenges.tryVerify(
              kind === 'plain' ? { action: ACTION, id, token: secret } : secret,
            );
            if (r.valid) return `valid:${r.challenge.isFirstVerification}`;
            return r.reason === 'locked' ? `locked:${r.retryAfterSeconds}` : r.reason;
          }
          if (op.t === 'regenerate') {
            const uid = op.oldUid ? k.uids[k.uids.length - 2] : k.uids[k.uids.length - 1];
            presentedUid = op.byUid && uid !== undefined ? uid : null;
            const r = await challenges.regenerate(
              presentedUid === null ? { action: ACTION, id } : { uid: presentedUid },
              op.cooldown ? { throttle: COOLDOWN } : {},
            );
            k.secrets.push(r.secret);
            presented = { kind: sealedLike(r.secret) ? 'sealed' : 'plain', secret: r.secret };
            issued.add('regenerated challenge secret', r.secret);
            return `regenerated:${r.generation}`;
          }
          return await challenges.remove({ action: ACTION, id });
        } catch (err) {
          const retry = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
          return retry === undefined ? codeOf(err) : `${codeOf(err)}:${retry}`;
        }
      },
      (op) => {
        if (op.t === 'tick') return null;
        const now = clock.now();
        const c = m.get(op.s);
        const live = c !== undefined && c.exp > now ? c : undefined;
        const window = windows.get(op.s);
        const throttled = window !== undefined && window > now;
        const retry = (until: number) => Math.max(1, Math.ceil((until - now) / 1000));
        const endWindow = (ch: Challenge) => {
          if (ch.throttleUntil > now) windows.set(op.s, now);
        };
        if (op.t === 'create') {
          if (throttled) return `ERR_TESSERA_THROTTLED:${retry(window)}`;
          const throttle = op.thr ? Math.min(CREATE_THROTTLE, op.ttl) : 0;
          if (throttle > 0) windows.set(op.s, now + throttle * 1000);
          m.set(op.s, {
            exp: now + op.ttl * 1000,
            wrong: 0,
            regen: op.regen,
            uid: op.regen ? presentedUid : null,
            gen: 1,
            secret: (presented as { secret: string }).secret,
            throttleUntil: throttle > 0 ? now + throttle * 1000 : 0,
          });
          return `created:${now + op.ttl * 1000}`;
        }
        if (op.t === 'verify') {
          const p = presented as { kind: 'plain' | 'sealed' | 'tampered'; secret: string };
          if (p.kind === 'tampered') return 'invalid_token';
          if (p.kind === 'sealed') {
            // Sealed tokens cannot be guessed: no budget, no attempt count.
            if (c === undefined) return 'not_found';
            if (live === undefined) return 'expired';
            if (p.secret !== live.secret) return 'invalid_value';
            endWindow(live);
            m.delete(op.s);
            return 'valid:true';
          }
          // A plain code: charged to the (action, id) budget and the challenge first.
          let b = budgets.get(op.s);
          if (b === undefined || b.exp <= now)
            b = { failures: 0, exp: now + BUDGET.lockSeconds * 1000, lockedUntil: 0 };
          if (b.failures >= BUDGET.perSubject)
            return `locked:${b.lockedUntil > now ? Math.ceil((b.lockedUntil - now) / 1000) : retry(b.exp)}`;
          if (c === undefined) return 'not_found';
          if (live === undefined) return 'expired';
          if (live.wrong >= BUDGET.perChallenge) return 'used_up';
          b.failures += 1;
          live.wrong += 1;
          budgets.set(op.s, b);
          if (p.secret !== live.secret) {
            if (b.failures >= BUDGET.perSubject && b.lockedUntil === 0) {
              b.lockedUntil = now + BUDGET.lockSeconds * 1000;
              b.exp = b.lockedUntil;
            }
            return 'invalid_value';
          }
          b.failures -= 1;
          endWindow(live);
          m.delete(op.s);
          return 'valid:true';
        }
        if (op.t === 'regenerate') {
          const found = presentedUid === null ? c : c?.uid === presentedUid ? c : undefined;
          if (found === undefined) return 'ERR_TESSERA_NOT_FOUND';
          if (found.exp <= now) return 'ERR_TESSERA_EXPIRED';
          if (!found.regen) return 'ERR_TESSERA_NOT_FOUND';
          if (op.cooldown) {
            if (throttled) return `ERR_TESSERA_THROTTLED:${retry(window)}`;
            windows.set(op.s, now + COOLDOWN * 1000);
            found.throttleUntil = now + COOLDOWN * 1000;
          }
          found.secret = (presented as { secret: string }).secret;
          found.gen += 1;
          return `regenerated:${found.gen}`;
        }
        if (live === undefined) return false;
        endWindow(live);
        m.delete(op.s);
        return true;
      },
      onStep,
    );
  },
};
