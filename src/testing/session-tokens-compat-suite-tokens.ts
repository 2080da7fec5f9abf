/**
 * Transition-token part of the session_tokens facade suite: values and
 * timeouts, bound and transferable tokens, transfer, acquire, sellable state,
 * listings and destroy.
 * @module
 */
import assert from 'node:assert/strict';
import { rejectsWithCode } from './runner.js';
import {
  DAY,
  HOUR,
  INVALID,
  login,
  MINUTE,
  type makeTablesRun,
  sha,
  sorted,
} from './session-tokens-compat-suite-support.js';
import type { StoreSuiteOptions } from './store-suite.js';

/** Define the transition-token tests (called by `defineSessionTokensCompatSuite`). */
export function defineTablesTokenTests(
  options: StoreSuiteOptions,
  run: ReturnType<typeof makeTablesRun>,
): void {
  const { describe, it } = options.runner;

  describe('tokens', () => {
    it(
      'keeps tokens without a timeout by default (bug 1) and stores values as text',
      run(async ({ tables, clock }) => {
        const t = tables.create_token();
        await tables.add_token(t, { a: 1 });
        assert.equal(await tables.transition_token_is_active(t), '{"a":1}');
        clock.advance(365 * DAY);
        assert.equal(await tables.transition_token_is_active(t), '{"a":1}');
        assert.equal(await tables.get_token_timeout(t), Number.POSITIVE_INFINITY);
        assert.equal(await tables.get_token_time_left(t), Number.POSITIVE_INFINITY);
        await tables.add_token(t, 'replaced');
        assert.equal(await tables.transition_token_is_active(t), 'replaced');
        assert.equal(await tables.transition_token_is_active(tables.create_token()), false);
      }),
    );

    it(
      'honours general and per-token timeouts',
      run(async ({ tables, clock }) => {
        tables.set_general_token_timeout(10 * MINUTE);
        const t = tables.create_token();
        await tables.add_token(t, 'v');
        assert.equal(await tables.get_token_timeout(t), 10 * MINUTE);
        assert.equal(await tables.set_token_timeout(t, 30 * MINUTE), true);
        clock.advance(20 * MINUTE);
        assert.equal(await tables.get_token_time_left(t), 10 * MINUTE);
        clock.advance(10 * MINUTE);
        assert.equal(await tables.transition_token_is_active(t), false);
        assert.equal(await tables.set_token_timeout(t, MINUTE), false);
      }),
    );

    it(
      'bounds a bound token’s time left by its session’s',
      run(async ({ tables }) => {
        await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_session_bounded_token(t, 'v', 'u1');
        assert.equal(await tables.get_token_time_left(t), HOUR);
      }),
    );

    it(
      'adds no bound token for an owner without a live session, and says so with false (the seed ignored it)',
      run(async ({ tables }) => {
        const t = tables.create_token();
        assert.equal(await tables.add_session_bounded_token(t, 'v', 'nobody'), false);
        assert.equal(await tables.transition_token_is_active(t), false);
        const { session } = await login(tables, 'u1');
        assert.equal(await tables.add_session_bounded_token(t, 'v', 'u1'), true);
        await tables.destroy_session(session);
        assert.equal(
          await tables.add_session_bounded_token(tables.create_token(), 'v', 'u1'),
          false,
        );
      }),
    );

    it(
      'refuses tokens too short to be looked up by value',
      run(async ({ tables }) => {
        await rejectsWithCode(tables.add_token('short', 'v'), INVALID);
        assert.equal(await tables.transition_token_is_active('short'), false);
      }),
    );

    it(
      'never lets a value overwrite the token’s own state (bug 13)',
      run(async ({ tables }) => {
        await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_transferable_token(t, { _sellable: true, _price: 9, _owner: 'x' }, 'u1');
        assert.deepEqual(await tables.list_sellable_tokens(), []);
        assert.equal(await tables.from_token(t), 'u1');
        assert.deepEqual(JSON.parse((await tables.transition_token_is_active(t)) as string), {
          _sellable: true,
          _price: 9,
          _owner: 'x',
        });
      }),
    );

    it(
      'carries transferable tokens in the owner’s session and lists them by id (seed spelling too)',
      run(async ({ tables }) => {
        const { session } = await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'v', 'u1');
        assert.equal(await tables.token_is_transferable(t), true);
        assert.equal(await tables.token_is_transferable(sha(t)), true);
        assert.deepEqual(await tables.list_tranferable_tokens(session), [sha(t)]);
        assert.deepEqual(await tables.list_transferable_tokens(session), [sha(t)]);
        const plain = tables.create_token();
        await tables.add_token(plain, 'v');
        assert.equal(await tables.token_is_transferable(plain), false);
      }),
    );

    it(
      'transfers keeping sellable state and price, even to a receiver without a session (bug 6)',
      run(async ({ tables }) => {
        await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'ticket', 'u1');
        assert.equal(await tables.set_token_sellable(t, -3), true);
        assert.equal(await tables.transfer_token(t, 'u2', 'u3'), false);
        assert.equal(await tables.transfer_token(t, 'u1', 'u2'), true);
        assert.equal(await tables.from_token(t), 'u2');
        assert.equal(await tables.transition_token_is_active(t), 'ticket');
        assert.deepEqual(await tables.map_sellable_tokens(), { [sha(t)]: -3 });
        const { session: s3 } = await login(tables, 'u3');
        assert.equal(await tables.transfer_token(sha(t), 'u2', 'u3'), true);
        assert.deepEqual(await tables.list_tranferable_tokens(s3), [sha(t)]);
      }),
    );

    it(
      'makes transferable tokens unassigned on destroy, transferable and acquirable from there (bugs 5, 8)',
      run(
        async ({ tables, clock }) => {
          const { session } = await login(tables, 'u1');
          const t1 = tables.create_token();
          const t2 = tables.create_token();
          await tables.add_transferable_token(t1, 'a', 'u1');
          await tables.add_transferable_token(t2, 'b', 'u1');
          await tables.destroy_session(session);
          assert.deepEqual(
            sorted(await tables.list_unassigned_tokens()),
            sorted([sha(t1), sha(t2)]),
          );
          assert.equal(await tables.from_token(t1), '');
          assert.equal(await tables.transfer_token(t1, null, 'u2'), true);
          const { session: s3 } = await login(tables, 'u3');
          assert.equal(await tables.acquire_token(t2, s3, 'u2'), false);
          assert.equal(await tables.acquire_token(t2, s3, 'u3'), true);
          assert.equal(await tables.from_token(t2), 'u3');
          assert.deepEqual(await tables.list_unassigned_tokens(), []);
          const t3 = tables.create_token();
          await tables.add_transferable_token(t3, 'c', 'u3');
          await tables.destroy_session(s3);
          assert.equal(await tables.set_disownment_token_timeout(t3, 2 * HOUR), true);
          clock.advance(HOUR);
          assert.deepEqual(await tables.list_unassigned_tokens(), [sha(t3)]);
          clock.advance(HOUR);
          assert.deepEqual(await tables.list_unassigned_tokens(), []);
        },
        { disownmentTimeoutMs: HOUR },
      ),
    );

    it(
      'lists unassigned tokens of sessions that timed out',
      run(async ({ tables, clock }) => {
        await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'a', 'u1');
        clock.advance(HOUR);
        assert.deepEqual(await tables.list_unassigned_tokens(), [sha(t)]);
      }),
    );

    it(
      'computes unassigned tokens on read: consecutive listings write nothing and answer as after a collect',
      run(async ({ tables, clock, store, collections }) => {
        const timedOut = await login(tables, 'u1');
        const [a1, a2, a3] = [tables.create_token(), tables.create_token(), tables.create_token()];
        for (const t of [a1, a2, a3]) await tables.add_transferable_token(t, 'a', 'u1');
        assert.equal(await tables.set_disownment_token_timeout(a3, 20 * MINUTE), true);
        const destroyed = await login(tables, 'u2');
        const b1 = tables.create_token();
        await tables.add_transferable_token(b1, 'b', 'u2');
        await tables.destroy_session(destroyed.session);
        clock.advance(30 * MINUTE);
        await login(tables, 'u3');
        const c1 = tables.create_token();
        await tables.add_transferable_token(c1, 'c', 'u3');
        clock.advance(30 * MINUTE); // u1's session times out; u3's lives on
        assert.equal(await tables.get_session_time_left(timedOut.session), undefined);

        const versions = async () =>
          JSON.stringify(
            await Promise.all(
              [collections.sessions, collections.tokens].map(async (c) =>
                (await store.list(c, { limit: 1000 })).records.map((r) => [r.key, r.version]),
              ),
            ),
          );
        const v0 = await versions();
        const first = await tables.list_unassigned_tokens();
        assert.deepEqual(first, sorted([a1, a2, a3, b1].map(sha)));
        assert.equal(await versions(), v0, 'the first listing wrote nothing');
        assert.deepEqual(await tables.list_unassigned_tokens(), first);
        assert.equal(await versions(), v0, 'nor the second');
        clock.advance(20 * MINUTE); // a3's disownment deadline, counted from the session's end
        const later = await tables.list_unassigned_tokens();
        assert.deepEqual(later, sorted([a1, a2, b1].map(sha)));
        assert.equal(await versions(), v0);
        const collected = await tables.sessions.collect();
        assert.deepEqual(collected, { sessions: 1, tokens: 3 }, 'nothing was released before');
        assert.deepEqual(await tables.list_unassigned_tokens(), later, 'the same answer');
      }),
    );

    it(
      'marks and unmarks sellable tokens, keeping the price',
      run(async ({ tables }) => {
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'a', 'u1');
        assert.equal(await tables.set_token_sellable(t), true);
        assert.deepEqual(await tables.map_sellable_tokens(), { [sha(t)]: undefined });
        await tables.set_token_sellable(t, 5);
        assert.equal(await tables.unset_token_sellable(t), true);
        assert.deepEqual(await tables.list_sellable_tokens(), []);
        await tables.set_token_sellable(t);
        assert.deepEqual(await tables.map_sellable_tokens(), { [sha(t)]: 5 });
        const plain = tables.create_token();
        await tables.add_token(plain, 'p');
        assert.equal(await tables.set_token_sellable(plain, 1), false);
      }),
    );

    it(
      'destroys tokens by token or id',
      run(async ({ tables }) => {
        const a = tables.create_token();
        const b = tables.create_token();
        await tables.add_token(a, 'a');
        await tables.add_token(b, 'b');
        assert.equal(await tables.destroy_token(a), true);
        assert.equal(await tables.destroy_token(sha(b)), true);
        assert.equal(await tables.destroy_token(a), false);
        assert.equal(await tables.transition_token_is_active(b), false);
      }),
    );
  });
}
