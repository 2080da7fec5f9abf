/**
 * The action-token family of the model-based tests: create (a supplied code,
 * a generated link that can be used by value, a value another owner holds,
 * throttled per owner and per client, overwrite), use (right or wrong, by
 * owner or by value alone, drained or not), peek, drain and expiry, with the
 * failure budget on (small, so it is reached and its lock passes).
 */
import fc from 'fast-check';
import { createActionTokens } from '../../../../src/action-tokens/index.js';
import { createFakeClock } from '../../../../src/core/clock.js';
import { randomSuffix, testKeyring } from '../../../../src/testing/index.js';
import { codeOf, compare, type ModelFamily, OWNERS, T0 } from './harness.js';

const ACTIONS = ['login', 'reset'] as const;
/** The failure budget: 3 wrong values per (owner, action), then 60 s locked. */
const BUDGET = { maxFailures: 3, lockSeconds: 60 } as const;
/** Creation throttle: 2 per owner per 60 s, and 3 per client (`ip`) per 30 s, per action. */
const OWNER_RULE = { windowSeconds: 60, limit: 2 } as const;
const IP_RULE = { id: 'ip', windowSeconds: 30, limit: 3 } as const;

/** One action-token command. */
export type ActionOp =
  | {
      t: 'create';
      o: number;
      a: number;
      uses: number;
      ttl: number;
      overwrite: boolean;
      /** `code`: a supplied short value; `link`: a generated secret (usable by value); `steal`: the other owner's value, usable by value. */
      v: 'code' | 'link' | 'steal';
      throttled: boolean;
    }
  | { t: 'use'; o: number; a: number; right: boolean; drain: boolean; byValue: boolean }
  | { t: 'peek'; o: number; a: number }
  | { t: 'drain'; o: number; a: number }
  | { t: 'tick'; s: number };

const owner = fc.nat(1);
const action = fc.nat(1);

const op: fc.Arbitrary<ActionOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('create' as const),
      o: owner,
      a: action,
      uses: fc.integer({ min: 1, max: 5 }),
      ttl: fc.integer({ min: 1, max: 90 }),
      overwrite: fc.boolean(),
      v: fc.constantFrom('code' as const, 'link' as const, 'steal' as const),
      throttled: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('use' as const),
      o: owner,
      a: action,
      right: fc.boolean(),
      drain: fc.boolean(),
      byValue: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('peek' as const), o: owner, a: action }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drain' as const), o: owner, a: action }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 60 }) }),
  },
);

const create = (
  o: number,
  a: number,
  more: Partial<Extract<ActionOp, { t: 'create' }>> = {},
): ActionOp => ({
  t: 'create',
  o,
  a,
  uses: 5,
  ttl: 90,
  overwrite: false,
  v: 'code',
  throttled: false,
  ...more,
});
const use = (
  o: number,
  a: number,
  more: Partial<Extract<ActionOp, { t: 'use' }>> = {},
): ActionOp => ({
  t: 'use',
  o,
  a,
  right: true,
  drain: false,
  byValue: false,
  ...more,
});
const tick = (s: number): ActionOp => ({ t: 'tick', s });

/** Hand-written sequences: the budget and its lock, use by value, a stolen value, the throttles. */
const examples: ActionOp[][] = [
  [
    create(0, 0),
    use(0, 0, { right: false }),
    use(0, 0, { right: false }),
    use(0, 0, { right: false }),
    use(0, 0),
    create(0, 0, { overwrite: true }),
    use(0, 0),
    { t: 'peek', o: 0, a: 0 },
    tick(30),
    tick(31),
    use(0, 0),
    use(0, 0, { drain: true }),
    { t: 'peek', o: 0, a: 0 },
    use(0, 0),
  ],
  [
    create(0, 1, { v: 'link', uses: 2, ttl: 60 }),
    create(1, 1, { v: 'steal', uses: 1, ttl: 60 }),
    use(0, 1, { byValue: true }),
    use(1, 1, { byValue: true, right: false }),
    tick(60),
    use(0, 1, { byValue: true }),
    create(1, 1, { v: 'steal', uses: 1, ttl: 60 }),
    use(0, 1, { byValue: true, drain: true }),
    use(1, 1, { byValue: true }),
    { t: 'drain', o: 1, a: 1 },
    { t: 'drain', o: 1, a: 1 },
    { t: 'peek', o: 1, a: 1 },
  ],
  [
    create(0, 0, { throttled: true, overwrite: true }),
    create(0, 0, { throttled: true, overwrite: true }),
    create(0, 0, { throttled: true, overwrite: true }),
    create(1, 0, { throttled: true }),
    create(1, 0, { throttled: true, overwrite: true }),
    tick(31),
    create(0, 0, { throttled: true, overwrite: true }),
    create(1, 0, { throttled: true }),
    create(1, 0, { throttled: true, overwrite: true }),
    create(1, 1, { throttled: true, v: 'link' }),
  ],
];

/** The model's token: what the store should hold for one (owner, action). */
interface Tok {
  value: string;
  lookup: boolean;
  left: number;
  exp: number;
  failures: number;
  lockedUntil: number;
}

export const actionTokensFamily: ModelFamily<ActionOp> = {
  key: 'actionTokens',
  title:
    'action tokens behave like the model: create (code, link, a value held by another owner, throttled, overwrite), use by owner or by value, failure budget and lock, peek, drain, expiry',
  commands: [
    'create:code',
    'create:link',
    'create:steal',
    'create:throttled',
    'create:overwrite',
    'use:owner',
    'use:by-value',
    'use:wrong',
    'use:drain',
    'peek',
    'drain',
    'tick',
  ],
  labels(o) {
    if (o.t === 'create')
      return [
        `create:${o.v}`,
        ...(o.throttled ? ['create:throttled'] : []),
        ...(o.overwrite ? ['create:overwrite'] : []),
      ];
    if (o.t === 'use')
      return [
        o.byValue ? 'use:by-value' : 'use:owner',
        ...(o.right ? [] : ['use:wrong']),
        ...(o.drain ? ['use:drain'] : []),
      ];
    return [o.t];
  },
  op,
  examples,
  async run(store, issued, seq, onStep) {
    const clock = createFakeClock(T0);
    const tokens = createActionTokens({
      store,
      keyring: testKeyring(),
      clock,
      failureBudget: BUDGET,
      collection: `m${randomSuffix(6)}`,
    });
    const run = randomSuffix(3);
    const ownerName = (o: number) => `${OWNERS[o]}-${run}`;
    const key = (o: number, a: number) => `${o}/${a}`;
    let n = 0;
    /** What the real side knows of each (owner, action): the last value created. */
    const known = new Map<string, { value: string; lookup: boolean }>();
    /** The value presented by the real side of the current step (read by the model). */
    let presented: string | undefined;

    const m = new Map<string, Tok>();
    const windows = new Map<string, { count: number; exp: number }>();

    await compare(
      seq,
      async (op) => {
        if (op.t === 'tick') {
          clock.advance(op.s * 1000);
          return null;
        }
        const ownerId = ownerName(op.o);
        const act = ACTIONS[op.a] as string;
        const k = key(op.o, op.a);
        try {
          if (op.t === 'create') {
            let value: string | undefined;
            if (op.v === 'code') value = `c${n++}-${randomSuffix(4)}`;
            else if (op.v === 'steal') {
              const other = known.get(key(1 - op.o, op.a));
              value = other?.lookup === true ? other.value : `s${n++}-${randomSuffix(16)}`;
            }
            presented = value;
            if (value !== undefined) issued.add('action token value', value);
            const r = await tokens.create({
              owner: ownerId,
              action: act,
              ...(value === undefined ? {} : { value }),
              ...(op.v === 'steal' ? { lookup: true } : {}),
              remainingUses: op.uses,
              ttlSeconds: op.ttl,
              overwrite: op.overwrite,
              ...(op.throttled ? { throttle: { ...OWNER_RULE, also: [IP_RULE] } } : {}),
            });
            presented = r.value;
            issued.add('action token value', r.value);
            known.set(k, { value: r.value, lookup: r.token.lookup });
            return `${r.token.remainingUses}:${r.token.lookup}`;
          }
          if (op.t === 'use') {
            const mine = known.get(k)?.value;
            const value = op.byValue
              ? op.right && mine !== undefined
                ? mine
                : `w${randomSuffix(16)}`
              : op.right
                ? (mine ?? 'never-created')
                : 'wrong-value';
            presented = value;
            const r = await tokens.tryUse({
              ...(op.byValue ? {} : { owner: ownerId }),
              action: act,
              value,
              drainWhenValid: op.drain,
            });
            if (r.valid) return `valid:${r.token.remainingUses}`;
            return r.reason === 'locked' ? `locked:${r.retryAfterSeconds}` : r.reason;
          }
          if (op.t === 'peek')
            return (await tokens.peek({ owner: ownerId, action: act })).remainingUses;
          known.delete(k);
          return await tokens.drain({ owner: ownerId, action: act });
        } catch (err) {
          const retry = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
          return retry === undefined ? codeOf(err) : `${codeOf(err)}:${retry}`;
        }
      },
      (op) => {
        if (op.t === 'tick') return null;
        const now = clock.now();
        const k = key(op.o, op.a);
        const liveTok = (x: string) => {
          const t = m.get(x);
          return t !== undefined && t.exp > now ? t : undefined;
        };
        if (op.t === 'create') {
          const lookup = op.v !== 'code';
          if (lookup) {
            const other = liveTok(key(1 - op.o, op.a));
            if (other?.lookup === true && other.value === presented)
              return 'ERR_TESSERA_ALREADY_EXISTS';
          }
          const rules = [
            { id: `o${op.o}`, ...OWNER_RULE },
            { ...IP_RULE, id: 'ip' },
          ];
          if (op.throttled) {
            for (const rule of rules) {
              const w = windows.get(`${op.a}/${rule.id}`);
              if (w !== undefined && w.exp > now && w.count >= rule.limit)
                return `ERR_TESSERA_THROTTLED:${Math.max(1, Math.ceil((w.exp - now) / 1000))}`;
            }
          }
          const live = liveTok(k);
          if (live !== undefined && !op.overwrite) return 'ERR_TESSERA_ALREADY_EXISTS';
          if (op.throttled) {
            for (const rule of rules) {
              const wk = `${op.a}/${rule.id}`;
              const w = windows.get(wk);
              if (w !== undefined && w.exp > now) w.count += 1;
              else windows.set(wk, { count: 1, exp: now + rule.windowSeconds * 1000 });
            }
          }
          const keep = op.overwrite ? live : undefined;
          m.set(k, {
            value: presented as string,
            lookup,
            left: op.uses,
            exp: now + op.ttl * 1000,
            failures: keep?.failures ?? 0,
            lockedUntil: keep?.lockedUntil ?? 0,
          });
          return `${op.uses}:${lookup}`;
        }
        if (op.t === 'use') {
          let target = k;
          if (op.byValue) {
            const holders = [0, 1].filter((o) => {
              const t = liveTok(key(o, op.a));
              return t?.lookup === true && t.value === presented;
            });
            if (holders.length !== 1) return 'not_found';
            target = key(holders[0] as number, op.a);
          }
          const t = m.get(target);
          if (t === undefined) return 'not_found';
          if (t.exp <= now) return 'expired';
          if (t.left <= 0) return 'used_up';
          while (t.failures >= BUDGET.maxFailures) {
            if (t.lockedUntil > now)
              return `locked:${Math.max(1, Math.ceil((t.lockedUntil - now) / 1000))}`;
            if (t.lockedUntil === 0) t.lockedUntil = now + BUDGET.lockSeconds * 1000;
            else {
              t.failures = 0;
              t.lockedUntil = 0;
            }
          }
          if (t.value === presented) {
            t.left = op.drain ? 0 : t.left - 1;
            return `valid:${t.left}`;
          }
          t.left -= 1;
          t.failures += 1;
          if (t.failures >= BUDGET.maxFailures && t.lockedUntil <= now)
            t.lockedUntil = now + BUDGET.lockSeconds * 1000;
          return 'invalid_value';
        }
        if (op.t === 'peek') {
          const t = m.get(k);
          if (t === undefined) return 'ERR_TESSERA_NOT_FOUND';
          if (t.exp <= now) return 'ERR_TESSERA_EXPIRED';
          if (t.left <= 0) return 'ERR_TESSERA_USED_UP';
          return t.left;
        }
        const had = m.has(k);
        m.delete(k);
        return had;
      },
      onStep,
    );
  },
};
