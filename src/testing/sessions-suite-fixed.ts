/**
 * Sessions created with `sliding: false` in the sessions conformance suite:
 * the idle timeout is a fixed countdown from creation that `validate` never
 * extends nor writes, re-armed only by `setTimeouts`, paused while detached,
 * always bounded by the absolute cap; every session answer reports it.
 * @module
 */
import assert from 'node:assert/strict';
import type { SessionInfo } from '../sessions/types.js';
import { rejectsWithCode } from './runner.js';
import { all, HOUR, MINUTE, type makeRun } from './sessions-suite-support.js';
import type { StoreSuiteOptions } from './store-suite.js';

/** Define the `sliding: false` tests (called by `defineSessionsSuite`). */
export function defineFixedCountdownTests(
  options: StoreSuiteOptions,
  run: ReturnType<typeof makeRun>,
): void {
  const { describe, it } = options.runner;

  describe('fixed countdown (sliding: false)', () => {
    it(
      'writes nothing on validate and never extends the countdown',
      run(async ({ sessions, owner, clock, store, collections }) => {
        const { token, session } = await sessions.create({
          owner,
          idleTimeoutMs: HOUR,
          sliding: false,
        });
        assert.equal(session.expiresAt, session.createdAt + HOUR);
        const ref = { collection: collections.sessions, key: `s:${session.id}` };
        const v0 = (await store.get(ref))!.version;
        // Every 10 minutes is past the activity interval a sliding session would write at.
        for (let i = 1; i < 6; i++) {
          clock.advance(10 * MINUTE);
          const r = await sessions.validate(token);
          assert.equal(r.valid, true, `valid after ${10 * i} min`);
          assert.equal(r.valid && r.session.lastActiveAt, session.createdAt);
          assert.equal(r.valid && r.session.expiresAt, session.createdAt + HOUR);
        }
        assert.equal((await store.get(ref))!.version, v0, 'no activity write');
        clock.advance(10 * MINUTE - 1);
        assert.equal((await sessions.validate(token)).valid, true);
        clock.advance(1);
        assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'expired' });
        assert.equal(await sessions.get({ token }), null);
      }),
    );

    it(
      'ends at the absolute cap when it comes first, also after setTimeouts re-arms the countdown',
      run(async ({ sessions, owner, clock }) => {
        const { token, session } = await sessions.create({
          owner,
          idleTimeoutMs: 2 * HOUR,
          absoluteTimeoutMs: 3 * HOUR,
          sliding: false,
        });
        assert.equal(session.absoluteExpiresAt, session.createdAt + 3 * HOUR);
        clock.advance(90 * MINUTE);
        const rearmed = await sessions.setTimeouts({ token }, { idleTimeoutMs: 2 * HOUR });
        assert.equal(rearmed.sliding, false);
        assert.equal(rearmed.lastActiveAt, clock.now(), 'the countdown restarts now');
        assert.equal(rearmed.expiresAt, session.createdAt + 3 * HOUR, 'but within the cap');
        clock.set(session.createdAt + 3 * HOUR - 1);
        assert.equal((await sessions.validate(token)).valid, true);
        clock.advance(1);
        assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'expired' });

        const endless = await sessions.create({
          owner,
          idleTimeoutMs: null,
          absoluteTimeoutMs: HOUR,
          sliding: false,
        });
        assert.equal(endless.session.expiresAt, clock.now() + HOUR);
        clock.advance(HOUR);
        assert.deepEqual(await sessions.validate(endless.token), {
          valid: false,
          reason: 'expired',
        });
      }),
    );

    it(
      'pauses the countdown while detached: attach resumes what was left, the detachment timeout still ends it',
      run(async ({ sessions, owner, clock }) => {
        const { token, session } = await sessions.create({
          owner,
          idleTimeoutMs: HOUR,
          detachTimeoutMs: 2 * HOUR,
          detachable: true,
          sliding: false,
        });
        clock.advance(20 * MINUTE);
        const detached = await sessions.detach({ token });
        assert.equal(detached.expiresAt, clock.now() + 2 * HOUR, 'the detachment timeout rules');
        assert.equal(detached.sliding, false);
        clock.advance(90 * MINUTE);
        const listed = await all((o) => sessions.listDetached(o));
        assert.deepEqual(
          listed.map((s) => [s.id, s.sliding]),
          [[session.id, false]],
        );
        const attached = await sessions.attach({ token });
        assert.equal(attached.sliding, false);
        assert.equal(attached.lastActiveAt, session.createdAt + 90 * MINUTE, 'moved on by 90 min');
        assert.equal(attached.expiresAt, clock.now() + 40 * MINUTE, 'the 40 min that were left');
        clock.advance(40 * MINUTE - 1);
        assert.equal((await sessions.validate(token)).valid, true);
        clock.advance(1);
        assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'expired' });

        const other = await sessions.create({
          owner,
          idleTimeoutMs: HOUR,
          detachTimeoutMs: 30 * MINUTE,
          detachable: true,
          sliding: false,
        });
        await sessions.detach({ token: other.token });
        clock.advance(30 * MINUTE);
        assert.equal(await sessions.get({ token: other.token }), null, 'detached past its timeout');
        await rejectsWithCode(sessions.attach({ token: other.token }), 'ERR_TESSERA_NOT_FOUND');
      }),
    );

    it(
      'lets setTimeouts re-arm a detached session: attach resumes with the full new timeout',
      run(async ({ sessions, owner, clock }) => {
        const { token } = await sessions.create({
          owner,
          idleTimeoutMs: HOUR,
          detachTimeoutMs: 3 * HOUR,
          detachable: true,
          sliding: false,
        });
        clock.advance(50 * MINUTE);
        await sessions.detach({ token });
        clock.advance(HOUR);
        const rearmed = await sessions.setTimeouts({ token }, { idleTimeoutMs: 30 * MINUTE });
        assert.equal(rearmed.detached, true);
        clock.advance(HOUR);
        const attached = await sessions.attach({ token });
        assert.equal(attached.expiresAt, clock.now() + 30 * MINUTE);
      }),
    );

    it(
      'reports sliding on every session answer (true by default), and refuses one that is not a boolean',
      run(async ({ sessions, owner, clock }) => {
        const fixed = await sessions.create({ owner, sliding: false, detachable: true });
        const slides = await sessions.create({ owner });
        const explicit = await sessions.create({ owner, sliding: true });
        assert.equal(fixed.session.sliding, false);
        assert.equal(slides.session.sliding, true);
        assert.equal(explicit.session.sliding, true);
        clock.advance(2 * HOUR);
        const seen: Array<SessionInfo | null> = [
          await sessions.get({ token: fixed.token }),
          await sessions.get({ id: fixed.session.id }),
          await sessions.setTimeouts({ token: fixed.token }, { detachTimeoutMs: HOUR }),
          await sessions.allowDetach({ token: fixed.token }, true),
        ];
        const r = await sessions.validate(fixed.token);
        seen.push(r.valid ? r.session : null);
        for (const s of seen) assert.equal(s?.sliding, false);
        const byId = new Map(
          (await all((o) => sessions.listByOwner(owner, o))).map((s) => [s.id, s.sliding]),
        );
        assert.equal(byId.get(fixed.session.id), false);
        assert.equal(byId.get(slides.session.id), true);
        const moved = await sessions.validate(slides.token);
        assert.equal(moved.valid && moved.session.lastActiveAt, clock.now(), 'sliding writes');
        for (const bad of ['no', 0, null, {}]) {
          await rejectsWithCode(
            sessions.create({ owner, sliding: bad as never }),
            'ERR_TESSERA_INVALID_INPUT',
          );
        }
      }),
    );
  });
}
