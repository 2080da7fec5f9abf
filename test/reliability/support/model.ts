/**
 * Model-based property tests: for each credential family, fast-check draws
 * random sequences of operations (and clock moves, on a fake clock), runs them
 * against the real module on a store and against a tiny reference model, and
 * requires the same observable result at every step. After every sequence,
 * every collection the module touched is listed from the store and scanned for
 * the values, tokens and secrets the sequence issued (plain, hex, base64): zero
 * hits. Wire it per backend with {@link defineModelSuite}.
 */
import fc from 'fast-check';
import { createAccessTokens } from '../../../src/access-tokens/index.js';
import { createActionTokens } from '../../../src/action-tokens/index.js';
import { createChallenges } from '../../../src/challenges/index.js';
import { createFakeClock } from '../../../src/core/clock.js';
import { createSessions } from '../../../src/sessions/index.js';
import type { Store } from '../../../src/stores/contract.js';
import { randomSuffix, testKeyring } from '../../../src/testing/index.js';
import { recordFigures } from './figures.js';
import { type LeakHit, SecretLog, scanForLeaks } from './leaks.js';

/** Options of {@link defineModelSuite}. */
export interface ModelSuiteOptions {
  readonly name: string;
  readonly runner: {
    describe(name: string, fn: () => void): void;
    it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  };
  /** A migrated store whose data cannot collide with another call's (fresh or prefixed). */
  readonly createStore: () => Promise<Store> | Store;
  /** Sequences per family (default 25). */
  readonly numRuns?: number;
  /** Longest sequence (default 25). */
  readonly maxOps?: number;
  /** Per-test timeout, ms (default 60000). */
  readonly timeoutMs?: number;
}

const OWNERS = ['ann', 'bob'];
const ACTIONS = ['login', 'reset'];

type Outcome = unknown;

/** Run one drawn sequence on the real module and the model; throw at the first difference. */
async function compare<Op>(
  ops: readonly Op[],
  real: (op: Op) => Promise<Outcome>,
  model: (op: Op) => Outcome,
): Promise<void> {
  for (const [i, op] of ops.entries()) {
    const got = await real(op);
    const want = model(op);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(
        `step ${i} ${JSON.stringify(op)}: real ${JSON.stringify(got)} != model ${JSON.stringify(want)}\nsequence: ${JSON.stringify(ops)}`,
      );
    }
  }
}

/** Add every `collection` named in a store call's arguments to `used`. */
function noteCollections(x: unknown, used: Set<string>, depth = 0): void {
  if (depth > 3 || x === null || typeof x !== 'object') return;
  if (Array.isArray(x)) {
    for (const v of x) noteCollections(v, used, depth + 1);
    return;
  }
  const o = x as Record<string, unknown>;
  if (typeof o.collection === 'string') used.add(o.collection);
  for (const k of ['record', 'ref'] as const) noteCollections(o[k], used, depth + 1);
}

/** `store`, recording in `used` every collection a call addresses. */
function recordingStore(store: Store, used: Set<string>): Store {
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if ((prop === 'list' || prop === 'findByIndex') && typeof args[0] === 'string')
          used.add(args[0]);
        else noteCollections(args[0], used);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Every record of `collection`, one JSON line each (keys, data, index values). */
async function dumpCollection(store: Store, collection: string): Promise<string> {
  const lines: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.list(collection, { limit: 1000, cursor });
    for (const r of page.records) lines.push(JSON.stringify(r));
    cursor = page.cursor;
  } while (cursor !== null);
  return lines.join('\n');
}

const codeOf = (err: unknown) => (err as { code?: string }).code ?? String(err);

/** Define the model-based tests of every family on one backend. */
export function defineModelSuite(options: ModelSuiteOptions): void {
  const { describe, it } = options.runner;
  const numRuns = options.numRuns ?? 25;
  const maxOps = options.maxOps ?? 25;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ops: Record<string, number> = {};
  const count = (family: string, n: number) => {
    ops[family] = (ops[family] ?? 0) + n;
  };
  const leaks = {
    secrets: 0,
    forms: 0,
    places: 0,
    bytes: 0,
    hits: 0,
    hitDetails: [] as LeakHit[],
    collections: new Set<string>(),
    ms: 0,
  };
  const record = () =>
    recordFigures(`model-${options.name}`, {
      backend: options.name,
      numRuns,
      maxOps,
      ops,
      leaks: {
        file: 'model.test.ts',
        backend: options.name,
        secrets: leaks.secrets,
        forms: leaks.forms,
        places: leaks.places,
        bytes: leaks.bytes,
        hits: leaks.hits,
        hitDetails: leaks.hitDetails.slice(0, 20),
        dumpAndScanMs: Math.round(leaks.ms),
        collections: [
          ...new Set([...leaks.collections].map((c) => c.replace(/[0-9a-f]{6}$/, '*'))),
        ],
      },
    });

  /**
   * Run `fn` on a fresh store; then list every collection it touched and scan
   * the records for every secret `fn` put in `issued` (throws on a hit).
   */
  async function withFreshStore(
    fn: (store: Store, issued: SecretLog) => Promise<void>,
  ): Promise<void> {
    const raw = await options.createStore();
    const used = new Set<string>();
    const issued = new SecretLog();
    try {
      await fn(recordingStore(raw, used), issued);
      const t0 = performance.now();
      const places: Array<{ where: string; text: string }> = [];
      for (const c of used)
        places.push({ where: `collection ${c}`, text: await dumpCollection(raw, c) });
      const result = scanForLeaks(issued, places);
      leaks.secrets += result.checked;
      leaks.forms += result.forms;
      leaks.places += places.length;
      leaks.bytes += places.reduce((n, p) => n + p.text.length, 0);
      leaks.hits += result.hits.length;
      leaks.hitDetails.push(...result.hits);
      for (const c of used) leaks.collections.add(c);
      leaks.ms += performance.now() - t0;
      if (result.hits.length > 0)
        throw new Error(`leak: ${JSON.stringify(result.hits)} in ${options.name} store records`);
    } finally {
      await raw.close();
    }
  }

  describe(`model-based properties: ${options.name}`, () => {
    // ---------------------------------------------------------------- action tokens
    const actionOp = fc.oneof(
      fc.record({
        t: fc.constant('create' as const),
        o: fc.nat(1),
        a: fc.nat(1),
        uses: fc.integer({ min: 1, max: 3 }),
        ttl: fc.integer({ min: 1, max: 90 }),
        overwrite: fc.boolean(),
      }),
      fc.record({
        t: fc.constant('use' as const),
        o: fc.nat(1),
        a: fc.nat(1),
        right: fc.boolean(),
        drain: fc.boolean(),
      }),
      fc.record({ t: fc.constant('peek' as const), o: fc.nat(1), a: fc.nat(1) }),
      fc.record({ t: fc.constant('drain' as const), o: fc.nat(1), a: fc.nat(1) }),
      fc.record({ t: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 60 }) }),
    );
    it(
      'action tokens behave like the model: create, use, peek, drain, expiry',
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(actionOp, { maxLength: maxOps, size: 'max' }), async (seq) => {
            count('actionTokens', seq.length);
            await withFreshStore(async (store, issued) => {
              const clock = createFakeClock(1_700_000_000_000);
              const tokens = createActionTokens({
                store,
                keyring: testKeyring(),
                clock,
                failureBudget: false,
                collection: `m${randomSuffix(3)}`,
              });
              const run = randomSuffix(3);
              let n = 0;
              const m = new Map<string, { value: string; left: number; exp: number }>();
              const key = (o: number, a: number) => `${o}/${a}`;
              const live = (k: string) => {
                const t = m.get(k);
                return t !== undefined && t.exp > clock.now() ? t : undefined;
              };
              const values = new Map<string, string>();
              await compare(
                seq,
                async (op) => {
                  if (op.t === 'tick') {
                    clock.advance(op.s * 1000);
                    return null;
                  }
                  const owner = `${OWNERS[op.o]}-${run}`;
                  const action = ACTIONS[op.a] as string;
                  const k = key(op.o, op.a);
                  try {
                    if (op.t === 'create') {
                      const value = `v${n++}-${randomSuffix(8)}`;
                      issued.add('action token value', value);
                      const r = await tokens.create({
                        owner,
                        action,
                        value,
                        remainingUses: op.uses,
                        ttlSeconds: op.ttl,
                        overwrite: op.overwrite,
                        lookup: false,
                      });
                      values.set(k, value);
                      return r.token.remainingUses;
                    }
                    if (op.t === 'use') {
                      const value = op.right ? (values.get(k) ?? 'never-created') : 'wrong-value';
                      const r = await tokens.tryUse({
                        owner,
                        action,
                        value,
                        drainWhenValid: op.drain,
                      });
                      return r.valid ? `valid:${r.token.remainingUses}` : r.reason;
                    }
                    if (op.t === 'peek')
                      return (await tokens.peek({ owner, action })).remainingUses;
                    return await tokens.drain({ owner, action });
                  } catch (err) {
                    return codeOf(err);
                  }
                },
                (op) => {
                  if (op.t === 'tick') return null;
                  const k = key(op.o, op.a);
                  const t = live(k);
                  if (op.t === 'create') {
                    if (t !== undefined && !op.overwrite) return 'ERR_TESSERA_ALREADY_EXISTS';
                    m.set(k, { value: '', left: op.uses, exp: clock.now() + op.ttl * 1000 });
                    return op.uses;
                  }
                  const stale = m.has(k) && t === undefined;
                  if (op.t === 'use') {
                    if (t === undefined) return stale ? 'expired' : 'not_found';
                    if (t.left <= 0) return 'used_up';
                    const right = op.right && values.get(k) !== undefined;
                    if (!right) {
                      t.left -= 1;
                      return 'invalid_value';
                    }
                    t.left = op.drain ? 0 : t.left - 1;
                    return `valid:${t.left}`;
                  }
                  if (op.t === 'peek') {
                    if (t === undefined)
                      return stale ? 'ERR_TESSERA_EXPIRED' : 'ERR_TESSERA_NOT_FOUND';
                    if (t.left <= 0) return 'ERR_TESSERA_USED_UP';
                    return t.left;
                  }
                  m.delete(k);
                  values.delete(k);
                  return t !== undefined || stale;
                },
              );
            });
          }),
          { numRuns },
        );
        record();
      },
      timeoutMs,
    );

    // ---------------------------------------------------------------- access tokens
    const patOp = fc.oneof(
      fc.record({
        t: fc.constant('issue' as const),
        ttl: fc.option(fc.integer({ min: 1, max: 90 }), { nil: undefined }),
      }),
      fc.record({ t: fc.constant('verify' as const), i: fc.nat(5), tamper: fc.boolean() }),
      fc.record({ t: fc.constant('revoke' as const), i: fc.nat(5) }),
      fc.record({ t: fc.constant('restore' as const), i: fc.nat(5) }),
      fc.record({ t: fc.constant('delete' as const), i: fc.nat(5) }),
      fc.record({ t: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 60 }) }),
    );
    it(
      'access tokens behave like the model: issue, verify, revoke, restore, delete, expiry',
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(patOp, { maxLength: maxOps, size: 'max' }), async (seq) => {
            count('accessTokens', seq.length);
            await withFreshStore(async (store, issued) => {
              const clock = createFakeClock(1_700_000_000_000);
              const pats = createAccessTokens({ store, clock, collection: `p${randomSuffix(3)}` });
              const minted: Array<{ token: string; id: string }> = [];
              const m: Array<{ exp: number | null; revoked: boolean; deleted: boolean }> = [];
              try {
                await compare(
                  seq,
                  async (op) => {
                    if (op.t === 'tick') {
                      clock.advance(op.s * 1000);
                      return null;
                    }
                    try {
                      if (op.t === 'issue') {
                        const r = await pats.issue({
                          owner: 'model-owner',
                          ...(op.ttl === undefined
                            ? {}
                            : { expiresAt: clock.now() + op.ttl * 1000 }),
                        });
                        minted.push({ token: r.token, id: r.record.tokenId });
                        issued.add('access token', r.token);
                        return 'issued';
                      }
                      const t = minted[op.i % Math.max(1, minted.length)];
                      if (t === undefined) return 'none';
                      if (op.t === 'verify') {
                        const token = op.tamper
                          ? `${t.token.slice(0, -8)}${t.token.slice(-8).split('').reverse().join('')}`
                          : t.token;
                        if (op.tamper && token === t.token) return 'palindrome';
                        const r = await pats.verify(token);
                        return r.valid ? 'valid' : op.tamper ? 'invalid' : r.reason;
                      }
                      if (op.t === 'revoke') await pats.revoke(t.id);
                      else if (op.t === 'restore') await pats.restore(t.id);
                      else return await pats.delete(t.id);
                      return 'ok';
                    } catch (err) {
                      return codeOf(err);
                    }
                  },
                  (op) => {
                    if (op.t === 'tick') return null;
                    if (op.t === 'issue') {
                      m.push({
                        exp: op.ttl === undefined ? null : clock.now() + op.ttl * 1000,
                        revoked: false,
                        deleted: false,
                      });
                      return 'issued';
                    }
                    const t = m[op.i % Math.max(1, m.length)];
                    if (t === undefined) return 'none';
                    if (op.t === 'verify') {
                      if (op.tamper) return 'invalid';
                      if (t.deleted) return 'not_found';
                      if (t.revoked) return 'revoked';
                      if (t.exp !== null && t.exp <= clock.now()) return 'expired';
                      return 'valid';
                    }
                    if (t.deleted) return op.t === 'delete' ? false : 'ERR_TESSERA_NOT_FOUND';
                    if (op.t === 'revoke') t.revoked = true;
                    else if (op.t === 'restore') t.revoked = false;
                    else {
                      t.deleted = true;
                      return true;
                    }
                    return 'ok';
                  },
                );
              } finally {
                await pats.close();
              }
            });
          }),
          { numRuns },
        );
        record();
      },
      timeoutMs,
    );

    // ---------------------------------------------------------------- challenges
    const chOp = fc.oneof(
      fc.record({
        t: fc.constant('create' as const),
        s: fc.nat(1),
        ttl: fc.integer({ min: 1, max: 90 }),
      }),
      fc.record({ t: fc.constant('verify' as const), s: fc.nat(1), right: fc.boolean() }),
      fc.record({ t: fc.constant('remove' as const), s: fc.nat(1) }),
      fc.record({ t: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 60 }) }),
    );
    it(
      'challenges behave like the model: create, verify right or wrong, attempt budget, remove, expiry',
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(chOp, { maxLength: maxOps, size: 'max' }), async (seq) => {
            count('challenges', seq.length);
            await withFreshStore(async (store, issued) => {
              const clock = createFakeClock(1_700_000_000_000);
              const challenges = createChallenges({
                store,
                keyring: testKeyring(),
                clock,
                attemptBudget: { perChallenge: 3, perSubject: 1000, lockSeconds: 900 },
              });
              const run = randomSuffix(3);
              const secrets = new Map<number, string>();
              // `remove` of an expired challenge answers false and leaves it: a later
              // verify still says `expired` (on every backend).
              const m = new Map<number, { exp: number; wrong: number }>();
              await compare(
                seq,
                async (op) => {
                  if (op.t === 'tick') {
                    clock.advance(op.s * 1000);
                    return null;
                  }
                  const id = `${OWNERS[op.s]}-${run}`;
                  try {
                    if (op.t === 'create') {
                      const r = await challenges.create({
                        action: 'otp',
                        id,
                        ttl: op.ttl,
                        secret: { type: 'number', length: 8 },
                      });
                      secrets.set(op.s, r.secret as string);
                      issued.add('challenge secret', r.secret);
                      return 'created';
                    }
                    if (op.t === 'verify') {
                      const right = secrets.get(op.s);
                      const token =
                        op.right && right !== undefined
                          ? right
                          : right === '00000000'
                            ? '00000001'
                            : '00000000';
                      const r = await challenges.tryVerify({ action: 'otp', id, token });
                      return r.valid ? 'valid' : r.reason;
                    }
                    return await challenges.remove({ action: 'otp', id });
                  } catch (err) {
                    return codeOf(err);
                  }
                },
                (op) => {
                  if (op.t === 'tick') return null;
                  const cur = m.get(op.s);
                  const live = cur !== undefined && cur.exp > clock.now() ? cur : undefined;
                  if (op.t === 'create') {
                    m.set(op.s, { exp: clock.now() + op.ttl * 1000, wrong: 0 });
                    return 'created';
                  }
                  if (op.t === 'verify') {
                    if (live === undefined) return cur === undefined ? 'not_found' : 'expired';
                    if (live.wrong >= 3) return 'used_up';
                    if (op.right) {
                      m.delete(op.s);
                      return 'valid';
                    }
                    live.wrong += 1;
                    return 'invalid_value';
                  }
                  if (live !== undefined) m.delete(op.s);
                  return live !== undefined;
                },
              );
            });
          }),
          { numRuns },
        );
        record();
      },
      timeoutMs,
    );

    // ---------------------------------------------------------------- sessions
    const sOp = fc.oneof(
      fc.record({ t: fc.constant('create' as const), o: fc.nat(1) }),
      fc.record({ t: fc.constant('validate' as const), i: fc.nat(5) }),
      fc.record({ t: fc.constant('destroy' as const), i: fc.nat(5) }),
      fc.record({ t: fc.constant('destroyAll' as const), o: fc.nat(1) }),
      fc.record({ t: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 60 }) }),
    );
    it(
      'sessions behave like the model: create, validate, destroy, destroy all, absolute expiry',
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(sOp, { maxLength: maxOps, size: 'max' }), async (seq) => {
            count('sessions', seq.length);
            await withFreshStore(async (store, issued) => {
              const clock = createFakeClock(1_700_000_000_000);
              const sessions = createSessions({
                store,
                clock,
                idleTimeoutMs: null,
                absoluteTimeoutMs: 120_000,
              });
              const run = randomSuffix(3);
              const tokens: string[] = [];
              const m: Array<{ o: number; exp: number; gone: boolean }> = [];
              await compare(
                seq,
                async (op) => {
                  if (op.t === 'tick') {
                    clock.advance(op.s * 1000);
                    return null;
                  }
                  try {
                    if (op.t === 'create') {
                      const r = await sessions.create({ owner: `${OWNERS[op.o]}-${run}` });
                      tokens.push(r.token);
                      issued.add('session token', r.token);
                      return 'created';
                    }
                    if (op.t === 'destroyAll')
                      return await sessions.destroyAll(`${OWNERS[op.o]}-${run}`);
                    const token = tokens[op.i % Math.max(1, tokens.length)];
                    if (token === undefined) return 'none';
                    if (op.t === 'validate') {
                      const r = await sessions.validate(token);
                      return r.valid ? 'valid' : 'invalid';
                    }
                    return await sessions.destroy({ token });
                  } catch (err) {
                    return codeOf(err);
                  }
                },
                (op) => {
                  if (op.t === 'tick') return null;
                  const live = (s: { exp: number; gone: boolean }) =>
                    !s.gone && s.exp > clock.now();
                  if (op.t === 'create') {
                    m.push({ o: op.o, exp: clock.now() + 120_000, gone: false });
                    return 'created';
                  }
                  if (op.t === 'destroyAll') {
                    let n = 0;
                    for (const s of m) {
                      if (s.o === op.o && live(s)) n++;
                      if (s.o === op.o) s.gone = true;
                    }
                    return n;
                  }
                  const s = m[op.i % Math.max(1, m.length)];
                  if (s === undefined) return 'none';
                  if (op.t === 'validate') return live(s) ? 'valid' : 'invalid';
                  const was = live(s);
                  s.gone = true;
                  return was;
                },
              );
            });
          }),
          { numRuns },
        );
        record();
      },
      timeoutMs,
    );
  });
}
