/**
 * The session_tokens facade suite: `TokenTables` and the seed DB adapter
 * (`tessera/compat/session-tokens`) on top of any store, on a fake clock (no
 * sleeps), in random collections.
 * @module
 */
import assert from 'node:assert/strict';
import { TokenTables } from '../compat/session-tokens/index.js';
import { defineTablesInputTests } from './session-tokens-compat-suite-inputs.js';
import { defineTablesSessionTests } from './session-tokens-compat-suite-sessions.js';
import { login, makeTablesRun } from './session-tokens-compat-suite-support.js';
import { defineTablesTimeoutTests } from './session-tokens-compat-suite-timeouts.js';
import { defineTablesTokenTests } from './session-tokens-compat-suite-tokens.js';
import type { StoreSuiteOptions } from './store-suite.js';

/**
 * Define the session_tokens facade tests with the injected runner and store factory.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * defineSessionTokensCompatSuite({ name: 'memory', runner: { describe, it }, createStore: () => createMemoryStore() });
 * ```
 */
export function defineSessionTokensCompatSuite(options: StoreSuiteOptions): void {
  const { describe, it } = options.runner;
  const run = makeTablesRun(options);

  describe(`compat session_tokens: ${options.name}`, () => {
    defineTablesSessionTests(options, run);
    defineTablesTimeoutTests(options, run);
    defineTablesTokenTests(options, run);
    defineTablesInputTests(options, run);

    describe('the seed DB interface', () => {
      it(
        'is backed by the same store: code calling the DB and TokenTables see the same data',
        run(async ({ seedDb }) => {
          const db = seedDb();
          const session = 'db-made-session-token-0123456789';
          const hash = await db.set_session_key_value(session, 'u1');
          assert.equal(await db.check_hash(hash, 'u1'), true);
          assert.equal(await db.check_hash(hash, 'u2'), false);
          assert.equal(await db.check_hash('not-a-hash', 'u1'), false);
          const tables = new TokenTables(db);
          assert.equal(await tables.active_session(session, 'u1'), true);
          const t = tables.create_token();
          await tables.add_token(t, 'value');
          assert.equal(await db.get_key_value(t), 'value');
          await db.set_key_value(t, 'changed');
          assert.equal(await tables.transition_token_is_active(t), 'changed');
          await db.del_key_value(t);
          assert.equal(await db.get_key_value(t), false);
          assert.equal(await db.del_session_key_value(session), true);
          assert.equal(await tables.active_session(session, 'u1'), false);
          assert.equal(await tables.db.check_hash(hash, 'u1'), false);
        }),
      );

      it(
        'lets concurrent set_key_value calls on a new token all succeed, the last write winning as in the seed',
        run(async ({ seedDb }) => {
          const db = seedDb();
          const t = 'db-made-transition-token-0123456789';
          await Promise.all([db.set_key_value(t, 'a'), db.set_key_value(t, 'b')]);
          const v = await db.get_key_value(t);
          assert.ok(v === 'a' || v === 'b', `value ${String(v)}`);
          await db.del_key_value(t);
          await Promise.all([db.set_key_value(t, 'c'), db.del_key_value(t)]);
          await db.set_key_value(t, 'd');
          assert.equal(await db.get_key_value(t), 'd');
        }),
      );

      it(
        'is exposed by every TokenTables as .db',
        run(async ({ tables }) => {
          const { hash } = await login(tables, 'u1');
          assert.equal(await tables.db.check_hash(hash, 'u1'), true);
        }),
      );
    });
  });
}
