/**
 * Caller mistakes in the session_tokens facade suite: a bad amount, owner or
 * timeout throws `InvalidInputError` naming the argument (whether or not the
 * token exists), while the seed's own "no" (unknown token, wrong owner, ended
 * session, not transferable) stays `false` or `undefined`.
 * @module
 */
import assert from 'node:assert/strict';
import {
  HOUR,
  INVALID,
  login,
  type makeTablesRun,
  sha,
} from './session-tokens-compat-suite-support.js';
import type { StoreSuiteOptions } from './store-suite.js';

/** Assert that `promise` (or the call) fails with `InvalidInputError` naming `field`. */
export async function rejectsInvalid(
  promise: Promise<unknown> | (() => unknown),
  field: string,
): Promise<void> {
  let settled = false;
  try {
    await (typeof promise === 'function' ? promise() : promise);
    settled = true;
  } catch (err) {
    const e = err as { code?: unknown; field?: unknown; name?: unknown };
    assert.equal(e.code, INVALID, `expected ${INVALID}, got ${String(err)}`);
    assert.equal(e.name, 'InvalidInputError');
    assert.equal(e.field, field);
  }
  assert.equal(settled, false, `expected InvalidInputError on ${field}, but it succeeded`);
}

/** Define the caller-mistake tests (called by `defineSessionTokensCompatSuite`). */
export function defineTablesInputTests(
  options: StoreSuiteOptions,
  run: ReturnType<typeof makeTablesRun>,
): void {
  const { describe, it } = options.runner;

  describe('caller mistakes throw, the seed’s "no" stays false', () => {
    it(
      'refuses an amount that is not a finite number, and leaves the token as it was',
      run(async ({ tables }) => {
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'v', 'u1');
        for (const bad of [Number.NaN, 'abc', Number.POSITIVE_INFINITY, '5', {}]) {
          await rejectsInvalid(tables.set_token_sellable(t, bad as never), 'amount');
        }
        await rejectsInvalid(
          tables.set_token_sellable(tables.create_token(), Number.NaN),
          'amount',
        );
        assert.deepEqual(await tables.list_sellable_tokens(), []);
        assert.equal(await tables.set_token_sellable(t, 0), true);
        assert.deepEqual(await tables.map_sellable_tokens(), { [sha(t)]: 0 });
      }),
    );

    it(
      'refuses a transfer to or from an owner that is not a name, whether or not the token exists',
      run(async ({ tables }) => {
        await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'v', 'u1');
        await rejectsInvalid(tables.transfer_token(t, 'u1', ''), 'receiver_key');
        await rejectsInvalid(tables.transfer_token(t, 'u1', 5 as never), 'receiver_key');
        await rejectsInvalid(tables.transfer_token(t, 'u1', undefined as never), 'receiver_key');
        await rejectsInvalid(tables.transfer_token(t, 'u1', 'a\nb'), 'receiver_key');
        await rejectsInvalid(tables.transfer_token(t, 7 as never, 'u2'), 'yielder_key');
        await rejectsInvalid(
          tables.transfer_token(tables.create_token(), 'u1', ''),
          'receiver_key',
        );
        assert.equal(await tables.from_token(t), 'u1');
      }),
    );

    it(
      'answers false, not an error, for an unknown token, a wrong yielder or a token that is not transferable',
      run(async ({ tables }) => {
        await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'v', 'u1');
        const plain = tables.create_token();
        await tables.add_token(plain, 'p');
        assert.equal(await tables.transfer_token(tables.create_token(), 'u1', 'u2'), false);
        assert.equal(await tables.transfer_token('short', 'u1', 'u2'), false);
        assert.equal(await tables.transfer_token(t, 'u9', 'u2'), false);
        assert.equal(await tables.transfer_token(plain, 'u1', 'u2'), false);
        assert.equal(await tables.set_token_sellable(plain, 1), false);
        assert.equal(await tables.unset_token_sellable(tables.create_token()), false);
        assert.equal(await tables.set_token_timeout(tables.create_token(), HOUR), false);
        assert.equal(await tables.set_disownment_token_timeout(plain, HOUR), false);
        assert.equal(await tables.destroy_token('x'.repeat(2000)), false);
        assert.equal(await tables.get_token_timeout(tables.create_token()), undefined);
        assert.equal(await tables.from_token(tables.create_token()), '');
        assert.equal(await tables.transfer_token(t, 'u1', 'u2'), true);
      }),
    );

    it(
      'refuses timeouts that are not a positive integer of ms (or Infinity where never is possible)',
      run(async ({ tables }) => {
        const { session } = await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'v', 'u1');
        for (const bad of [0, -1, 1.5, Number.NaN, '60000', null, 3651 * 24 * HOUR]) {
          await rejectsInvalid(() => tables.set_general_session_timeout(bad as never), 'timeout');
          await rejectsInvalid(() => tables.set_general_token_timeout(bad as never), 'timeout');
          await rejectsInvalid(tables.set_session_timeout(session, bad as never), 'timeout');
          await rejectsInvalid(tables.set_token_timeout(t, bad as never), 'timeout');
          await rejectsInvalid(tables.set_disownment_token_timeout(t, bad as never), 'timeout');
        }
        await rejectsInvalid(
          tables.set_disownment_token_timeout(t, Number.POSITIVE_INFINITY),
          'timeout',
        );
        assert.equal(await tables.get_session_timeout(session), HOUR);
        assert.equal(await tables.get_token_timeout(t), Number.POSITIVE_INFINITY);
      }),
    );

    it(
      'refuses an owner that is not a name where a token or session is given to one',
      run(async ({ tables }) => {
        const { session } = await login(tables, 'u1');
        const t = tables.create_token();
        await tables.add_transferable_token(t, 'v', 'u1');
        await rejectsInvalid(tables.add_session(tables.create_token(), ''), 'ownership_key');
        await rejectsInvalid(
          tables.add_transferable_token(tables.create_token(), 'v', ''),
          'ownership_key',
        );
        await rejectsInvalid(
          tables.add_session_bounded_token(tables.create_token(), 'v', 5 as never),
          'ownership_key',
        );
        await rejectsInvalid(tables.acquire_token(t, session, ''), 'owner');
        assert.equal(await tables.acquire_token(tables.create_token(), session, 'u1'), false);
        assert.equal(await tables.acquire_token('short', session, 'u1'), false);
        assert.equal(await tables.acquire_token(t, session, 'u2'), false);
      }),
    );

    it(
      'refuses tokens too short to be looked up by value where a token is created, naming the argument',
      run(async ({ tables }) => {
        await login(tables, 'u1');
        await rejectsInvalid(tables.add_token('short', 'v'), 't_token');
        await rejectsInvalid(tables.add_session('short', 'u1'), 'session_token');
        await rejectsInvalid(tables.add_session(tables.create_token(), 'u1', 'short'), 't_token');
        await rejectsInvalid(tables.add_transferable_token('short', 'v', 'u1'), 't_token');
        await rejectsInvalid(tables.add_session_bounded_token('short', 'v', 'u1'), 't_token');
        assert.equal(await tables.transition_token_is_active('short'), false);
        assert.equal(await tables.active_session('short', 'u1'), false);
      }),
    );
  });
}
