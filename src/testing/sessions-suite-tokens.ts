/**
 * Transition-token part of the sessions conformance suite.
 * @module
 */
import assert from 'node:assert/strict';
import { rejectsWithCode } from './runner.js';
import { all, DAY, HOUR, MINUTE, type makeRun } from './sessions-suite-support.js';
import type { StoreSuiteOptions } from './store-suite.js';

const INVALID = 'ERR_TESSERA_INVALID_INPUT';
const FORBIDDEN = 'ERR_TESSERA_FORBIDDEN';
const NOT_FOUND = 'ERR_TESSERA_NOT_FOUND';

/** Define the transition-token tests (called by `defineSessionsSuite`). */
export function defineTransitionTokenTests(
  options: StoreSuiteOptions,
  run: ReturnType<typeof makeRun>,
): void {
  const { describe, it } = options.runner;

  describe('transition tokens', () => {
    it(
      'adds a token with a string or JSON value, stored hashed, and looks it up by value',
      run(async ({ sessions, store, collections }) => {
        const a = await sessions.tokens.add({ value: 'hello' });
        const b = await sessions.tokens.add({ value: { cart: [1, 2], total: 3.5 }, prefix: 'tt_' });
        assert.match(b.token, /^tt_[A-Za-z0-9_-]{43}$/);
        const ra = await sessions.tokens.check(a.token);
        assert.equal(ra.active && ra.value, 'hello');
        const rb = await sessions.tokens.check(b.token);
        assert.deepEqual(rb.active && rb.value, { cart: [1, 2], total: 3.5 });
        assert.equal(rb.active && rb.token.kind, 'plain');
        assert.equal(rb.active && rb.token.state, 'plain');
        assert.deepEqual(await sessions.tokens.check('z'.repeat(43)), {
          active: false,
          reason: 'not_found',
        });
        const dump = JSON.stringify((await store.list(collections.tokens)).records);
        assert.ok(!dump.includes(a.token) && !dump.includes(b.token), 'tokens are never stored');
      }),
    );

    it(
      'has no own timeout by default, so tokens do not vanish (seed bug: 0 ms)',
      run(async ({ sessions, clock }) => {
        const { token, info } = await sessions.tokens.add({ value: 'v' });
        assert.equal(info.expiresAt, null);
        assert.equal(info.timeoutMs, null);
        clock.advance(365 * DAY);
        assert.equal((await sessions.tokens.check(token)).active, true);
      }),
    );

    it(
      'honours the general token timeout, per-token timeouts, and changes to them',
      run(
        async ({ sessions, clock }) => {
          const a = await sessions.tokens.add({ value: 'a' });
          assert.equal(a.info.expiresAt, clock.now() + 10 * MINUTE);
          const b = await sessions.tokens.add({ value: 'b', timeoutMs: HOUR });
          const c = await sessions.tokens.add({ value: 'c', timeoutMs: null });
          clock.advance(5 * MINUTE);
          const changed = await sessions.tokens.setTimeout({ token: a.token }, 10 * MINUTE);
          assert.equal(changed.timeoutMs, 10 * MINUTE);
          assert.equal(changed.expiresAt, clock.now() + 10 * MINUTE);
          clock.advance(10 * MINUTE);
          assert.deepEqual(await sessions.tokens.check(a.token), {
            active: false,
            reason: 'expired',
          });
          assert.equal((await sessions.tokens.check(b.token)).active, true);
          clock.advance(HOUR);
          assert.equal((await sessions.tokens.check(b.token)).active, false);
          assert.equal((await sessions.tokens.check(c.token)).active, true);
          await rejectsWithCode(sessions.tokens.setTimeout({ token: a.token }, HOUR), NOT_FOUND);
          const none = await sessions.tokens.setTimeout({ token: c.token }, null);
          assert.equal(none.expiresAt, null);
        },
        { tokenTimeoutMs: 10 * MINUTE },
      ),
    );

    it(
      'replaces a token value, keeping its kind, owner and session',
      run(async ({ sessions, owner }) => {
        const { token: st } = await sessions.create({ owner });
        const { token, info } = await sessions.tokens.add({
          kind: 'bound',
          session: { token: st },
          value: { step: 1 },
        });
        const changed = await sessions.tokens.setValue({ id: info.id }, { step: 2 });
        assert.deepEqual(changed.value, { step: 2 });
        assert.equal(changed.kind, 'bound');
        assert.equal(changed.sessionId, info.sessionId);
        const r = await sessions.tokens.check(token);
        assert.deepEqual(r.active && r.value, { step: 2 });
        await sessions.destroy({ token: st });
        await rejectsWithCode(sessions.tokens.setValue({ token }, 3), NOT_FOUND);
      }),
    );

    it(
      'refuses a second active token with the same value',
      run(async ({ sessions }) => {
        const token = 'a-supplied-transition-token-0123456789';
        await sessions.tokens.add({ token, value: 1 });
        await rejectsWithCode(
          sessions.tokens.add({ token, value: 2 }),
          'ERR_TESSERA_ALREADY_EXISTS',
        );
        assert.equal(await sessions.tokens.destroy({ token }), true);
        assert.equal(await sessions.tokens.destroy({ token }), false);
        await sessions.tokens.add({ token, value: 3 });
        const r = await sessions.tokens.check(token);
        assert.equal(r.active && r.value, 3);
      }),
    );

    it(
      'rejects bad input with InvalidInputError',
      run(async ({ sessions, owner }) => {
        const { token: st } = await sessions.create({ owner });
        const bad = [
          { value: undefined as never },
          { value: 'v', token: 'short' },
          { value: 'v', kind: 'other' as never },
          { value: 'v', kind: 'bound' as const },
          { value: 'v', kind: 'transferable' as const },
          { value: 'v', owner },
          { value: 'v', session: { token: st } },
          { value: 'v', timeoutMs: 0 },
          { value: 'v', kind: 'transferable' as const, owner, disownmentTimeoutMs: null as never },
          { value: new Date() as never },
          { value: 'x'.repeat(40_000) },
        ];
        for (const input of bad) await rejectsWithCode(sessions.tokens.add(input), INVALID);
        await rejectsWithCode(sessions.tokens.check('short'), INVALID);
        await rejectsWithCode(sessions.tokens.get({ id: '!' }), INVALID);
        assert.throws(() => sessions.tokens.create('\u0000'), { code: INVALID });
      }),
    );

    describe('session-bound tokens', () => {
      it(
        'are active only while their session is live, and follow its timeout with no write',
        run(async ({ sessions, owner, clock }) => {
          const { token, session } = await sessions.create({ owner, idleTimeoutMs: HOUR });
          const { token: t, info } = await sessions.tokens.add({
            kind: 'bound',
            session: { token },
            value: 'v',
            timeoutMs: 30 * DAY,
          });
          assert.equal(info.state, 'bound');
          assert.equal(info.owner, owner);
          assert.equal(info.sessionId, session.id);
          assert.equal(await sessions.tokens.ownerOf({ token: t }), owner);
          clock.advance(HOUR);
          assert.deepEqual(await sessions.tokens.check(t), {
            active: false,
            reason: 'session_ended',
          });
          assert.equal(await sessions.tokens.get({ id: info.id }), null);
        }),
      );

      it(
        'need a live session of the stated owner',
        run(async ({ sessions, owner }) => {
          const { token } = await sessions.create({ owner });
          await rejectsWithCode(
            sessions.tokens.add({ kind: 'bound', session: { token }, owner: 'someone', value: 1 }),
            FORBIDDEN,
          );
          await sessions.destroy({ token });
          await rejectsWithCode(
            sessions.tokens.add({ kind: 'bound', session: { token }, value: 1 }),
            NOT_FOUND,
          );
        }),
      );

      it(
        'cannot be transferred, acquired or sold',
        run(async ({ sessions, owner }) => {
          const { token } = await sessions.create({ owner });
          const { token: t } = await sessions.tokens.add({
            kind: 'bound',
            session: { token },
            value: 1,
          });
          await rejectsWithCode(
            sessions.tokens.transfer({ token: t }, { from: owner, to: 'bob' }),
            FORBIDDEN,
          );
          await rejectsWithCode(sessions.tokens.acquire(t, { token }), FORBIDDEN);
          await rejectsWithCode(sessions.tokens.setSellable({ token: t }), FORBIDDEN);
        }),
      );

      it(
        'are listed with their session, which lists nothing once it ended',
        run(async ({ sessions, owner }) => {
          const { token } = await sessions.create({ owner });
          const other = await sessions.create({ owner });
          const b = await sessions.tokens.add({ kind: 'bound', session: { token }, value: 1 });
          const t = await sessions.tokens.add({
            kind: 'transferable',
            session: { token },
            value: 2,
          });
          await sessions.tokens.add({ kind: 'bound', session: { token: other.token }, value: 3 });
          const both = await all((o) => sessions.tokens.listBySession({ token }, o));
          assert.deepEqual(both.map((x) => x.id).sort(), [b.info.id, t.info.id].sort());
          const transferable = await all((o) =>
            sessions.tokens.listBySession({ token }, { ...o, kind: 'transferable' }),
          );
          assert.deepEqual(
            transferable.map((x) => x.id),
            [t.info.id],
          );
          await sessions.destroy({ token });
          assert.deepEqual(await all((o) => sessions.tokens.listBySession({ token }, o)), []);
        }),
      );
    });

    describe('transferable tokens', () => {
      it(
        'belong to an owner, carried by a session or held outside one, and are listed by owner',
        run(async ({ sessions, owner }) => {
          const { token } = await sessions.create({ owner });
          const carried = await sessions.tokens.add({
            kind: 'transferable',
            session: { token },
            value: 'a',
          });
          const held = await sessions.tokens.add({ kind: 'transferable', owner, value: 'b' });
          assert.equal(carried.info.state, 'carried');
          assert.equal(held.info.state, 'held');
          assert.equal(held.info.sessionId, null);
          const mine = await all((o) => sessions.tokens.listByOwner(owner, o));
          assert.deepEqual(mine.map((x) => x.id).sort(), [carried.info.id, held.info.id].sort());
        }),
      );

      it(
        'keep application values apart from their own state (seed bug: mass assignment)',
        run(async ({ sessions, owner }) => {
          const { token, info } = await sessions.tokens.add({
            kind: 'transferable',
            owner,
            value: { _sellable: true, _price: 1, _owner: 'mallory', sellable: true },
          });
          assert.equal(info.sellable, false);
          assert.equal(info.price, null);
          assert.equal(info.owner, owner);
          assert.deepEqual(await all((o) => sessions.tokens.listSellable(o)), []);
          const r = await sessions.tokens.check(token);
          assert.deepEqual(r.active && r.value, {
            _sellable: true,
            _price: 1,
            _owner: 'mallory',
            sellable: true,
          });
        }),
      );

      it(
        'transfer between owners, keeping sellable state and amount',
        run(async ({ sessions, owner }) => {
          const { token: st } = await sessions.create({ owner });
          const { token, info } = await sessions.tokens.add({
            kind: 'transferable',
            session: { token: st },
            value: 'ticket',
          });
          await sessions.tokens.setSellable({ id: info.id }, { price: -4.5 });
          const moved = await sessions.tokens.transfer({ id: info.id }, { from: owner, to: 'bob' });
          assert.equal(moved.owner, 'bob');
          assert.equal(moved.state, 'held', 'kept by the receiver even without a session');
          assert.equal(moved.sellable, true);
          assert.equal(moved.price, -4.5);
          assert.equal(await sessions.tokens.ownerOf({ token }), 'bob');
          assert.deepEqual(await all((o) => sessions.tokens.listByOwner(owner, o)), []);
          assert.deepEqual(
            (await all((o) => sessions.tokens.listByOwner('bob', o))).map((x) => x.id),
            [info.id],
          );
          const r = await sessions.tokens.check(token);
          assert.equal(r.active && r.value, 'ticket');
        }),
      );

      it(
        'transfer into a live session of the receiver, and only from the current owner',
        run(async ({ sessions, owner }) => {
          const { info } = await sessions.tokens.add({ kind: 'transferable', owner, value: 1 });
          const bob = await sessions.create({ owner: 'bob' });
          const carol = await sessions.create({ owner: 'carol' });
          await rejectsWithCode(
            sessions.tokens.transfer({ id: info.id }, { from: 'carol', to: 'bob' }),
            FORBIDDEN,
          );
          await rejectsWithCode(
            sessions.tokens.transfer(
              { id: info.id },
              { from: owner, to: 'bob', toSession: { token: carol.token } },
            ),
            FORBIDDEN,
          );
          const moved = await sessions.tokens.transfer(
            { id: info.id },
            { from: owner, to: 'bob', toSession: { token: bob.token } },
          );
          assert.equal(moved.state, 'carried');
          assert.equal(moved.sessionId, bob.session.id);
          const listed = await all((o) =>
            sessions.tokens.listBySession({ token: bob.token }, { ...o, kind: 'transferable' }),
          );
          assert.deepEqual(
            listed.map((x) => x.id),
            [info.id],
          );
        }),
      );

      it(
        'transfer out of unassigned (seed bug: orphans could never be transferred)',
        run(async ({ sessions, owner }) => {
          const { token } = await sessions.create({ owner });
          const { info } = await sessions.tokens.add({
            kind: 'transferable',
            session: { token },
            value: 1,
          });
          await sessions.destroy({ token });
          await rejectsWithCode(
            sessions.tokens.transfer({ id: info.id }, { from: owner, to: 'bob' }),
            FORBIDDEN,
          );
          const moved = await sessions.tokens.transfer({ id: info.id }, { from: null, to: 'bob' });
          assert.equal(moved.owner, 'bob');
          assert.equal(moved.releasedAt, null);
          assert.deepEqual(await all((o) => sessions.tokens.listUnassigned(o)), []);
        }),
      );

      it(
        'are acquired into a session when unassigned or already the owner’s, never from another owner',
        run(async ({ sessions, owner }) => {
          const s1 = await sessions.create({ owner });
          const s2 = await sessions.create({ owner });
          const bob = await sessions.create({ owner: 'bob' });
          const { token } = await sessions.tokens.add({
            kind: 'transferable',
            session: { token: s1.token },
            value: 'gift',
          });
          const moved = await sessions.tokens.acquire(token, { token: s2.token });
          assert.equal(moved.sessionId, s2.session.id);
          await rejectsWithCode(sessions.tokens.acquire(token, { token: bob.token }), FORBIDDEN);
          await sessions.destroy({ token: s2.token });
          const got = await sessions.tokens.acquire(token, { token: bob.token });
          assert.equal(got.owner, 'bob');
          assert.equal(got.state, 'carried');
          assert.equal(got.sessionId, bob.session.id);
          await sessions.destroy({ token: bob.token });
          await rejectsWithCode(sessions.tokens.acquire(token, { token: bob.token }), NOT_FOUND);
        }),
      );

      it(
        'become unassigned when their session times out, with no write, and collect lists them',
        run(
          async ({ sessions, owner, clock }) => {
            const { token } = await sessions.create({ owner, idleTimeoutMs: HOUR });
            const { token: t, info } = await sessions.tokens.add({
              kind: 'transferable',
              session: { token },
              value: 1,
            });
            const { token: b } = await sessions.tokens.add({
              kind: 'bound',
              session: { token },
              value: 2,
            });
            const sessionEnd = clock.now() + HOUR;
            clock.advance(HOUR + 10 * MINUTE);
            assert.deepEqual(await all((o) => sessions.tokens.listUnassigned(o)), []);
            assert.deepEqual(await sessions.collect(), { sessions: 1, tokens: 2 });
            assert.deepEqual(await sessions.collect(), { sessions: 0, tokens: 0 });
            const listed = await all((o) => sessions.tokens.listUnassigned(o));
            assert.deepEqual(
              listed.map((x) => x.id),
              [info.id],
            );
            assert.equal(listed[0]!.releasedAt, sessionEnd, 'released as of the session end');
            assert.equal(listed[0]!.expiresAt, sessionEnd + 3 * HOUR);
            assert.deepEqual(await sessions.tokens.check(b), {
              active: false,
              reason: 'not_found',
            });
            clock.set(sessionEnd + 3 * HOUR);
            assert.equal((await sessions.tokens.check(t)).active, false);
          },
          { disownmentTimeoutMs: 3 * HOUR },
        ),
      );

      it(
        'are released when first seen after their session timed out, as of its end',
        run(async ({ sessions, owner, clock }) => {
          const { token } = await sessions.create({ owner, idleTimeoutMs: HOUR });
          const { token: t } = await sessions.tokens.add({
            kind: 'transferable',
            session: { token },
            value: 1,
            disownmentTimeoutMs: 2 * HOUR,
          });
          const end = clock.now() + HOUR;
          clock.advance(2 * HOUR);
          const r = await sessions.tokens.check(t);
          assert.equal(r.active && r.token.state, 'unassigned');
          assert.equal(r.active && r.token.expiresAt, end + 2 * HOUR);
          assert.equal((await all((o) => sessions.tokens.listUnassigned(o))).length, 1);
          clock.set(end + 2 * HOUR);
          assert.deepEqual(await sessions.tokens.check(t), { active: false, reason: 'expired' });
        }),
      );

      it(
        'take a per-token disownment timeout',
        run(async ({ sessions, owner, clock }) => {
          const { token } = await sessions.create({ owner });
          const { token: t } = await sessions.tokens.add({
            kind: 'transferable',
            session: { token },
            value: 1,
          });
          const changed = await sessions.tokens.setDisownmentTimeout({ token: t }, 10 * MINUTE);
          assert.equal(changed.disownmentTimeoutMs, 10 * MINUTE);
          await sessions.destroy({ token });
          clock.advance(10 * MINUTE - 1);
          assert.equal((await sessions.tokens.check(t)).active, true);
          await sessions.tokens.setDisownmentTimeout({ token: t }, 20 * MINUTE);
          clock.advance(10 * MINUTE);
          assert.equal((await sessions.tokens.check(t)).active, true);
          clock.advance(10 * MINUTE);
          assert.equal((await sessions.tokens.check(t)).active, false);
        }),
      );

      it(
        'are marked sellable with a positive or negative amount, unmarked keeping it, and listed',
        run(async ({ sessions, owner }) => {
          const a = await sessions.tokens.add({ kind: 'transferable', owner, value: 'a' });
          const b = await sessions.tokens.add({ kind: 'transferable', owner, value: 'b' });
          const plain = await sessions.tokens.add({ value: 'p' });
          assert.equal(
            (await sessions.tokens.setSellable({ id: a.info.id }, { price: 10 })).price,
            10,
          );
          const neg = await sessions.tokens.setSellable({ token: b.token }, { price: -2.5 });
          assert.equal(neg.sellable, true);
          assert.equal(neg.price, -2.5);
          const sellable = await all((o) => sessions.tokens.listSellable(o));
          assert.deepEqual(
            sellable.map((x) => [x.id, x.price]).sort(),
            [
              [a.info.id, 10],
              [b.info.id, -2.5],
            ].sort(),
          );
          const unset = await sessions.tokens.unsetSellable({ id: a.info.id });
          assert.equal(unset.sellable, false);
          assert.equal(unset.price, 10);
          assert.deepEqual(
            (await all((o) => sessions.tokens.listSellable(o))).map((x) => x.id),
            [b.info.id],
          );
          await rejectsWithCode(sessions.tokens.setSellable({ token: plain.token }), FORBIDDEN);
          await rejectsWithCode(
            sessions.tokens.setSellable({ token: b.token }, { price: Number.NaN }),
            INVALID,
          );
          await sessions.tokens.destroy({ token: b.token });
          assert.deepEqual(await all((o) => sessions.tokens.listSellable(o)), []);
        }),
      );
    });

    describe('listings', () => {
      it(
        'page with cursors',
        run(async ({ sessions, owner }) => {
          const ids = new Set<string>();
          for (let i = 0; i < 5; i++) {
            const { info } = await sessions.tokens.add({ kind: 'transferable', owner, value: i });
            await sessions.tokens.setSellable({ id: info.id }, { price: i });
            ids.add(info.id);
          }
          const first = await sessions.tokens.listSellable({ limit: 2 });
          assert.equal(first.items.length, 2);
          assert.notEqual(first.cursor, null);
          const everything = await all((o) => sessions.tokens.listSellable(o), 2);
          assert.deepEqual(new Set(everything.map((x) => x.id)), ids);
          const sessionsSeen = new Set<string>();
          for (let i = 0; i < 3; i++)
            sessionsSeen.add((await sessions.create({ owner })).session.id);
          const listed = await all((o) => sessions.listByOwner(owner, o), 1);
          assert.deepEqual(new Set(listed.map((s) => s.id)), sessionsSeen);
          await rejectsWithCode(sessions.tokens.listSellable({ limit: 0 }), INVALID);
        }),
      );
    });
  });
}
