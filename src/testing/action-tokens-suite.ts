/**
 * The action-tokens conformance suite: the whole module on top of a store, on
 * a fake clock, including races in one process and across OS processes.
 * @module
 */
import assert from 'node:assert/strict';
import { createActionTokens } from '../action-tokens/action-tokens.js';
import type { ActionTokensOptions } from '../action-tokens/types.js';
import { createFakeClock, type FakeClock } from '../core/clock.js';
import { createKeyring, type Keyring } from '../core/keyring.js';
import type { Store } from '../stores/contract.js';
import { raceAcrossProcesses } from './race.js';
import { randomSuffix, rejectsWithCode, withStore } from './runner.js';
import type { StoreSuiteOptions } from './store-suite.js';

/** A fixed test keyring (never use these secrets outside tests). */
export function testKeyring(activeId = 'k1'): Keyring {
  return createKeyring({
    keys: [
      { id: 'k1', secret: 'test-secret-k1-0123456789abcdef0123456789abcdef' },
      { id: 'k2', secret: 'test-secret-k2-0123456789abcdef0123456789abcdef' },
    ],
    activeId,
  });
}

const fileUrl = import.meta.url;

/**
 * Define the action-tokens tests with the injected runner and store factory.
 * With `multiProcess`, racers also use one token from several OS processes.
 *
 * @example
 * ```ts
 * defineActionTokensSuite({ name: 'memory', runner: { describe, it }, createStore: () => createMemoryStore() });
 * ```
 */
export function defineActionTokensSuite(options: StoreSuiteOptions): void {
  const { describe, it } = options.runner;
  type Ctx = {
    store: Store;
    clock: FakeClock;
    tokens: ReturnType<typeof createActionTokens>;
    owner: string;
  };
  const run =
    (fn: (ctx: Ctx) => Promise<void>, extra: Partial<ActionTokensOptions> = {}) =>
    () =>
      withStore(options, async (store) => {
        const clock = createFakeClock();
        const tokens = createActionTokens({ store, keyring: testKeyring(), clock, ...extra });
        await fn({ store, clock, tokens, owner: `user-${randomSuffix(4)}@example.com` });
      });

  describe(`action tokens: ${options.name}`, () => {
    describe('create', () => {
      it(
        'generates a 256-bit secret by default and returns it once',
        run(async ({ tokens, owner, store }) => {
          const { token, value } = await tokens.create({ owner, action: 'login' });
          assert.match(value, /^[A-Za-z0-9_-]{43}$/);
          assert.equal(token.remainingUses, 1);
          assert.equal(token.lookup, true);
          const page = await store.list('action', { limit: 1000 });
          const dump = JSON.stringify(page.records);
          assert.ok(!dump.includes(value), 'the value is never stored in plaintext');
        }),
      );

      it(
        'generates 8-digit codes with 5 attempts and a 10-minute lifetime',
        run(async ({ tokens, owner, clock }) => {
          const { token, value } = await tokens.create({
            owner,
            action: 'verify-email',
            generate: { kind: 'code' },
          });
          assert.match(value, /^\d{8}$/);
          assert.equal(token.remainingUses, 5);
          assert.equal(token.expiresAt, clock.now() + 600_000);
          assert.equal(token.lookup, false);
        }),
      );

      it(
        'stores the payload and honours an absolute expiry',
        run(async ({ tokens, owner, clock }) => {
          const expiresAt = clock.now() + 3_600_000;
          const { token } = await tokens.create({
            owner,
            action: 'reset',
            value: 'v',
            expiresAt,
            data: { email: 'a@b.c' },
          });
          assert.equal(token.expiresAt, expiresAt);
          assert.deepEqual(token.data, { email: 'a@b.c' });
          assert.equal(token.createdAt, clock.now());
        }),
      );

      it(
        'refuses a second live token for the same owner and action',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: '1' });
          await rejectsWithCode(
            tokens.create({ owner, action: 'a', value: '2' }),
            'ERR_TESSERA_ALREADY_EXISTS',
          );
        }),
      );

      it(
        'replaces a live token with overwrite, and the old value stops working',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: 'old', remainingUses: 3 });
          await tokens.use({ owner, action: 'a', value: 'old', drainWhenValid: false });
          const { token } = await tokens.create({
            owner,
            action: 'a',
            value: 'new',
            remainingUses: 3,
            overwrite: true,
          });
          assert.equal(token.remainingUses, 3);
          await rejectsWithCode(
            tokens.use({ owner, action: 'a', value: 'old' }),
            'ERR_TESSERA_INVALID_VALUE',
          );
          assert.equal((await tokens.use({ owner, action: 'a', value: 'new' })).remainingUses, 0);
        }),
      );

      it(
        'lets an expired token that was never swept be replaced without overwrite',
        run(async ({ tokens, owner, clock }) => {
          await tokens.create({ owner, action: 'a', value: '1', ttlSeconds: 60 });
          clock.advance(60_000);
          const { token } = await tokens.create({ owner, action: 'a', value: '2' });
          assert.equal(token.createdAt, clock.now());
        }),
      );

      it(
        'rejects bad input with InvalidInputError',
        run(async ({ tokens, owner, clock }) => {
          const bad = [
            { owner: '', action: 'a' },
            { owner, action: '' },
            { owner: 'a\nb', action: 'a' },
            { owner, action: 'a', remainingUses: 0 },
            { owner, action: 'a', remainingUses: 1.5 },
            { owner, action: 'a', ttlSeconds: 0 },
            { owner, action: 'a', ttlSeconds: 60, expiresAt: clock.now() + 1000 },
            { owner, action: 'a', expiresAt: clock.now() },
            { owner, action: 'a', value: '' },
            { owner, action: 'a', value: 'x', generate: { kind: 'code' as const } },
            { owner, action: 'a', generate: { kind: 'code' as const, length: 3 } },
            { owner, action: 'a', generate: { kind: 'nope' } as never },
            { owner, action: 'a', value: 'short', lookup: true },
            // >= 22 characters, yet short of 112 bits: digits, hex, one repeated character.
            { owner, action: 'a', value: '1234567890123456789012345678', lookup: true },
            { owner, action: 'a', value: '0123456789abcdef0123456789a', lookup: true },
            { owner, action: 'a', value: 'a'.repeat(100), lookup: true },
            { owner, action: 'a', data: [] as never },
            { owner, action: 'a', overwrite: 'yes' as never },
            { owner, action: 'a', throttle: { windowSeconds: 0 } },
          ];
          for (const input of bad) {
            await rejectsWithCode(tokens.create(input), 'ERR_TESSERA_INVALID_INPUT');
          }
          await rejectsWithCode(tokens.create(null as never), 'ERR_TESSERA_INVALID_INPUT');
        }),
      );
    });

    describe('use', () => {
      it(
        'accepts the right value once and drains by default',
        run(async ({ tokens, owner }) => {
          const { value } = await tokens.create({ owner, action: 'a', generate: { kind: 'code' } });
          const used = await tokens.use({ owner, action: 'a', value });
          assert.equal(used.remainingUses, 0);
          await rejectsWithCode(tokens.use({ owner, action: 'a', value }), 'ERR_TESSERA_USED_UP');
        }),
      );

      it(
        'takes one use at a time without drainWhenValid',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: 'v', remainingUses: 3 });
          assert.equal(
            (await tokens.use({ owner, action: 'a', value: 'v', drainWhenValid: false }))
              .remainingUses,
            2,
          );
          assert.equal(
            (await tokens.use({ owner, action: 'a', value: 'v', drainWhenValid: false }))
              .remainingUses,
            1,
          );
        }),
      );

      it(
        'charges a use for a wrong value, so guessing is bounded',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: '12345678', remainingUses: 2 });
          await rejectsWithCode(
            tokens.use({ owner, action: 'a', value: '00000000' }),
            'ERR_TESSERA_INVALID_VALUE',
          );
          assert.equal((await tokens.peek({ owner, action: 'a' })).remainingUses, 1);
          await rejectsWithCode(
            tokens.use({ owner, action: 'a', value: '00000001' }),
            'ERR_TESSERA_INVALID_VALUE',
          );
          await rejectsWithCode(
            tokens.use({ owner, action: 'a', value: '12345678' }),
            'ERR_TESSERA_USED_UP',
          );
        }),
      );

      it(
        'reports a missing token and never passes an expired one',
        run(async ({ tokens, owner, clock }) => {
          await rejectsWithCode(
            tokens.use({ owner, action: 'a', value: 'v' }),
            'ERR_TESSERA_NOT_FOUND',
          );
          await tokens.create({ owner, action: 'a', value: 'v', ttlSeconds: 600 });
          clock.advance(599_999);
          await tokens.peek({ owner, action: 'a' });
          clock.advance(1);
          await rejectsWithCode(
            tokens.use({ owner, action: 'a', value: 'v' }),
            'ERR_TESSERA_EXPIRED',
          );
          await rejectsWithCode(tokens.peek({ owner, action: 'a' }), 'ERR_TESSERA_EXPIRED');
        }),
      );

      it(
        'returns reasons instead of throwing with tryUse',
        run(async ({ tokens, owner }) => {
          assert.deepEqual(await tokens.tryUse({ owner, action: 'a', value: 'v' }), {
            valid: false,
            reason: 'not_found',
          });
          await tokens.create({ owner, action: 'a', value: 'v', remainingUses: 2 });
          assert.deepEqual(await tokens.tryUse({ owner, action: 'a', value: 'w' }), {
            valid: false,
            reason: 'invalid_value',
          });
          const ok = await tokens.tryUse({ owner, action: 'a', value: 'v' });
          assert.equal(ok.valid, true);
        }),
      );

      it(
        'locks an (owner, action) after 10 wrong values, across resends, then recovers',
        run(async ({ tokens, owner, clock }) => {
          for (let round = 0; round < 2; round++) {
            await tokens.create({
              owner,
              action: 'otp',
              value: '11111111',
              remainingUses: 5,
              overwrite: true,
            });
            for (let i = 0; i < 5; i++) {
              await rejectsWithCode(
                tokens.use({ owner, action: 'otp', value: `0000000${i}` }),
                'ERR_TESSERA_INVALID_VALUE',
              );
            }
          }
          await tokens.create({
            owner,
            action: 'otp',
            value: '22222222',
            remainingUses: 5,
            overwrite: true,
          });
          const locked = await tokens.tryUse({ owner, action: 'otp', value: '22222222' });
          assert.equal(locked.valid, false);
          assert.equal(!locked.valid && locked.reason, 'locked');
          assert.equal(!locked.valid && locked.retryAfterSeconds, 900);
          await rejectsWithCode(
            tokens.use({ owner, action: 'otp', value: '22222222' }),
            'ERR_TESSERA_LOCKED',
          );
          clock.advance(300_000);
          await tokens.create({
            owner,
            action: 'otp',
            value: '33333333',
            remainingUses: 5,
            overwrite: true,
            ttlSeconds: 3600,
          });
          clock.advance(600_000);
          const ok = await tokens.use({ owner, action: 'otp', value: '33333333' });
          assert.equal(ok.remainingUses, 0);
        }),
      );

      it(
        'can rely on remainingUses alone when the failure budget is off',
        run(
          async ({ tokens, owner }) => {
            for (let round = 0; round < 3; round++) {
              await tokens.create({
                owner,
                action: 'otp',
                value: '1',
                remainingUses: 5,
                overwrite: true,
              });
              for (let i = 0; i < 5; i++) await tokens.tryUse({ owner, action: 'otp', value: 'x' });
            }
            await tokens.create({ owner, action: 'otp', value: '1', overwrite: true });
            assert.equal((await tokens.tryUse({ owner, action: 'otp', value: '1' })).valid, true);
          },
          { failureBudget: false },
        ),
      );

      it(
        'keeps working for tokens created under a rotated-out key',
        run(async ({ store, clock, owner }) => {
          const before = createActionTokens({ store, keyring: testKeyring('k1'), clock });
          const { value } = await before.create({ owner, action: 'a' });
          const after = createActionTokens({ store, keyring: testKeyring('k2'), clock });
          assert.equal((await after.use({ owner, action: 'a', value })).remainingUses, 0);
          const { value: v2 } = await before.create({ owner, action: 'b' });
          assert.equal((await after.use({ action: 'b', value: v2 })).owner, owner);
        }),
      );
    });

    describe('use by value alone', () => {
      it(
        'finds a generated secret without its owner',
        run(async ({ tokens, owner }) => {
          const { value } = await tokens.create({
            owner,
            action: 'magic-link',
            data: { next: '/home' },
          });
          const used = await tokens.use({ action: 'magic-link', value });
          assert.equal(used.owner, owner);
          assert.deepEqual(used.data, { next: '/home' });
          await rejectsWithCode(tokens.use({ action: 'magic-link', value }), 'ERR_TESSERA_USED_UP');
        }),
      );

      it(
        'never looks short codes up without their owner',
        run(async ({ tokens, owner }) => {
          const { value } = await tokens.create({
            owner,
            action: 'otp',
            generate: { kind: 'code' },
          });
          await rejectsWithCode(tokens.use({ action: 'otp', value }), 'ERR_TESSERA_NOT_FOUND');
          assert.equal((await tokens.peek({ owner, action: 'otp' })).remainingUses, 5);
        }),
      );

      it(
        "never consumes another owner's token",
        run(async ({ tokens, owner }) => {
          const shared = 'a-long-supplied-random-value-0123456789';
          await tokens.create({ owner, action: 'link', value: shared, lookup: true });
          // 22 varied characters (a 128-bit base64url value) are enough.
          await tokens.create({
            owner,
            action: 'link22',
            value: 'Zq3_Tn8xVb-Lk2Wm9Rp4Hs',
            lookup: true,
          });
          await rejectsWithCode(
            tokens.create({ owner: `${owner}-other`, action: 'link', value: shared, lookup: true }),
            'ERR_TESSERA_ALREADY_EXISTS',
          );
          await rejectsWithCode(
            tokens.use({ owner: `${owner}-other`, action: 'link', value: shared }),
            'ERR_TESSERA_NOT_FOUND',
          );
          assert.equal((await tokens.use({ action: 'link', value: shared })).owner, owner);
        }),
      );

      it(
        'does not find a token under another action',
        run(async ({ tokens, owner }) => {
          const { value } = await tokens.create({ owner, action: 'link' });
          await rejectsWithCode(tokens.use({ action: 'other', value }), 'ERR_TESSERA_NOT_FOUND');
        }),
      );
    });

    describe('peek and drain', () => {
      it(
        'peeks without using, and drains',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: 'v', remainingUses: 2 });
          assert.equal((await tokens.peek({ owner, action: 'a' })).remainingUses, 2);
          assert.equal((await tokens.peek({ owner, action: 'a' })).remainingUses, 2);
          assert.equal(await tokens.drain({ owner, action: 'a' }), true);
          assert.equal(await tokens.drain({ owner, action: 'a' }), false);
          await rejectsWithCode(tokens.peek({ owner, action: 'a' }), 'ERR_TESSERA_NOT_FOUND');
        }),
      );

      it(
        'peek reports a used-up token',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: 'v' });
          await tokens.use({ owner, action: 'a', value: 'v' });
          await rejectsWithCode(tokens.peek({ owner, action: 'a' }), 'ERR_TESSERA_USED_UP');
        }),
      );
    });

    describe('throttled create', () => {
      it(
        'blocks a second create in the window and says when to retry',
        run(async ({ tokens, owner, clock }) => {
          const throttle = { windowSeconds: 60 };
          await tokens.create({ owner, action: 'a', value: '1', throttle });
          clock.advance(15_000);
          let caught: unknown;
          try {
            await tokens.create({ owner, action: 'a', value: '2', overwrite: true, throttle });
          } catch (err) {
            caught = err;
          }
          assert.equal((caught as { code?: string }).code, 'ERR_TESSERA_THROTTLED');
          assert.equal((caught as { retryAfterSeconds?: number }).retryAfterSeconds, 45);
          assert.equal(
            await tokens.use({ owner, action: 'a', value: '1' }).then((t) => t.owner),
            owner,
          );
          clock.advance(45_000);
          await tokens.create({ owner, action: 'a', value: '3', overwrite: true, throttle });
        }),
      );

      it(
        'throttles a second key such as the client IP in the same atomic step',
        run(async ({ tokens, owner, store }) => {
          const ip = { id: 'ip:203.0.113.9', windowSeconds: 3600, limit: 2 };
          await tokens.create({
            owner: `${owner}1`,
            action: 'a',
            value: 'v',
            throttle: { windowSeconds: 60, also: [ip] },
          });
          await tokens.create({
            owner: `${owner}2`,
            action: 'a',
            value: 'v',
            throttle: { windowSeconds: 60, also: [ip] },
          });
          await rejectsWithCode(
            tokens.create({
              owner: `${owner}3`,
              action: 'a',
              value: 'v',
              throttle: { windowSeconds: 60, also: [ip] },
            }),
            'ERR_TESSERA_THROTTLED',
          );
          // Nothing of the refused create was written: no token, and its own window was not opened.
          await rejectsWithCode(
            tokens.peek({ owner: `${owner}3`, action: 'a' }),
            'ERR_TESSERA_NOT_FOUND',
          );
          await tokens.create({
            owner: `${owner}3`,
            action: 'a',
            value: 'v',
            throttle: { windowSeconds: 60 },
          });
          assert.ok(store);
        }),
      );

      it(
        'does not open a window when the create itself fails',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: '1' });
          await rejectsWithCode(
            tokens.create({ owner, action: 'a', value: '2', throttle: { windowSeconds: 60 } }),
            'ERR_TESSERA_ALREADY_EXISTS',
          );
          await tokens.create({
            owner,
            action: 'a',
            value: '2',
            overwrite: true,
            throttle: { windowSeconds: 60 },
          });
        }),
      );
    });

    describe('concurrency', () => {
      it(
        'gives exactly N successes to K > N concurrent legitimate uses, never a conflict',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: 'v', remainingUses: 10 });
          const results = await Promise.allSettled(
            Array.from({ length: 30 }, () =>
              tokens.use({ owner, action: 'a', value: 'v', drainWhenValid: false }),
            ),
          );
          const ok = results.filter((r) => r.status === 'fulfilled').length;
          const codes = results
            .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
            .map((r) => (r.reason as { code?: string }).code);
          assert.equal(ok, 10);
          assert.ok(
            codes.every((c) => c === 'ERR_TESSERA_USED_UP'),
            `only used-up errors: ${codes.join(',')}`,
          );
        }),
      );

      it(
        'lets exactly one drainWhenValid use win among racers',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: 'v', remainingUses: 5 });
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, () => tokens.use({ owner, action: 'a', value: 'v' })),
          );
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        }),
      );

      it(
        'keeps the total of right and wrong attempts within the uses, under a mixed race',
        run(async ({ tokens, owner }) => {
          await tokens.create({ owner, action: 'a', value: 'right', remainingUses: 8 });
          const results = await Promise.all(
            Array.from({ length: 24 }, (_, i) =>
              tokens.tryUse({
                owner,
                action: 'a',
                value: i % 2 === 0 ? 'right' : 'wrong',
                drainWhenValid: false,
              }),
            ),
          );
          const valid = results.filter((r) => r.valid).length;
          const invalid = results.filter((r) => !r.valid && r.reason === 'invalid_value').length;
          assert.equal(valid + invalid, 8);
          assert.ok(
            results.every((r) => r.valid || ['invalid_value', 'used_up'].includes(r.reason)),
          );
        }),
      );

      if (options.multiProcess) {
        const mp = options.multiProcess;
        it('gives exactly min(K, N) successes to use() racers in several OS processes', async () => {
          const { store, spec } = await mp.createSharedStore();
          try {
            const owner = `racer-${randomSuffix(4)}`;
            const clock = createFakeClock();
            const tokens = createActionTokens({ store, keyring: testKeyring(), clock });
            const { value } = await tokens.create({
              owner,
              action: 'race',
              remainingUses: 12,
              ttlSeconds: 3600,
            });
            const processes = mp.processes ?? 3;
            const result = await raceAcrossProcesses(
              spec,
              {
                kind: 'custom',
                module: fileUrl,
                exportName: 'useActionTokenOnce',
                arg: { owner, action: 'race', value, now: clock.now() },
              },
              processes,
              10,
            );
            assert.deepEqual(result.errors, []);
            assert.equal(result.successes, 12);
            assert.equal(result.failures, processes * 10 - 12);
          } finally {
            await store.close();
          }
        }, 120_000);
      }
    });
  });
}

/**
 * Racer body for the multi-process case (runs in a worker process): one
 * `use()` on the token the test created, on the test's frozen clock.
 */
export async function useActionTokenOnce(
  store: Store,
  arg: { owner: string; action: string; value: string; now: number },
): Promise<boolean> {
  const tokens = createActionTokens({
    store,
    keyring: testKeyring(),
    clock: createFakeClock(arg.now),
  });
  const r = await tokens.tryUse({
    owner: arg.owner,
    action: arg.action,
    value: arg.value,
    drainWhenValid: false,
  });
  if (!r.valid && r.reason !== 'used_up') throw new Error(`unexpected outcome ${r.reason}`);
  return r.valid;
}
