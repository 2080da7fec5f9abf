/**
 * Challenges conformance cases: regenerate, remove, key rotation.
 * @module
 */
import assert from 'node:assert/strict';
import { createChallenges } from '../challenges/challenges.js';
import type { RegeneratedChallenge } from '../challenges/types.js';
import { testKeyring } from './action-tokens-suite.js';
import { type ChallengesKit, SEALED_RE } from './challenges-suite-support.js';
import { rejectsWithCode } from './runner.js';

/** Define these cases (see `defineChallengesSuite`). */
export function defineLifecycleCases(kit: ChallengesKit): void {
  const { describe, it, run } = kit;
  describe('regenerate', () => {
    it(
      'issues a new secret, keeps metadata, uid and expiry, and retires the old one',
      run(async ({ challenges, id, clock }) => {
        const created = await challenges.create({
          action: 'sms',
          id,
          ttl: 600,
          regenerate: true,
          metadata: { n: 1 },
          secret: { type: 'number', length: 8 },
        });
        clock.advance(60_000);
        const again = await challenges.regenerate({ uid: created.uid ?? '' });
        assert.equal(again.uid, created.uid);
        assert.equal(again.generation, 2);
        assert.match(again.secret, /^\d{8}$/);
        const info = await challenges.info({ action: 'sms', id });
        assert.deepEqual(info.metadata, { n: 1 });
        assert.equal(info.expiresAt, created.expiresAt);
        assert.equal(info.generation, 2);
        if (again.secret !== created.secret) {
          assert.deepEqual(
            await challenges.tryVerify({ action: 'sms', id, token: created.secret ?? '' }),
            { valid: false, reason: 'invalid_value' },
          );
        }
        const done = await challenges.verify({ action: 'sms', id, token: again.secret });
        assert.equal(done.generation, 2);
      }),
    );

    it(
      'works for sealed tokens and never allows a replay',
      run(async ({ challenges, id }) => {
        const created = await challenges.create({ action: 'a', id, regenerate: true });
        const again = await challenges.regenerate({ action: 'a', id });
        assert.match(again.secret, SEALED_RE);
        assert.deepEqual(await challenges.tryVerify(created.secret ?? ''), {
          valid: false,
          reason: 'invalid_value',
        });
        await rejectsWithCode(challenges.info(created.secret ?? ''), 'ERR_TESSERA_INVALID_VALUE');
        assert.equal((await challenges.verify(again.secret)).isFirstVerification, true);
        for (const token of [again.secret, created.secret ?? '']) {
          const r = await challenges.tryVerify(token);
          assert.equal(r.valid, false);
        }
      }),
    );

    it(
      'never lets two parallel regenerates both win the same generation',
      run(async ({ challenges, id }) => {
        await challenges.create({ action: 'a', id, regenerate: true });
        const results = await Promise.allSettled([
          challenges.regenerate({ action: 'a', id }),
          challenges.regenerate({ action: 'a', id }),
        ]);
        const won = results.filter(
          (r): r is PromiseFulfilledResult<RegeneratedChallenge> => r.status === 'fulfilled',
        );
        assert.ok(won.length >= 1, 'at least one regenerate wins');
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.equal((r.reason as { code?: string }).code, 'ERR_TESSERA_CONFLICT');
          }
        }
        // Overlapping racers: one wins and the other conflicts. Racers the backend
        // happened to serialize both win, each with its own generation.
        const generations = won.map((r) => r.value.generation).sort();
        assert.deepEqual(generations, won.length === 1 ? [2] : [2, 3]);
        const latest = won.find((r) => r.value.generation === generations.at(-1));
        assert.equal(
          (await challenges.verify(latest!.value.secret)).generation,
          generations.at(-1),
        );
        if (won.length === 2) {
          const older = won.find((r) => r.value.generation === 2);
          const replay = await challenges.tryVerify(older!.value.secret);
          assert.equal(replay.valid, false);
        }
      }),
    );

    it(
      'refuses challenges created without regenerate, and honours a resend cooldown',
      run(async ({ challenges, id, clock }) => {
        await challenges.create({ action: 'a', id });
        await rejectsWithCode(challenges.regenerate({ action: 'a', id }), 'ERR_TESSERA_NOT_FOUND');
        await rejectsWithCode(challenges.regenerate({ uid: 'nope' }), 'ERR_TESSERA_NOT_FOUND');
        await challenges.create({ action: 'b', id, regenerate: true });
        await challenges.regenerate({ action: 'b', id }, { throttle: 60 });
        await rejectsWithCode(
          challenges.regenerate({ action: 'b', id }, { throttle: 60 }),
          'ERR_TESSERA_THROTTLED',
        );
        clock.advance(60_000);
        const r = await challenges.regenerate({ action: 'b', id }, { throttle: 60 });
        assert.equal(r.generation, 3);
      }),
    );
  });

  describe('remove', () => {
    it(
      'removes by action and id, by uid and by sealed token',
      run(async ({ challenges, id }) => {
        await challenges.create({ action: 'a', id });
        assert.equal(await challenges.remove({ action: 'a', id }), true);
        assert.equal(await challenges.remove({ action: 'a', id }), false);
        const u = await challenges.create({ action: 'b', id, regenerate: true });
        assert.equal(await challenges.remove({ uid: u.uid ?? '' }), true);
        await rejectsWithCode(challenges.info({ action: 'b', id }), 'ERR_TESSERA_NOT_FOUND');
        const s = await challenges.create({ action: 'c', id, regenerate: true });
        const again = await challenges.regenerate({ action: 'c', id });
        assert.equal(
          await challenges.remove(s.secret ?? ''),
          false,
          'a stale token removes nothing',
        );
        assert.equal(await challenges.remove(again.secret), true);
        const f = await challenges.create({ action: 'd', id, secret: false });
        assert.equal(f.secret, undefined);
        assert.equal(await challenges.remove({ action: 'd', id }), true);
      }),
    );

    it(
      'conflicts when the challenge moved past the expected generation',
      run(async ({ challenges, id }) => {
        await challenges.create({ action: 'a', id, regenerate: true });
        await challenges.regenerate({ action: 'a', id });
        await rejectsWithCode(
          challenges.remove({ action: 'a', id }, { generation: 1 }),
          'ERR_TESSERA_CONFLICT',
        );
        assert.equal(await challenges.remove({ action: 'a', id }, { generation: 2 }), true);
      }),
    );
  });

  describe('key rotation', () => {
    it(
      'keeps verifying challenges created under a rotated-out key',
      run(async ({ store, clock, id }) => {
        const before = createChallenges({ store, keyring: testKeyring('k1'), clock });
        const sealed = await before.create({ action: 'a', id });
        const plain = await before.create({
          action: 'b',
          id,
          secret: { type: 'number', length: 8 },
        });
        const after = createChallenges({ store, keyring: testKeyring('k2'), clock });
        assert.equal((await after.verify(sealed.secret ?? '')).isFirstVerification, true);
        const done = await after.verify({ action: 'b', id, token: plain.secret ?? '' });
        assert.equal(done.isFirstVerification, true);
        const fresh = await after.create({ action: 'a', id });
        assert.match(fresh.secret ?? '', /^v1\.k2\./);
      }),
    );
  });
}
