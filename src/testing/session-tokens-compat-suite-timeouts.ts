/**
 * Session timeouts in the session_tokens facade suite. By default the seed's
 * lifetime: a countdown from creation that activity never extends
 * (`decrement_timers`; `active_session` ignores timing), re-armed from the
 * time `set_session_timeout` is called, paused while detached. With
 * `slidingSessions: true`, Tessera's idle timeout that activity extends.
 * @module
 */
import assert from 'node:assert/strict';
import { TokenTables } from '../compat/session-tokens/index.js';
import { rejectsWithCode } from './runner.js';
import {
  DAY,
  HOUR,
  login,
  MINUTE,
  type makeTablesRun,
  sha,
} from './session-tokens-compat-suite-support.js';
import type { StoreSuiteOptions } from './store-suite.js';

/** Define the session timeout tests (called by `defineSessionTokensCompatSuite`). */
export function defineTablesTimeoutTests(
  options: StoreSuiteOptions,
  run: ReturnType<typeof makeTablesRun>,
): void {
  const { describe, it } = options.runner;

  describe('session timeouts', () => {
    it(
      'counts the timeout from creation by default: a session touched every 40 min still ends after 1 h',
      run(async ({ tables, clock }) => {
        const { session, hash } = await login(tables, 'u1');
        const t = tables.create_token();
        assert.equal(await tables.add_session_bounded_token(t, 'v', 'u1'), true);
        assert.equal((await tables.sessions.get({ id: hash }))?.sliding, false);
        clock.advance(40 * MINUTE);
        assert.equal(await tables.active_session(session, 'u1'), true);
        assert.equal(await tables.get_session_time_left(session), 20 * MINUTE);
        assert.equal(await tables.get_session_timeout(session), HOUR);
        clock.advance(20 * MINUTE - 1);
        assert.equal(await tables.active_session(session, 'u1'), true);
        assert.equal(await tables.transition_token_is_active(t), 'v');
        clock.advance(1);
        assert.equal(await tables.active_session(session, 'u1'), false);
        assert.equal(await tables.transition_token_is_active(t), false);
        clock.advance(100 * MINUTE);
        assert.equal(await tables.active_session(session, 'u1'), false);
      }),
    );

    it(
      'writes nothing when active_session checks a session with a lifetime',
      run(async ({ tables, clock, store, collections }) => {
        const { session, hash } = await login(tables, 'u1');
        const ref = { collection: collections.sessions, key: `s:${hash}` };
        const v0 = (await store.get(ref))?.version;
        for (let i = 0; i < 5; i++) {
          clock.advance(11 * MINUTE);
          assert.equal(await tables.active_session(session, 'u1'), true);
        }
        assert.equal((await store.get(ref))?.version, v0);
      }),
    );

    it(
      're-arms the timeout from the time set_session_timeout is called, longer or shorter',
      run(async ({ tables, clock }) => {
        const { session } = await login(tables, 'u1');
        clock.advance(50 * MINUTE);
        assert.equal(await tables.set_session_timeout(session, 30 * MINUTE), true);
        assert.equal(await tables.get_session_timeout(session), 30 * MINUTE);
        assert.equal(await tables.get_session_time_left(session), 30 * MINUTE);
        clock.advance(20 * MINUTE);
        assert.equal(await tables.active_session(session, 'u1'), true, 'past the first hour');
        assert.equal(await tables.set_session_timeout(session, 5 * MINUTE), true);
        clock.advance(5 * MINUTE - 1);
        assert.equal(await tables.active_session(session, 'u1'), true);
        clock.advance(1);
        assert.equal(await tables.active_session(session, 'u1'), false);
        assert.equal(await tables.set_session_timeout(session, HOUR), false, 'ended is ended');
      }),
    );

    it(
      'never ends a session re-armed with Infinity, but for the absolute cap',
      run(
        async ({ tables, clock }) => {
          const { session } = await login(tables, 'u1');
          clock.advance(30 * MINUTE);
          assert.equal(await tables.set_session_timeout(session, Number.POSITIVE_INFINITY), true);
          assert.equal(await tables.get_session_timeout(session), Number.POSITIVE_INFINITY);
          assert.equal(await tables.get_session_time_left(session), 2 * DAY - 30 * MINUTE);
          clock.advance(2 * DAY - 30 * MINUTE - 1);
          assert.equal(await tables.active_session(session, 'u1'), true);
          clock.advance(1);
          assert.equal(await tables.active_session(session, 'u1'), false);
        },
        { absoluteTimeoutMs: 2 * DAY },
      ),
    );

    it(
      'pauses the countdown while detached: attach resumes the time that was left',
      run(
        async ({ tables, clock }) => {
          const { session, hash } = await login(tables, 'u1');
          clock.advance(20 * MINUTE);
          assert.equal(await tables.allow_session_detach(session), true);
          assert.equal(await tables.detach_session(session), true);
          clock.advance(90 * MINUTE);
          assert.deepEqual(await tables.list_detached_sessions(), [hash]);
          assert.equal(await tables.attach_session(session), true);
          assert.equal(await tables.get_session_time_left(session), 40 * MINUTE);
          clock.advance(40 * MINUTE - 1);
          assert.equal(await tables.active_session(session, 'u1'), true);
          clock.advance(1);
          assert.equal(await tables.active_session(session, 'u1'), false);
        },
        { detachTimeoutMs: 2 * HOUR },
      ),
    );

    it(
      'lets set_session_timeout re-arm a detached session: attach resumes with the new timeout',
      run(
        async ({ tables, clock }) => {
          const { session } = await login(tables, 'u1');
          await tables.allow_session_detach(session);
          clock.advance(50 * MINUTE);
          await tables.detach_session(session);
          clock.advance(HOUR);
          assert.equal(await tables.set_session_timeout(session, 30 * MINUTE), true);
          clock.advance(HOUR);
          assert.equal(await tables.attach_session(session), true);
          assert.equal(await tables.get_session_time_left(session), 30 * MINUTE);
          clock.advance(30 * MINUTE);
          assert.equal(await tables.active_session(session, 'u1'), false);
        },
        { detachTimeoutMs: 3 * HOUR },
      ),
    );

    it(
      'gives sessions made through the seed DB adapter the same lifetime',
      run(
        async ({ seedDb, clock }) => {
          const db = seedDb();
          const session = 'db-made-session-token-0123456789';
          const hash = await db.set_session_key_value(session, 'u1');
          const tables = new TokenTables(db);
          clock.advance(15 * MINUTE);
          assert.equal(await tables.active_session(session, 'u1'), true);
          assert.equal(await db.check_hash(hash, 'u1'), true);
          clock.advance(15 * MINUTE);
          assert.equal(await db.check_hash(hash, 'u1'), false);
          assert.equal(await tables.active_session(session, 'u1'), false);
        },
        { sessionTimeoutMs: 30 * MINUTE },
      ),
    );

    it(
      'slides with activity when asked (slidingSessions: true), within the absolute cap',
      run(
        async ({ tables, clock, seedDb }) => {
          const { session, hash } = await login(tables, 'u1');
          assert.equal((await tables.sessions.get({ id: hash }))?.sliding, true);
          for (let i = 1; i <= 4; i++) {
            clock.advance(40 * MINUTE);
            assert.equal(await tables.active_session(session, 'u1'), true, `after ${40 * i} min`);
          }
          clock.advance(40 * MINUTE);
          assert.equal(await tables.active_session(session, 'u1'), false, 'capped at 3 h');
          const idle = await login(tables, 'u2');
          clock.advance(HOUR);
          assert.equal(await tables.active_session(idle.session, 'u2'), false, 'idled out');
          const viaDb = 'db-made-session-token-sliding-01';
          await seedDb({ slidingSessions: true }).set_session_key_value(viaDb, 'u3');
          clock.advance(40 * MINUTE);
          assert.equal(await tables.active_session(viaDb, 'u3'), true);
          clock.advance(40 * MINUTE);
          assert.equal(await tables.active_session(viaDb, 'u3'), true);
        },
        { slidingSessions: true, absoluteTimeoutMs: 3 * HOUR },
      ),
    );

    it(
      'checks the owner before anything else: active_session with another owner writes nothing',
      run(
        async ({ tables, clock, store, collections }) => {
          const { session, hash } = await login(tables, 'u1');
          const t = tables.create_token();
          await tables.add_transferable_token(t, 'ticket', 'u1');
          const sref = { collection: collections.sessions, key: `s:${hash}` };
          const tref = { collection: collections.tokens, key: `t:${sha(t)}` };
          const versions = async () => [
            (await store.get(sref))?.version,
            (await store.get(tref))?.version,
          ];
          const v0 = await versions();
          clock.advance(40 * MINUTE); // past the activity interval: a check by u1 would slide it
          assert.equal(await tables.active_session(session, 'u2'), false);
          assert.equal(await tables.active_session(session, 'u1\n'), false, 'not a name');
          assert.deepEqual(await versions(), v0, 'no activity recorded for another owner');
          assert.equal(await tables.get_session_time_left(session), 20 * MINUTE);
          assert.equal(await tables.active_session(session, 'u1'), true);
          const v1 = await versions();
          assert.equal(v1[0], (v0[0] as number) + 1, 'the owner’s check is activity');
          assert.equal(await tables.get_session_time_left(session), HOUR);
          clock.advance(HOUR); // the session times out with its transferable token on it
          assert.equal(await tables.active_session(session, 'u2'), false);
          assert.deepEqual(await versions(), v1, 'nor releases its tokens');
          assert.equal(await tables.active_session(session, 'u1'), false);
        },
        { slidingSessions: true },
      ),
    );

    it(
      'rests on native sessions created with sliding: false, which refuse a sliding that is not a boolean',
      run(async ({ tables, clock }) => {
        const { sessions } = tables;
        const { token, session } = await sessions.create({
          owner: 'u1',
          idleTimeoutMs: HOUR,
          sliding: false,
        });
        assert.equal(session.sliding, false);
        clock.advance(45 * MINUTE);
        const r = await sessions.validate(token);
        assert.equal(r.valid && r.session.lastActiveAt, session.createdAt);
        clock.advance(15 * MINUTE);
        assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'expired' });
        await rejectsWithCode(
          sessions.create({ owner: 'u1', sliding: 'no' as never }),
          'ERR_TESSERA_INVALID_INPUT',
        );
      }),
    );

    it(
      'keeps the kind of timeout a session was created with, whatever facade reads it',
      run(async ({ tables, make, clock }) => {
        const sliding = make({ slidingSessions: true });
        const fixed = await login(tables, 'u1');
        const slides = await login(sliding, 'u2');
        for (let i = 0; i < 2; i++) {
          clock.advance(40 * MINUTE);
          assert.equal(await sliding.active_session(fixed.session, 'u1'), i === 0);
          assert.equal(await tables.active_session(slides.session, 'u2'), true);
        }
      }),
    );
  });
}
