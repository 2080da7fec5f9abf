import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSeedDb, TokenTables } from '../../src/compat/session-tokens/index.js';
import { createFakeClock } from '../../src/core/clock.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const sha = (s: string) => createHash('sha256').update(s).digest('base64url');

function setup(options: ConstructorParameters<typeof TokenTables>[2] = {}) {
  const clock = createFakeClock();
  const store = createMemoryStore();
  const tables = new TokenTables(store, undefined, { clock, ...options });
  return { clock, store, tables };
}

async function login(tables: TokenTables, owner: string) {
  const session = tables.create_token('s_');
  const hash = await tables.add_session(session, owner);
  return { session, hash };
}

describe('compat: session_tokens TokenTables', () => {
  describe('construction and tokens', () => {
    it('makes CSPRNG tokens with a prefix, and takes a custom creator (falsy resets it)', () => {
      const { tables } = setup();
      expect(tables.create_token()).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(tables.create_token('p-')).toMatch(/^p-[A-Za-z0-9_-]{43}$/);
      expect(tables.create_token()).not.toBe(tables.create_token());
      tables.set_token_creator((p) => `${p ?? ''}fixed-token-0123456789abcdef`);
      expect(tables.create_token('x')).toBe('xfixed-token-0123456789abcdef');
      tables.set_token_creator(null);
      expect(tables.create_token()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('takes the creator as the second constructor argument', () => {
      const store = createMemoryStore();
      const tables = new TokenTables(store, () => 'made-by-the-app-0123456789abc');
      expect(tables.create_token()).toBe('made-by-the-app-0123456789abc');
    });

    it('refuses a plain seed DB, which cannot make writes atomic', () => {
      const seedDb = {
        set_session_key_value: async () => 'h',
        del_session_key_value: async () => true,
        set_key_value: () => {},
        get_key_value: async () => false,
        del_key_value: () => {},
        check_hash: async () => true,
      };
      expect(() => new TokenTables(seedDb as never)).toThrow(TypeError);
    });

    it('has no timers: shutdown and decrement_timers do nothing', () => {
      const { tables } = setup();
      expect(tables.shutdown()).toBeUndefined();
      expect(tables.decrement_timers()).toBeUndefined();
    });
  });

  describe('sessions', () => {
    it('adds a session and returns its hash, shared or not', async () => {
      const { tables } = setup();
      const session = tables.create_token();
      const hash = await tables.add_session(session, 'u1', null, false);
      expect(hash).toBe(sha(session));
      expect(await tables.active_session(session, 'u1')).toBe(true);
      expect(await tables.active_session(session, 'u2')).toBe(false);
      expect(await tables.active_session('unknown-session-0123456789', 'u1')).toBe(false);
      expect(await tables.active_session('short', 'u1')).toBe(false);
      expect(await tables.add_session(session, 'u1')).toBe(hash);
      await expect(tables.add_session(session, 'u2')).rejects.toMatchObject({
        code: 'ERR_TESSERA_ALREADY_EXISTS',
      });
    });

    it('binds the optional t_token to the session, with the hash as its value', async () => {
      const { tables } = setup();
      const session = tables.create_token();
      const t = tables.create_token();
      const hash = await tables.add_session(session, 'u1', t, true);
      expect(await tables.transition_token_is_active(t)).toBe(hash);
      expect(await tables.from_token(t)).toBe('u1');
      await tables.destroy_session(session);
      expect(await tables.transition_token_is_active(t)).toBe(false);
    });

    it('times a session out after the general timeout (1 h by default), tearing it down (bugs 3, 11)', async () => {
      const { tables, clock } = setup();
      const { session } = await login(tables, 'u1');
      const t = tables.create_token();
      await tables.add_session_bounded_token(t, 'v', 'u1');
      expect(await tables.get_session_timeout(session)).toBe(HOUR);
      expect(await tables.get_session_time_left(session)).toBe(HOUR);
      clock.advance(HOUR);
      expect(await tables.active_session(session, 'u1')).toBe(false);
      expect(await tables.transition_token_is_active(t)).toBe(false);
      expect(await tables.get_session_time_left(session)).toBeUndefined();
    });

    it('slides the timeout with activity checked by active_session', async () => {
      const { tables, clock } = setup();
      const { session } = await login(tables, 'u1');
      for (let i = 0; i < 6; i++) {
        clock.advance(40 * MINUTE);
        expect(await tables.active_session(session, 'u1')).toBe(true);
      }
    });

    it('sets general and per-session timeouts in ms, Infinity meaning never', async () => {
      const { tables, clock } = setup();
      tables.set_general_session_timeout(10 * MINUTE);
      const a = await login(tables, 'u1');
      expect(await tables.get_session_timeout(a.session)).toBe(10 * MINUTE);
      expect(await tables.set_session_timeout(a.session, 20 * MINUTE)).toBe(true);
      expect(await tables.get_session_time_left(a.session)).toBe(20 * MINUTE);
      tables.set_general_session_timeout(Number.POSITIVE_INFINITY);
      const b = await login(tables, 'u2');
      expect(await tables.get_session_timeout(b.session)).toBe(Number.POSITIVE_INFINITY);
      clock.advance(25 * MINUTE);
      expect(await tables.active_session(a.session, 'u1')).toBe(false);
      expect(await tables.active_session(b.session, 'u2')).toBe(true);
      expect(await tables.set_session_timeout(a.session, MINUTE)).toBe(false);
      expect(() => tables.set_general_session_timeout(0)).toThrow(RangeError);
    });

    it('detaches only when allowed, keeps the session listed and alive, and attach resumes it (bug 2)', async () => {
      const { tables, clock } = setup({ detachTimeoutMs: 2 * HOUR });
      const { session, hash } = await login(tables, 'u1');
      expect(await tables.detach_session(session)).toBe(false);
      expect(await tables.allow_session_detach(session)).toBe(true);
      expect(await tables.detach_session(session)).toBe(true);
      expect(await tables.active_session(session, 'u1')).toBe(false);
      expect(await tables.list_detached_sessions()).toEqual([hash]);
      clock.advance(90 * MINUTE);
      expect(await tables.attach_session(hash)).toBe(true);
      expect(await tables.list_detached_sessions()).toEqual([]);
      clock.advance(MINUTE);
      expect(await tables.active_session(session, 'u1')).toBe(true);
    });

    it('lets a detached session die after its detachment timeout', async () => {
      const { tables, clock } = setup({ detachTimeoutMs: 2 * HOUR });
      const { session } = await login(tables, 'u1');
      await tables.allow_session_detach(session);
      await tables.detach_session(session);
      clock.advance(2 * HOUR);
      expect(await tables.list_detached_sessions()).toEqual([]);
      expect(await tables.attach_session(session)).toBe(false);
    });

    it('destroys a session by its token, its id, or a token bound to it (bug 4)', async () => {
      const { tables } = setup();
      const a = await login(tables, 'u1');
      expect(await tables.destroy_session(a.session)).toBe(true);
      expect(await tables.active_session(a.session, 'u1')).toBe(false);
      const b = await login(tables, 'u1');
      expect(await tables.destroy_session(b.hash)).toBe(true);
      const c = await login(tables, 'u1');
      const t = tables.create_token();
      await tables.add_session_bounded_token(t, 'v', 'u1');
      expect(await tables.destroy_session(t)).toBe(true);
      expect(await tables.active_session(c.session, 'u1')).toBe(false);
      expect(await tables.destroy_session(c.session)).toBe(false);
    });

    it('reloads nothing: reload_session_info checks the session, owner and hash (bug 7)', async () => {
      const { tables } = setup();
      const { session, hash } = await login(tables, 'u1');
      expect(await tables.reload_session_info(session, 'u1', hash)).toBe(true);
      expect(await tables.reload_session_info(session, 'u2', hash)).toBe(false);
      expect(await tables.reload_session_info(session, 'u1', 'x'.repeat(43))).toBe(false);
      await expect(tables.reload_token_info(tables.create_token())).resolves.toBeUndefined();
    });
  });

  describe('tokens', () => {
    it('keeps tokens without a timeout by default (bug 1) and stores values as text', async () => {
      const { tables, clock } = setup();
      const t = tables.create_token();
      await tables.add_token(t, { a: 1 });
      expect(await tables.transition_token_is_active(t)).toBe('{"a":1}');
      clock.advance(365 * 24 * HOUR);
      expect(await tables.transition_token_is_active(t)).toBe('{"a":1}');
      expect(await tables.get_token_timeout(t)).toBe(Number.POSITIVE_INFINITY);
      expect(await tables.get_token_time_left(t)).toBe(Number.POSITIVE_INFINITY);
      await tables.add_token(t, 'replaced');
      expect(await tables.transition_token_is_active(t)).toBe('replaced');
      expect(await tables.transition_token_is_active(tables.create_token())).toBe(false);
    });

    it('honours general and per-token timeouts', async () => {
      const { tables, clock } = setup();
      tables.set_general_token_timeout(10 * MINUTE);
      const t = tables.create_token();
      await tables.add_token(t, 'v');
      expect(await tables.get_token_timeout(t)).toBe(10 * MINUTE);
      expect(await tables.set_token_timeout(t, 30 * MINUTE)).toBe(true);
      clock.advance(20 * MINUTE);
      expect(await tables.get_token_time_left(t)).toBe(10 * MINUTE);
      clock.advance(10 * MINUTE);
      expect(await tables.transition_token_is_active(t)).toBe(false);
      expect(await tables.set_token_timeout(t, MINUTE)).toBe(false);
    });

    it('bounds a bound token’s time left by its session’s', async () => {
      const { tables } = setup();
      await login(tables, 'u1');
      const t = tables.create_token();
      await tables.add_session_bounded_token(t, 'v', 'u1');
      expect(await tables.get_token_time_left(t)).toBe(HOUR);
    });

    it('refuses a bound token for an owner without a session (the seed ignored it)', async () => {
      const { tables } = setup();
      await expect(
        tables.add_session_bounded_token(tables.create_token(), 'v', 'nobody'),
      ).rejects.toMatchObject({ code: 'ERR_TESSERA_NOT_FOUND' });
    });

    it('refuses tokens too short to be looked up by value', async () => {
      const { tables } = setup();
      await expect(tables.add_token('short', 'v')).rejects.toMatchObject({
        code: 'ERR_TESSERA_INVALID_INPUT',
      });
      expect(await tables.transition_token_is_active('short')).toBe(false);
    });

    it('never lets a value overwrite the token’s own state (bug 13)', async () => {
      const { tables } = setup();
      await login(tables, 'u1');
      const t = tables.create_token();
      await tables.add_transferable_token(t, { _sellable: true, _price: 9, _owner: 'x' }, 'u1');
      expect(await tables.list_sellable_tokens()).toEqual([]);
      expect(await tables.from_token(t)).toBe('u1');
      expect(JSON.parse((await tables.transition_token_is_active(t)) as string)).toEqual({
        _sellable: true,
        _price: 9,
        _owner: 'x',
      });
    });

    it('carries transferable tokens in the owner’s session and lists them by id (seed spelling too)', async () => {
      const { tables } = setup();
      const { session } = await login(tables, 'u1');
      const t = tables.create_token();
      await tables.add_transferable_token(t, 'v', 'u1');
      expect(await tables.token_is_transferable(t)).toBe(true);
      expect(await tables.token_is_transferable(sha(t))).toBe(true);
      expect(await tables.list_tranferable_tokens(session)).toEqual([sha(t)]);
      expect(await tables.list_transferable_tokens(session)).toEqual([sha(t)]);
      const plain = tables.create_token();
      await tables.add_token(plain, 'v');
      expect(await tables.token_is_transferable(plain)).toBe(false);
    });

    it('transfers keeping sellable state and price, even to a receiver without a session (bug 6)', async () => {
      const { tables } = setup();
      await login(tables, 'u1');
      const t = tables.create_token();
      await tables.add_transferable_token(t, 'ticket', 'u1');
      expect(await tables.set_token_sellable(t, -3)).toBe(true);
      expect(await tables.transfer_token(t, 'u2', 'u3')).toBe(false);
      expect(await tables.transfer_token(t, 'u1', 'u2')).toBe(true);
      expect(await tables.from_token(t)).toBe('u2');
      expect(await tables.transition_token_is_active(t)).toBe('ticket');
      expect(await tables.map_sellable_tokens()).toEqual({ [sha(t)]: -3 });
      const { session: s3 } = await login(tables, 'u3');
      expect(await tables.transfer_token(sha(t), 'u2', 'u3')).toBe(true);
      expect(await tables.list_tranferable_tokens(s3)).toEqual([sha(t)]);
    });

    it('makes transferable tokens unassigned on destroy, transferable and acquirable from there (bugs 5, 8)', async () => {
      const { tables, clock } = setup({ disownmentTimeoutMs: HOUR });
      const { session } = await login(tables, 'u1');
      const t1 = tables.create_token();
      const t2 = tables.create_token();
      await tables.add_transferable_token(t1, 'a', 'u1');
      await tables.add_transferable_token(t2, 'b', 'u1');
      await tables.destroy_session(session);
      expect((await tables.list_unassigned_tokens()).sort()).toEqual([sha(t1), sha(t2)].sort());
      expect(await tables.from_token(t1)).toBe('');
      expect(await tables.transfer_token(t1, null, 'u2')).toBe(true);
      const { session: s3 } = await login(tables, 'u3');
      expect(await tables.acquire_token(t2, s3, 'u2')).toBe(false);
      expect(await tables.acquire_token(t2, s3, 'u3')).toBe(true);
      expect(await tables.from_token(t2)).toBe('u3');
      expect(await tables.list_unassigned_tokens()).toEqual([]);
      const t3 = tables.create_token();
      await tables.add_transferable_token(t3, 'c', 'u3');
      await tables.destroy_session(s3);
      expect(await tables.set_disownment_token_timeout(t3, 2 * HOUR)).toBe(true);
      clock.advance(HOUR);
      expect(await tables.list_unassigned_tokens()).toEqual([sha(t3)]);
      clock.advance(HOUR);
      expect(await tables.list_unassigned_tokens()).toEqual([]);
    });

    it('lists unassigned tokens of sessions that timed out', async () => {
      const { tables, clock } = setup();
      await login(tables, 'u1');
      const t = tables.create_token();
      await tables.add_transferable_token(t, 'a', 'u1');
      clock.advance(HOUR);
      expect(await tables.list_unassigned_tokens()).toEqual([sha(t)]);
    });

    it('marks and unmarks sellable tokens, keeping the price', async () => {
      const { tables } = setup();
      const t = tables.create_token();
      await tables.add_transferable_token(t, 'a', 'u1');
      expect(await tables.set_token_sellable(t)).toBe(true);
      expect(await tables.map_sellable_tokens()).toEqual({ [sha(t)]: undefined });
      await tables.set_token_sellable(t, 5);
      expect(await tables.unset_token_sellable(t)).toBe(true);
      expect(await tables.list_sellable_tokens()).toEqual([]);
      await tables.set_token_sellable(t);
      expect(await tables.map_sellable_tokens()).toEqual({ [sha(t)]: 5 });
      const plain = tables.create_token();
      await tables.add_token(plain, 'p');
      expect(await tables.set_token_sellable(plain, 1)).toBe(false);
    });

    it('destroys tokens by token or id', async () => {
      const { tables } = setup();
      const a = tables.create_token();
      const b = tables.create_token();
      await tables.add_token(a, 'a');
      await tables.add_token(b, 'b');
      expect(await tables.destroy_token(a)).toBe(true);
      expect(await tables.destroy_token(sha(b))).toBe(true);
      expect(await tables.destroy_token(a)).toBe(false);
      expect(await tables.transition_token_is_active(b)).toBe(false);
    });
  });

  describe('the seed DB interface', () => {
    it('is backed by the same store: code calling the DB and TokenTables see the same data', async () => {
      const clock = createFakeClock();
      const store = createMemoryStore();
      const db = createSeedDb(store, { clock });
      const session = 'db-made-session-token-0123456789';
      const hash = await db.set_session_key_value(session, 'u1');
      expect(await db.check_hash(hash, 'u1')).toBe(true);
      expect(await db.check_hash(hash, 'u2')).toBe(false);
      expect(await db.check_hash('not-a-hash', 'u1')).toBe(false);
      const tables = new TokenTables(db);
      expect(await tables.active_session(session, 'u1')).toBe(true);
      const t = tables.create_token();
      await tables.add_token(t, 'value');
      expect(await db.get_key_value(t)).toBe('value');
      await db.set_key_value(t, 'changed');
      expect(await tables.transition_token_is_active(t)).toBe('changed');
      await db.del_key_value(t);
      expect(await db.get_key_value(t)).toBe(false);
      expect(await db.del_session_key_value(session)).toBe(true);
      expect(await tables.active_session(session, 'u1')).toBe(false);
      expect(await tables.db.check_hash(hash, 'u1')).toBe(false);
    });

    it('is exposed by every TokenTables as .db', async () => {
      const { tables } = setup();
      const { hash } = await login(tables, 'u1');
      expect(await tables.db.check_hash(hash, 'u1')).toBe(true);
    });
  });
});
