/**
 * Challenges conformance cases: create, the throttle window, info.
 * @module
 */
import assert from 'node:assert/strict';
import {
  type ChallengesKit,
  dumpChallenges,
  SEALED_RE,
  UUID_RE,
} from './challenges-suite-support.js';
import { rejectsWithCode } from './runner.js';

/** Define these cases (see `defineChallengesSuite`). */
export function defineCreateCases(kit: ChallengesKit): void {
  const { describe, it, run } = kit;
  describe('create', () => {
    it(
      'issues a sealed UUID challenge by default and stores no secret',
      run(async ({ challenges, id, store, clock }) => {
        const created = await challenges.create({ action: 'register', id });
        assert.equal(created.action, 'register');
        assert.equal(created.id, id);
        assert.equal(created.uid, undefined);
        assert.match(created.secret ?? '', SEALED_RE);
        assert.equal(created.createdAt, clock.now());
        assert.equal(created.expiresAt, clock.now() + 3_600_000);
        const stored = await dumpChallenges(store);
        assert.ok(!stored.includes(created.secret ?? '?'), 'the token is not stored');
        const verified = await challenges.verify(created.secret ?? '');
        assert.deepEqual(verified.settings, { type: 'uuid', encrypt: true });
      }),
    );

    it(
      'generates plain numeric and alphabet codes of the asked length',
      run(async ({ challenges, id, store }) => {
        const n = await challenges.create({
          action: 'sms',
          id,
          secret: { type: 'number', length: 6 },
        });
        assert.match(n.secret ?? '', /^\d{6}$/);
        const a = await challenges.create({
          action: 'code',
          id,
          secret: { type: 'alphabet', alphabet: 'abcd', length: 10 },
        });
        assert.match(a.secret ?? '', /^[abcd]{10}$/);
        const u = await challenges.create({
          action: 'uuid',
          id,
          secret: { type: 'uuid', encrypt: false },
        });
        assert.match(u.secret ?? '', UUID_RE);
        const stored = await dumpChallenges(store);
        for (const s of [n.secret, a.secret, u.secret]) {
          assert.ok(!stored.includes(`"${s}"`), 'no plain secret in any record');
        }
        const info = await challenges.info({ action: 'sms', id });
        assert.deepEqual(info.settings, { type: 'number', length: 6, encrypt: false });
      }),
    );

    it(
      'returns a uid with regenerate, and info finds the challenge by it',
      run(async ({ challenges, id }) => {
        const created = await challenges.create({ action: 'invite', id, regenerate: true });
        assert.match(created.uid ?? '', UUID_RE);
        const info = await challenges.info({ uid: created.uid ?? '' });
        assert.equal(info.id, id);
        assert.equal(info.uid, created.uid);
        assert.equal(info.regenerate, true);
      }),
    );

    it(
      'keeps metadata of any JSON shape',
      run(async ({ challenges, id }) => {
        const metadata = { random: ['10', 20, {}], bool: true, num: 32, arr: [], obj: { a: 1 } };
        await challenges.create({ action: 'a', id, metadata });
        assert.deepEqual((await challenges.info({ action: 'a', id })).metadata, metadata);
        await challenges.create({ action: 'b', id, metadata: 'text' });
        assert.equal((await challenges.info({ action: 'b', id })).metadata, 'text');
        await challenges.create({ action: 'c', id });
        assert.equal((await challenges.info({ action: 'c', id })).metadata, undefined);
      }),
    );

    it(
      'expires at exactly createdAt + ttl',
      run(async ({ challenges, id, clock }) => {
        const { secret } = await challenges.create({ action: 'a', id, ttl: 60 });
        clock.advance(59_999);
        await challenges.info({ action: 'a', id });
        clock.advance(1);
        await rejectsWithCode(challenges.info({ action: 'a', id }), 'ERR_TESSERA_EXPIRED');
        const r = await challenges.tryVerify(secret ?? '');
        assert.deepEqual(r, { valid: false, reason: 'expired' });
      }),
    );

    it(
      "never expires with ttl: 'never', and refuses ttl 0",
      run(async ({ challenges, id, clock }) => {
        const created = await challenges.create({ action: 'a', id, ttl: 'never' });
        assert.equal(created.expiresAt, null);
        clock.advance(10 * 365 * 86_400_000);
        const info = await challenges.info({ action: 'a', id });
        assert.equal(info.ttl, 'never');
        assert.equal((await challenges.verify(created.secret ?? '')).expiresAt, null);
        await rejectsWithCode(
          challenges.create({ action: 'a', id, ttl: 0 }),
          'ERR_TESSERA_INVALID_INPUT',
        );
      }),
    );

    it(
      'rejects bad input with InvalidInputError',
      run(async ({ challenges, id }) => {
        const bad: unknown[] = [
          null,
          'x',
          { action: '', id },
          { action: 'a', id: '' },
          { action: 'a\nb', id },
          { action: 'a', id, ttl: -1 },
          { action: 'a', id, ttl: 1.5 },
          { action: 'a', id, ttl: '60' },
          { action: 'a', id, ttl: 31_536_001 },
          { action: 'a', id, ttl: 60, throttle: 61 },
          { action: 'a', id, ttl: 'never', throttle: true },
          { action: 'a', id, throttle: -1 },
          { action: 'a', id, secret: 'yes' },
          { action: 'a', id, secret: { type: 'hex' } },
          { action: 'a', id, secret: { type: 'number', length: 3 } },
          { action: 'a', id, secret: { type: 'uuid', length: 8 } },
          { action: 'a', id, secret: { type: 'alphabet', length: 8 } },
          { action: 'a', id, secret: { type: 'alphabet', alphabet: 'aab', length: 8 } },
          { action: 'a', id, secret: { type: 'alphabet', alphabet: 'ab', length: 8 } },
          { action: 'a', id, secret: false, regenerate: true },
          { action: 'a', id, regenerate: 'yes' },
          { action: 'a', id, metadata: { d: new Date() } },
          { action: 'a', id, ttlSeconds: 60 },
        ];
        for (const input of bad) {
          await rejectsWithCode(challenges.create(input as never), 'ERR_TESSERA_INVALID_INPUT');
        }
      }),
    );

    it(
      'replaces an earlier challenge: its secret, uid and token stop working',
      run(async ({ challenges, id }) => {
        const first = await challenges.create({ action: 'a', id, regenerate: true });
        const second = await challenges.create({ action: 'a', id, regenerate: true });
        assert.notEqual(first.uid, second.uid);
        await rejectsWithCode(challenges.info({ uid: first.uid ?? '' }), 'ERR_TESSERA_NOT_FOUND');
        assert.deepEqual(await challenges.tryVerify(first.secret ?? ''), {
          valid: false,
          reason: 'invalid_value',
        });
        assert.equal((await challenges.info({ uid: second.uid ?? '' })).uid, second.uid);
        assert.equal((await challenges.verify(second.secret ?? '')).uid, second.uid);
      }),
    );
  });

  describe('throttle', () => {
    it(
      'blocks any re-creation for the same action and id until the window ends',
      run(async ({ challenges, id, clock }) => {
        await challenges.create({ action: 'a', id, ttl: 600, throttle: 60 });
        clock.advance(15_000);
        let caught: unknown;
        try {
          await challenges.create({ action: 'a', id, ttl: 600 });
        } catch (err) {
          caught = err;
        }
        assert.equal((caught as { code?: string }).code, 'ERR_TESSERA_THROTTLED');
        assert.equal((caught as { retryAfterSeconds?: number }).retryAfterSeconds, 45);
        await challenges.create({ action: 'a', id: `${id}.other`, ttl: 600 });
        await challenges.create({ action: 'b', id, ttl: 600 });
        clock.advance(45_000);
        await challenges.create({ action: 'a', id, ttl: 600 });
      }),
    );

    it(
      'uses the whole ttl with throttle: true',
      run(async ({ challenges, id, clock }) => {
        await challenges.create({ action: 'a', id, ttl: 120, throttle: true });
        clock.advance(119_000);
        await rejectsWithCode(challenges.create({ action: 'a', id }), 'ERR_TESSERA_THROTTLED');
        clock.advance(1000);
        await challenges.create({ action: 'a', id });
      }),
    );

    it(
      'is cleared by an erasing verify and by remove, not by a non-erasing verify',
      run(async ({ challenges, id }) => {
        const opts = { action: 'a', id, ttl: 600, throttle: 300 };
        const one = await challenges.create(opts);
        await challenges.verify(one.secret ?? '', { erase: false });
        await rejectsWithCode(challenges.create(opts), 'ERR_TESSERA_THROTTLED');
        await challenges.verify(one.secret ?? '');
        const two = await challenges.create(opts);
        assert.equal(await challenges.remove({ action: 'a', id }), true);
        await challenges.create(opts);
        assert.ok(two.secret);
      }),
    );

    it(
      'lets exactly one of many parallel creates through a throttle',
      run(async ({ challenges, id }) => {
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, () =>
            challenges.create({ action: 'race', id, ttl: 600, throttle: 60 }),
          ),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.equal((r.reason as { code?: string }).code, 'ERR_TESSERA_THROTTLED');
          }
        }
      }),
    );
  });

  describe('info', () => {
    it(
      'finds a challenge by uid, by action and id, by token, and by plain secret',
      run(async ({ challenges, id }) => {
        const sealed = await challenges.create({ action: 'a', id, regenerate: true });
        const plain = await challenges.create({
          action: 'b',
          id,
          secret: { type: 'alphabet', alphabet: 'ABCDEFGH', length: 8 },
        });
        assert.equal((await challenges.info({ uid: sealed.uid ?? '' })).action, 'a');
        assert.equal((await challenges.info({ action: 'a', id })).uid, sealed.uid);
        assert.equal((await challenges.info(sealed.secret ?? '')).uid, sealed.uid);
        const byPlain = await challenges.info({ action: 'b', id, token: plain.secret ?? '' });
        assert.equal(byPlain.action, 'b');
        assert.equal(byPlain.verifiedAt, null);
        assert.equal(byPlain.failedAttempts, 0);
        await rejectsWithCode(
          challenges.info({ action: 'b', id, token: 'AAAAAAAA' }),
          'ERR_TESSERA_INVALID_VALUE',
        );
        assert.equal((await challenges.info({ action: 'b', id })).failedAttempts, 1);
        await rejectsWithCode(challenges.info({ uid: 'nope' }), 'ERR_TESSERA_NOT_FOUND');
        await rejectsWithCode(challenges.info({ action: 'c', id }), 'ERR_TESSERA_NOT_FOUND');
        await rejectsWithCode(challenges.info('v1.k1.AAAA'), 'ERR_TESSERA_SEAL_INVALID');
        await rejectsWithCode(
          challenges.info({ uid: 'u', action: 'a', id } as never),
          'ERR_TESSERA_INVALID_INPUT',
        );
      }),
    );
  });
}
