/**
 * Challenges conformance cases: verify and the attempt budgets.
 * @module
 */
import assert from 'node:assert/strict';
import type { ChallengesKit } from './challenges-suite-support.js';
import { rejectsWithCode } from './runner.js';

/** Define these cases (see `defineChallengesSuite`). */
export function defineVerifyCases(kit: ChallengesKit): void {
  const { describe, it, run } = kit;
  describe('verify', () => {
    it(
      'completes a sealed challenge once and erases it by default',
      run(async ({ challenges, id, clock }) => {
        const created = await challenges.create({
          action: 'register',
          id,
          regenerate: true,
          metadata: { plan: 'pro' },
        });
        clock.advance(5000);
        const done = await challenges.verify(created.secret ?? '');
        assert.equal(done.isFirstVerification, true);
        assert.equal(done.verifiedAt, clock.now());
        assert.equal(done.uid, created.uid);
        assert.equal(done.createdAt, clock.now() - 5000);
        assert.deepEqual(done.metadata, { plan: 'pro' });
        assert.deepEqual(await challenges.tryVerify(created.secret ?? ''), {
          valid: false,
          reason: 'not_found',
        });
        await rejectsWithCode(challenges.info({ action: 'register', id }), 'ERR_TESSERA_NOT_FOUND');
      }),
    );

    it(
      'verifies again without erase, reporting the first verification time',
      run(async ({ challenges, id, clock }) => {
        const { secret } = await challenges.create({ action: 'a', id });
        const first = await challenges.verify(secret ?? '', { erase: false });
        assert.equal(first.isFirstVerification, true);
        const at = clock.now();
        clock.advance(1000);
        const second = await challenges.verify(secret ?? '', { erase: false });
        assert.equal(second.isFirstVerification, false);
        assert.equal(second.verifiedAt, at);
        assert.equal((await challenges.info({ action: 'a', id })).verifiedAt, at);
        const last = await challenges.verify(secret ?? '');
        assert.equal(last.isFirstVerification, false);
        assert.equal(last.verifiedAt, at);
        await rejectsWithCode(challenges.verify(secret ?? ''), 'ERR_TESSERA_NOT_FOUND');
      }),
    );

    it(
      'lets exactly one of many parallel verifies of a sealed token through, and ends its throttle window',
      run(async ({ challenges, id }) => {
        const { secret } = await challenges.create({ action: 'a', id, throttle: 60 });
        const results = await Promise.all(
          Array.from({ length: 8 }, () => challenges.tryVerify(secret ?? '')),
        );
        const valid = results.filter((r) => r.valid);
        assert.equal(valid.length, 1);
        assert.equal(valid[0]?.valid && valid[0].challenge.isFirstVerification, true);
        for (const r of results) {
          if (!r.valid) assert.equal(r.reason, 'not_found');
        }
        const again = await challenges.create({ action: 'a', id, throttle: 60 });
        assert.equal((await challenges.verify(again.secret ?? '')).isFirstVerification, true);
      }),
    );

    it(
      'reports a sealed token of an expired challenge as expired, and completes none after it',
      run(async ({ challenges, id, clock }) => {
        const { secret } = await challenges.create({ action: 'a', id, ttl: 10 });
        clock.advance(10_000);
        assert.deepEqual(await challenges.tryVerify(secret ?? ''), {
          valid: false,
          reason: 'expired',
        });
        assert.deepEqual(await challenges.tryVerify(secret ?? '', { erase: false }), {
          valid: false,
          reason: 'expired',
        });
        const none = await challenges.create({ action: 'b', id, ttl: 10, secret: false });
        assert.equal(none.secret, undefined);
        clock.advance(10_000);
        assert.deepEqual(await challenges.tryVerify({ action: 'b', id }), {
          valid: false,
          reason: 'expired',
        });
      }),
    );

    it(
      'completes a plain code with action, id and token',
      run(async ({ challenges, id }) => {
        const { secret } = await challenges.create({
          action: 'sms',
          id,
          secret: { type: 'number', length: 8 },
        });
        const done = await challenges.verify({ action: 'sms', id, token: secret ?? '' });
        assert.equal(done.isFirstVerification, true);
        assert.equal(done.failedAttempts, 0);
      }),
    );

    it(
      'completes a secret-less challenge with action and id alone',
      run(async ({ challenges, id }) => {
        const created = await challenges.create({ action: 'invite', id, secret: false });
        assert.equal(created.secret, undefined);
        const done = await challenges.verify({ action: 'invite', id });
        assert.equal(done.settings, false);
        assert.equal(done.isFirstVerification, true);
        await challenges.create({ action: 'code', id });
        assert.deepEqual(await challenges.tryVerify({ action: 'code', id }), {
          valid: false,
          reason: 'secret_required',
        });
        await rejectsWithCode(
          challenges.verify({ action: 'code', id }),
          'ERR_TESSERA_INVALID_INPUT',
        );
      }),
    );

    it(
      'refuses a token issued for another action or id (control)',
      run(async ({ challenges, id }) => {
        const { secret } = await challenges.create({ action: 'a', id });
        assert.deepEqual(
          await challenges.tryVerify(secret ?? '', { control: { id: 'someone@else.example' } }),
          { valid: false, reason: 'control_mismatch' },
        );
        assert.deepEqual(await challenges.tryVerify(secret ?? '', { control: { action: 'b' } }), {
          valid: false,
          reason: 'control_mismatch',
        });
        await rejectsWithCode(
          challenges.verify(secret ?? '', { control: { action: 'b' } }),
          'ERR_TESSERA_INVALID_VALUE',
        );
        const ok = await challenges.verify(secret ?? '', { control: { action: 'a', id } });
        assert.equal(ok.isFirstVerification, true);
      }),
    );

    it(
      'rejects malformed or tampered tokens without touching the store',
      run(async ({ challenges, id }) => {
        const { secret = '' } = await challenges.create({ action: 'a', id });
        // Replace the second-to-last character with a different one (never a no-op).
        const flipped = `${secret.slice(0, -2)}${secret.at(-2) === 'A' ? 'B' : 'A'}${secret.slice(-1)}`;
        for (const token of ['garbage', secret.slice(1), flipped, `${secret}x`]) {
          assert.deepEqual(await challenges.tryVerify(token), {
            valid: false,
            reason: 'invalid_token',
          });
        }
        await rejectsWithCode(challenges.verify('garbage'), 'ERR_TESSERA_SEAL_INVALID');
        assert.equal((await challenges.verify(secret)).isFirstVerification, true);
      }),
    );

    it(
      'records attempt times with log',
      run(async ({ challenges, id, clock }) => {
        const { secret } = await challenges.create({
          action: 'a',
          id,
          secret: { type: 'number', length: 6 },
        });
        const t0 = clock.now();
        await challenges.tryVerify({ action: 'a', id, token: 'nope' }, { log: true });
        clock.advance(1000);
        const ok = await challenges.verify(
          { action: 'a', id, token: secret ?? '' },
          { log: true, erase: false },
        );
        assert.deepEqual(ok.attempts, [t0, t0 + 1000]);
        assert.deepEqual((await challenges.info({ action: 'a', id })).attempts, [t0, t0 + 1000]);
      }),
    );

    it(
      'reports reasons for missing and wrong input',
      run(async ({ challenges, id }) => {
        assert.deepEqual(await challenges.tryVerify({ action: 'a', id, token: 'x' }), {
          valid: false,
          reason: 'not_found',
        });
        await challenges.create({ action: 'a', id, secret: { type: 'number', length: 6 } });
        assert.deepEqual(await challenges.tryVerify({ action: 'a', id, token: 'x' }), {
          valid: false,
          reason: 'invalid_value',
        });
        await rejectsWithCode(
          challenges.verify({ action: 'a', id, token: 'x' }),
          'ERR_TESSERA_INVALID_VALUE',
        );
        await rejectsWithCode(challenges.verify(42 as never), 'ERR_TESSERA_INVALID_INPUT');
        await rejectsWithCode(
          challenges.verify({ action: 'a', id }, { erase: 'no' as never }),
          'ERR_TESSERA_INVALID_INPUT',
        );
      }),
    );
  });

  describe('attempt budget', () => {
    it(
      'uses a challenge up after 5 wrong secrets, and regenerate does not restore it',
      run(async ({ challenges, id }) => {
        const { secret } = await challenges.create({
          action: 'sms',
          id,
          regenerate: true,
          secret: { type: 'number', length: 6 },
        });
        for (let i = 0; i < 5; i++) {
          const r = await challenges.tryVerify({ action: 'sms', id, token: `x${i}` });
          assert.deepEqual(r, { valid: false, reason: 'invalid_value' });
        }
        assert.equal((await challenges.info({ action: 'sms', id })).failedAttempts, 5);
        await rejectsWithCode(
          challenges.verify({ action: 'sms', id, token: secret ?? '' }),
          'ERR_TESSERA_USED_UP',
        );
        const again = await challenges.regenerate({ action: 'sms', id });
        await rejectsWithCode(
          challenges.verify({ action: 'sms', id, token: again.secret }),
          'ERR_TESSERA_USED_UP',
        );
        const fresh = await challenges.create({
          action: 'sms',
          id,
          secret: { type: 'number', length: 6 },
        });
        const done = await challenges.verify({ action: 'sms', id, token: fresh.secret ?? '' });
        assert.equal(done.isFirstVerification, true);
      }),
    );

    it(
      'locks an (action, id) after 10 wrong secrets across re-creation, then recovers',
      run(async ({ challenges, id, clock }) => {
        const settings = { type: 'number', length: 8 } as const;
        for (let round = 0; round < 2; round++) {
          await challenges.create({ action: 'otp', id, secret: settings, ttl: 3600 });
          for (let i = 0; i < 5; i++) {
            await rejectsWithCode(
              challenges.verify({ action: 'otp', id, token: `bad${i}` }),
              'ERR_TESSERA_INVALID_VALUE',
            );
          }
        }
        const { secret } = await challenges.create({
          action: 'otp',
          id,
          secret: settings,
          ttl: 3600,
        });
        const locked = await challenges.tryVerify({ action: 'otp', id, token: secret ?? '' });
        assert.deepEqual(locked, { valid: false, reason: 'locked', retryAfterSeconds: 900 });
        let caught: unknown;
        try {
          await challenges.verify({ action: 'otp', id, token: secret ?? '' });
        } catch (err) {
          caught = err;
        }
        assert.equal((caught as { code?: string }).code, 'ERR_TESSERA_LOCKED');
        assert.equal((caught as { retryAfterSeconds?: number }).retryAfterSeconds, 900);
        await rejectsWithCode(
          challenges.info({ action: 'otp', id, token: secret ?? '' }),
          'ERR_TESSERA_LOCKED',
        );
        clock.advance(900_000);
        const ok = await challenges.verify({ action: 'otp', id, token: secret ?? '' });
        assert.equal(ok.isFirstVerification, true);
      }),
    );

    it(
      'keeps the (action, id) budget across regenerate',
      run(
        async ({ challenges, id }) => {
          await challenges.create({
            action: 'otp',
            id,
            regenerate: true,
            secret: { type: 'number', length: 6 },
          });
          for (let round = 0; round < 3; round++) {
            await challenges.tryVerify({ action: 'otp', id, token: 'bad' });
            await challenges.regenerate({ action: 'otp', id });
          }
          const { secret } = await challenges.regenerate({ action: 'otp', id });
          const r = await challenges.tryVerify({ action: 'otp', id, token: secret });
          assert.equal(!r.valid && r.reason, 'locked');
        },
        { attemptBudget: { perChallenge: 5, perSubject: 3, lockSeconds: 60 } },
      ),
    );

    it(
      'lets sealed tokens through, since they cannot be guessed',
      run(
        async ({ challenges, id }) => {
          const { secret } = await challenges.create({ action: 'a', id });
          for (let i = 0; i < 3; i++) {
            await challenges.tryVerify({ action: 'a', id, token: `guess-${i}` });
          }
          const r = await challenges.tryVerify({ action: 'a', id, token: 'guess' });
          assert.equal(!r.valid && r.reason, 'used_up');
          assert.equal((await challenges.verify(secret ?? '')).isFirstVerification, true);
        },
        { attemptBudget: { perChallenge: 3, perSubject: 10 } },
      ),
    );

    it(
      'never evaluates more guesses than the budget, however many run in parallel',
      run(async ({ challenges, id }) => {
        const { secret } = await challenges.create({
          action: 'otp',
          id,
          secret: { type: 'number', length: 6 },
        });
        const guesses = Array.from({ length: 40 }, (_, i) =>
          challenges.tryVerify({ action: 'otp', id, token: `g${i}` }),
        );
        guesses.push(challenges.tryVerify({ action: 'otp', id, token: secret ?? '' }));
        const results = await Promise.all(guesses);
        const evaluated = results.filter((r) => r.valid || r.reason === 'invalid_value');
        assert.ok(evaluated.length <= 5, `${evaluated.length} guesses were evaluated`);
        // When the right secret is among the first guesses evaluated, its erasing
        // verify removes the challenge, and guesses that run later find nothing.
        const allowed = ['invalid_value', 'used_up', 'locked'];
        if (results.some((r) => r.valid)) allowed.push('not_found');
        assert.ok(results.every((r) => r.valid || allowed.includes(r.reason)));
      }),
    );
  });
}
