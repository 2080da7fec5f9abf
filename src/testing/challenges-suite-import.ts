/**
 * Challenges conformance cases: importing an existing challenge whose plain
 * secret is known (`import`).
 * @module
 */
import assert from 'node:assert/strict';
import { type ChallengesKit, dumpChallenges } from './challenges-suite-support.js';
import { rejectsWithCode } from './runner.js';

const MINUTE = 60_000;

/** Define these cases (see `defineChallengesSuite`). */
export function defineImportCases(kit: ChallengesKit): void {
  const { describe, it, run } = kit;
  describe('import', () => {
    it(
      'keeps every field, stores the secret only as a digest, and verifies it as a plain secret',
      run(async ({ challenges, id, store, clock }) => {
        const now = clock.now();
        const secret = 'Kq7mZ2xP';
        const imported = await challenges.import({
          action: 'register',
          id,
          secret,
          settings: { type: 'alphabet', alphabet: 'KqmZxP27', length: 8 },
          metadata: { from: 'elsewhere', n: [1, 2] },
          createdAt: now - 5 * MINUTE,
          expiresAt: now + 10 * MINUTE,
        });
        const expected = {
          action: 'register',
          id,
          uid: null,
          settings: { type: 'alphabet', alphabet: 'KqmZxP27', length: 8, encrypt: false },
          metadata: { from: 'elsewhere', n: [1, 2] },
          createdAt: now - 5 * MINUTE,
          expiresAt: now + 10 * MINUTE,
          ttl: 15 * 60,
          regenerate: false,
          generation: 1,
          verifiedAt: null,
          failedAttempts: 0,
          attempts: [],
        };
        assert.deepEqual({ ...imported }, expected);
        assert.deepEqual({ ...(await challenges.info({ action: 'register', id })) }, expected);
        assert.ok(!(await dumpChallenges(store)).includes(secret), 'the secret is not stored');
        const r = await challenges.tryVerify({ action: 'register', id, token: 'Kq7mZ2xQ' });
        assert.deepEqual(r, { valid: false, reason: 'invalid_value' });
        clock.advance(MINUTE);
        const done = await challenges.verify({ action: 'register', id, token: secret });
        assert.equal(done.isFirstVerification, true);
        assert.equal(done.verifiedAt, now + MINUTE);
        assert.deepEqual(done.metadata, { from: 'elsewhere', n: [1, 2] });
        await rejectsWithCode(challenges.info({ action: 'register', id }), 'ERR_TESSERA_NOT_FOUND');
      }),
    );

    it(
      'keeps the first verification time, and never expires with expiresAt null',
      run(async ({ challenges, id, clock }) => {
        const verifiedAt = clock.now() - MINUTE;
        await challenges.import({
          action: 'link',
          id,
          secret: 'the-old-secret',
          expiresAt: null,
          verifiedAt,
        });
        clock.advance(400 * 24 * 60 * MINUTE);
        const info = await challenges.info({ action: 'link', id });
        assert.equal(info.expiresAt, null);
        assert.equal(info.ttl, 'never');
        assert.deepEqual(info.settings, { type: 'uuid', encrypt: true });
        const again = await challenges.verify(
          { action: 'link', id, token: 'the-old-secret' },
          { erase: false },
        );
        assert.equal(again.isFirstVerification, false);
        assert.equal(again.verifiedAt, verifiedAt);
      }),
    );

    it(
      'imports a challenge without a secret, completed with its action and id',
      run(async ({ challenges, id, clock }) => {
        const imported = await challenges.import({
          action: 'confirm',
          id,
          secret: null,
          expiresAt: clock.now() + MINUTE,
        });
        assert.equal(imported.settings, false);
        assert.equal(imported.createdAt, clock.now());
        const done = await challenges.verify({ action: 'confirm', id });
        assert.equal(done.isFirstVerification, true);
      }),
    );

    it(
      'refuses, atomically, while a live challenge exists, and replaces it when told to',
      run(async ({ challenges, id, clock }) => {
        const created = await challenges.create({
          action: 'reset',
          id,
          secret: { type: 'number', length: 6 },
        });
        const input = {
          action: 'reset',
          id,
          secret: '000000',
          settings: { type: 'number', length: 6 } as const,
          expiresAt: clock.now() + MINUTE,
        };
        await rejectsWithCode(challenges.import(input), 'ERR_TESSERA_ALREADY_EXISTS');
        assert.equal(
          (await challenges.tryVerify({ action: 'reset', id, token: '000000' })).valid,
          created.secret === '000000',
        );
        await challenges.import({ ...input, replace: true });
        if (created.secret !== '000000') {
          const old = await challenges.tryVerify({
            action: 'reset',
            id,
            token: created.secret ?? '',
          });
          assert.deepEqual(old, { valid: false, reason: 'invalid_value' });
        }
        assert.equal((await challenges.verify({ action: 'reset', id, token: '000000' })).id, id);
      }),
    );

    it(
      'is not blocked by an expired challenge',
      run(async ({ challenges, id, clock }) => {
        await challenges.create({ action: 'old', id, ttl: 60 });
        clock.advance(61_000);
        const imported = await challenges.import({
          action: 'old',
          id,
          secret: 'fresh-secret',
          expiresAt: clock.now() + MINUTE,
        });
        assert.equal(imported.generation, 1);
        assert.equal(
          (await challenges.verify({ action: 'old', id, token: 'fresh-secret' })).id,
          id,
        );
      }),
    );

    it(
      'gives one success to K parallel imports of the same challenge',
      run(async ({ challenges, id, clock }) => {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            challenges.import({
              action: 'race',
              id,
              secret: `secret-${i}`,
              expiresAt: clock.now() + MINUTE,
            }),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.equal((r.reason as { code?: unknown }).code, 'ERR_TESSERA_ALREADY_EXISTS');
          }
        }
        const winner = results.findIndex((r) => r.status === 'fulfilled');
        const done = await challenges.verify({ action: 'race', id, token: `secret-${winner}` });
        assert.equal(done.id, id);
      }),
    );

    it(
      'opens the throttle window that refuses create until it ends',
      run(async ({ challenges, id, clock }) => {
        await challenges.import({
          action: 'otp',
          id,
          secret: '1234',
          settings: { type: 'number', length: 4 },
          expiresAt: clock.now() + 10 * MINUTE,
          throttleUntil: clock.now() + 90_000,
        });
        let retryAfter: unknown;
        try {
          await challenges.create({ action: 'otp', id });
        } catch (err) {
          retryAfter = (err as { code?: unknown; retryAfterSeconds?: unknown }).retryAfterSeconds;
          assert.equal((err as { code?: unknown }).code, 'ERR_TESSERA_THROTTLED');
        }
        assert.equal(retryAfter, 90);
        clock.advance(90_000);
        await challenges.create({ action: 'otp', id });
        // A window that already ended opens nothing.
        await challenges.import({
          action: 'otp2',
          id,
          secret: '5678',
          expiresAt: clock.now() + MINUTE,
          throttleUntil: clock.now(),
        });
        await challenges.create({ action: 'otp2', id });
      }),
    );

    it(
      'finds a challenge by its uid and regenerates it with its settings',
      run(async ({ challenges, id, clock }) => {
        const uid = `uid-${id}`;
        await challenges.import({
          action: 'invite',
          id,
          secret: '11111111',
          settings: { type: 'number', length: 8 },
          uid,
          expiresAt: clock.now() + MINUTE,
        });
        const info = await challenges.info({ uid });
        assert.equal(info.id, id);
        assert.equal(info.regenerate, true);
        const next = await challenges.regenerate({ uid });
        assert.match(next.secret, /^\d{8}$/);
        assert.equal(next.generation, 2);
        if (next.secret !== '11111111') {
          const old = await challenges.tryVerify({ action: 'invite', id, token: '11111111' });
          assert.deepEqual(old, { valid: false, reason: 'invalid_value' });
        }
        assert.equal(
          (await challenges.verify({ action: 'invite', id, token: next.secret })).generation,
          2,
        );
      }),
    );

    it(
      'refuses an expired challenge and malformed input before writing anything',
      run(async ({ challenges, id, clock }) => {
        const base = { action: 'bad', id, secret: 's3cret!', expiresAt: clock.now() + MINUTE };
        await rejectsWithCode(
          challenges.import({ ...base, expiresAt: clock.now() }),
          'ERR_TESSERA_EXPIRED',
        );
        const invalid: unknown[] = [
          { ...base, secret: '' },
          { ...base, secret: undefined },
          { ...base, secret: null, settings: { type: 'uuid' } },
          { ...base, settings: false },
          { ...base, settings: { type: 'alphabet', alphabet: 'ab', length: 4 } },
          { ...base, uid: '' },
          { ...base, createdAt: -1 },
          { ...base, createdAt: 1.5 },
          { ...base, expiresAt: undefined },
          { ...base, verifiedAt: Number.NaN },
          { ...base, throttleUntil: '1' },
          { ...base, replace: 'yes' },
          { ...base, metadata: { toobig: 'x'.repeat(40_000) } },
          { ...base, ttl: 60 },
          { ...base, action: '' },
        ];
        for (const input of invalid) {
          await rejectsWithCode(
            challenges.import(input as Parameters<typeof challenges.import>[0]),
            'ERR_TESSERA_INVALID_INPUT',
          );
        }
        await rejectsWithCode(challenges.info({ action: 'bad', id }), 'ERR_TESSERA_NOT_FOUND');
        await challenges.create({ action: 'bad', id, throttle: true });
      }),
    );
  });
}
