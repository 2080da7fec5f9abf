/**
 * Session part of the session_tokens facade suite: `add_session`,
 * `active_session`, timeouts, detach/attach, destroy and reload.
 * @module
 */
import assert from 'node:assert/strict';
import { rejectsWithCode } from './runner.js';
import {
  HOUR,
  login,
  MINUTE,
  type makeTablesRun,
  sha,
} from './session-tokens-compat-suite-support.js';
import type { StoreSuiteOptions } from './store-suite.js';

/** Define the session tests (called by `defineSessionTokensCompatSuite`). */
export function defineTablesSessionTests(
  options: StoreSuiteOptions,
  run: ReturnType<typeof makeTablesRun>,
): void {
  const { describe, it } = options.runner;

  describe('sessions', () => {
    it(
      'adds a session and returns its hash, shared or not',
      run(async ({ tables }) => {
        const session = tables.create_token();
        const hash = await tables.add_session(session, 'u1', null, false);
        assert.equal(hash, sha(session));
        assert.equal(await tables.active_session(session, 'u1'), true);
        assert.equal(await tables.active_session(session, 'u2'), false);
        assert.equal(await tables.active_session('unknown-session-0123456789', 'u1'), false);
        assert.equal(await tables.active_session('short', 'u1'), false);
        assert.equal(await tables.add_session(session, 'u1'), hash);
        await rejectsWithCode(tables.add_session(session, 'u2'), 'ERR_TESSERA_ALREADY_EXISTS');
      }),
    );

    it(
      'binds the optional t_token to the session, with the hash as its value',
      run(async ({ tables }) => {
        const session = tables.create_token();
        const t = tables.create_token();
        const hash = await tables.add_session(session, 'u1', t, true);
        assert.equal(await tables.transition_token_is_active(t), hash);
        assert.equal(await tables.from_token(t), 'u1');
        await tables.destroy_session(session);
        assert.equal(await tables.transition_token_is_active(t), false);
      }),
    );

    it(
      'times a session out after the general timeout (1 h by default), tearing it down (bugs 3, 11)',
      run(async ({ tables, clock }) => {
        const { session } = await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_session_bounded_token(t, 'v', 'u1');
        assert.equal(await tables.get_session_timeout(session), HOUR);
        assert.equal(await tables.get_session_time_left(session), HOUR);
        clock.advance(HOUR);
        assert.equal(await tables.active_session(session, 'u1'), false);
        assert.equal(await tables.transition_token_is_active(t), false);
        assert.equal(await tables.get_session_time_left(session), undefined);
      }),
    );

    it(
      'sets general and per-session timeouts in ms, Infinity meaning never',
      run(async ({ tables, clock }) => {
        tables.set_general_session_timeout(10 * MINUTE);
        const a = await login(tables, 'u1');
        assert.equal(await tables.get_session_timeout(a.session), 10 * MINUTE);
        assert.equal(await tables.set_session_timeout(a.session, 20 * MINUTE), true);
        assert.equal(await tables.get_session_time_left(a.session), 20 * MINUTE);
        tables.set_general_session_timeout(Number.POSITIVE_INFINITY);
        const b = await login(tables, 'u2');
        assert.equal(await tables.get_session_timeout(b.session), Number.POSITIVE_INFINITY);
        clock.advance(25 * MINUTE);
        assert.equal(await tables.active_session(a.session, 'u1'), false);
        assert.equal(await tables.active_session(b.session, 'u2'), true);
        assert.equal(await tables.set_session_timeout(a.session, MINUTE), false);
      }),
    );

    it(
      'detaches only when allowed, keeps the session listed and alive, and attach resumes it (bug 2)',
      run(
        async ({ tables, clock }) => {
          const { session, hash } = await login(tables, 'u1');
          assert.equal(await tables.detach_session(session), false);
          assert.equal(await tables.allow_session_detach(session), true);
          assert.equal(await tables.detach_session(session), true);
          assert.equal(await tables.active_session(session, 'u1'), false);
          assert.deepEqual(await tables.list_detached_sessions(), [hash]);
          clock.advance(90 * MINUTE);
          assert.equal(await tables.attach_session(hash), true);
          assert.deepEqual(await tables.list_detached_sessions(), []);
          clock.advance(MINUTE);
          assert.equal(await tables.active_session(session, 'u1'), true);
        },
        { detachTimeoutMs: 2 * HOUR },
      ),
    );

    it(
      'lets a detached session die after its detachment timeout',
      run(
        async ({ tables, clock }) => {
          const { session } = await login(tables, 'u1');
          await tables.allow_session_detach(session);
          await tables.detach_session(session);
          clock.advance(2 * HOUR);
          assert.deepEqual(await tables.list_detached_sessions(), []);
          assert.equal(await tables.attach_session(session), false);
        },
        { detachTimeoutMs: 2 * HOUR },
      ),
    );

    it(
      'destroys a session by its token, its id, or a token bound to it (bug 4)',
      run(async ({ tables }) => {
        const a = await login(tables, 'u1');
        assert.equal(await tables.destroy_session(a.session), true);
        assert.equal(await tables.active_session(a.session, 'u1'), false);
        const b = await login(tables, 'u1');
        assert.equal(await tables.destroy_session(b.hash), true);
        const c = await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_session_bounded_token(t, 'v', 'u1');
        assert.equal(await tables.destroy_session(t), true);
        assert.equal(await tables.active_session(c.session, 'u1'), false);
        assert.equal(await tables.destroy_session(c.session), false);
      }),
    );

    it(
      'answers from_token for a session token too, as the seed mapped sessions to owners',
      run(async ({ tables }) => {
        const { session, hash } = await login(tables, 'u1');
        assert.equal(await tables.from_token(session), 'u1');
        assert.equal(await tables.from_token(hash), 'u1');
        await tables.destroy_session(session);
        assert.equal(await tables.from_token(session), '');
      }),
    );

    it(
      'reloads nothing: reload_session_info checks the session, owner and hash (bug 7)',
      run(async ({ tables }) => {
        const { session, hash } = await login(tables, 'u1');
        assert.equal(await tables.reload_session_info(session, 'u1', hash), true);
        assert.equal(await tables.reload_session_info(session, 'u2', hash), false);
        assert.equal(await tables.reload_session_info(session, 'u1', 'x'.repeat(43)), false);
        assert.equal(await tables.reload_token_info(tables.create_token()), undefined);
      }),
    );
  });
}
