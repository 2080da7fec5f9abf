/**
 * The sessions conformance suite: sessions, transition tokens, listings and
 * races, on top of any store, on a fake clock (no sleeps), including racers
 * in several OS processes when the backend shares data across them.
 * @module
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createKeyring } from '../core/keyring.js';
import { rejectsWithCode } from './runner.js';
import { defineFixedCountdownTests } from './sessions-suite-fixed.js';
import { defineSessionRaces } from './sessions-suite-races.js';
import { all, DAY, HOUR, MINUTE, makeRun } from './sessions-suite-support.js';
import { defineTransitionTokenTests } from './sessions-suite-tokens.js';
import type { StoreSuiteOptions } from './store-suite.js';

const INVALID = 'ERR_TESSERA_INVALID_INPUT';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url');

function keyring(activeId: string) {
  return createKeyring({
    keys: [
      { id: 'k1', secret: 'test-secret-k1-0123456789abcdef0123456789abcdef' },
      { id: 'k2', secret: 'test-secret-k2-0123456789abcdef0123456789abcdef' },
    ],
    activeId,
  });
}

/**
 * Define the sessions tests with the injected runner and store factory. With
 * `multiProcess`, racers also touch, destroy and transfer from several OS processes.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * defineSessionsSuite({ name: 'memory', runner: { describe, it }, createStore: () => createMemoryStore() });
 * ```
 */
export function defineSessionsSuite(options: StoreSuiteOptions): void {
  const { describe, it } = options.runner;
  const run = makeRun(options);

  describe(`sessions: ${options.name}`, () => {
    describe('create and validate', () => {
      it(
        'issues a 256-bit token, stores only its SHA-256, and uses the hash as the public id',
        run(async ({ sessions, owner, store, collections }) => {
          const { token, session } = await sessions.create({ owner });
          assert.match(token, /^[A-Za-z0-9_-]{43}$/);
          assert.equal(session.id, sha256(token));
          assert.equal(session.owner, owner);
          const dump = JSON.stringify((await store.list(collections.sessions)).records);
          assert.ok(!dump.includes(token), 'the token is never stored');
          const r = await sessions.validate(token);
          assert.equal(r.valid && r.session.id, session.id);
        }),
      );

      it(
        'defaults to a 7-day idle timeout and a 30-day absolute cap',
        run(async ({ sessions, owner, clock }) => {
          const { session } = await sessions.create({ owner });
          assert.equal(session.idleTimeoutMs, 7 * DAY);
          assert.equal(session.expiresAt, clock.now() + 7 * DAY);
          assert.equal(session.absoluteExpiresAt, clock.now() + 30 * DAY);
          assert.equal(session.detachable, false);
          assert.equal(session.detached, false);
        }),
      );

      it(
        'reports an unknown token as not found',
        run(async ({ sessions }) => {
          assert.deepEqual(await sessions.validate('x'.repeat(43)), {
            valid: false,
            reason: 'not_found',
          });
        }),
      );

      it(
        'makes tokens with the pluggable maker and its prefix, and refuses short ones',
        run(async ({ make, owner }) => {
          let n = 0;
          const custom = make({
            tokenMaker: (p) => `${p ?? ''}custom-${++n}-0123456789abcdefghij`,
          });
          const { token } = await custom.create({ owner, prefix: 'sess_' });
          assert.equal(token, 'sess_custom-1-0123456789abcdefghij');
          assert.equal((await custom.validate(token)).valid, true);
          const short = make({ tokenMaker: () => 'short' });
          await rejectsWithCode(short.create({ owner }), INVALID);
          const dflt = make();
          assert.match(dflt.tokens.create('tt_'), /^tt_[A-Za-z0-9_-]{43}$/);
        }),
      );

      it(
        'accepts a supplied token, refuses it while its session is live, and a reuse after destroy starts afresh',
        run(async ({ sessions, owner }) => {
          const token = 'supplied-session-token-0123456789';
          await sessions.create({ owner, token });
          await rejectsWithCode(sessions.create({ owner, token }), 'ERR_TESSERA_ALREADY_EXISTS');
          const { token: bound } = await sessions.tokens.add({
            kind: 'bound',
            session: { token },
            value: 'old',
          });
          assert.equal(await sessions.destroy({ token }), true);
          const again = await sessions.create({ owner, token });
          assert.equal((await sessions.validate(token)).valid, true);
          assert.equal(again.session.id, sha256(token));
          assert.equal((await sessions.tokens.check(bound)).active, false);
        }),
      );

      it(
        'checks an expected owner first: another owner gets wrong_owner and nothing is written',
        run(async ({ sessions, owner, clock, store, collections }) => {
          const { token, session } = await sessions.create({ owner, idleTimeoutMs: HOUR });
          const { info } = await sessions.tokens.add({
            kind: 'transferable',
            session: { token },
            value: 'v',
          });
          const sref = { collection: collections.sessions, key: `s:${session.id}` };
          const tref = { collection: collections.tokens, key: `t:${info.id}` };
          const versions = async () => [
            (await store.get(sref))?.version,
            (await store.get(tref))?.version,
          ];
          const v0 = await versions();
          clock.advance(40 * MINUTE); // past the activity interval
          const other = { owner: `${owner}-other` };
          assert.deepEqual(await sessions.validate(token, other), {
            valid: false,
            reason: 'wrong_owner',
          });
          assert.deepEqual(await versions(), v0, 'no activity for another owner');
          const r = await sessions.validate(token, { owner });
          assert.equal(r.valid && r.session.lastActiveAt, clock.now());
          const v1 = await versions();
          assert.equal(v1[0], (v0[0] as number) + 1);
          clock.advance(HOUR); // ended, its token not released yet
          assert.deepEqual(await sessions.validate(token, other), {
            valid: false,
            reason: 'wrong_owner',
          });
          assert.deepEqual(await versions(), v1, 'nor a release of its tokens');
          assert.deepEqual(await sessions.validate('x'.repeat(43), other), {
            valid: false,
            reason: 'not_found',
          });
          for (const bad of ['', 'a\nb', 'x'.repeat(257), 7, null]) {
            await rejectsWithCode(sessions.validate(token, { owner: bad as never }), INVALID);
          }
          await rejectsWithCode(sessions.validate(token, 'owner' as never), INVALID);
        }),
      );

      it(
        'rejects bad input with InvalidInputError',
        run(async ({ sessions, owner }) => {
          const bad = [
            { owner: '' },
            { owner: 'a\nb' },
            { owner: 'x'.repeat(257) },
            { owner, token: 'short' },
            { owner, idleTimeoutMs: 0 },
            { owner, absoluteTimeoutMs: 1.5 },
            { owner, detachTimeoutMs: -1 },
            { owner, detachable: 'yes' as never },
            { owner, data: [] as never },
            { owner, prefix: 'a\u0000' },
          ];
          for (const input of bad) await rejectsWithCode(sessions.create(input), INVALID);
          await rejectsWithCode(sessions.create(null as never), INVALID);
          await rejectsWithCode(sessions.validate('short'), INVALID);
          await rejectsWithCode(sessions.get({ id: 'nope' }), INVALID);
          await rejectsWithCode(sessions.get({} as never), INVALID);
          await rejectsWithCode(
            sessions.get({ id: 'x'.repeat(43), token: 'y'.repeat(43) } as never),
            INVALID,
          );
        }),
      );

      it(
        'stores HMAC-SHA-256 ids under a keyring, and old sessions survive a key rotation',
        run(async ({ make, owner, store, collections }) => {
          const before = make({ keyring: keyring('k1') });
          const { token, session } = await before.create({ owner });
          assert.notEqual(session.id, sha256(token));
          const dump = JSON.stringify((await store.list(collections.sessions)).records);
          assert.ok(!dump.includes(token));
          const after = make({ keyring: keyring('k2') });
          const r = await after.validate(token);
          assert.equal(r.valid && r.session.id, session.id);
          assert.equal((await after.get({ id: session.id }))?.owner, owner);
        }),
      );
    });

    describe('timeouts', () => {
      it(
        'idles out after the idle timeout without activity',
        run(async ({ sessions, owner, clock }) => {
          const { token } = await sessions.create({ owner, idleTimeoutMs: 30 * MINUTE });
          clock.advance(30 * MINUTE - 1);
          assert.equal((await sessions.get({ token }))?.owner, owner);
          clock.advance(1);
          assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'expired' });
          assert.equal(await sessions.get({ token }), null);
        }),
      );

      it(
        'slides with activity, and never past the absolute cap',
        run(async ({ sessions, owner, clock }) => {
          const { token } = await sessions.create({
            owner,
            idleTimeoutMs: 2 * HOUR,
            absoluteTimeoutMs: 5 * HOUR,
          });
          const start = clock.now();
          for (let h = 1; h <= 4; h++) {
            clock.set(start + h * HOUR);
            const r = await sessions.validate(token);
            assert.equal(r.valid, true, `valid after ${h} h`);
            assert.equal(
              r.valid && r.session.expiresAt,
              Math.min(clock.now() + 2 * HOUR, start + 5 * HOUR),
            );
          }
          clock.set(start + 5 * HOUR);
          assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'expired' });
        }),
      );

      it(
        'writes activity at most once per interval (default hourly)',
        run(async ({ sessions, owner, clock, store, collections }) => {
          const { token, session } = await sessions.create({ owner });
          const ref = { collection: collections.sessions, key: `s:${session.id}` };
          const v0 = (await store.get(ref))!.version;
          for (let i = 0; i < 10; i++) {
            clock.advance(5 * MINUTE);
            assert.equal((await sessions.validate(token)).valid, true);
          }
          assert.equal((await store.get(ref))!.version, v0, 'no write within the hour');
          clock.advance(10 * MINUTE);
          const r = await sessions.validate(token);
          assert.equal(r.valid && r.session.lastActiveAt, clock.now());
          assert.equal((await store.get(ref))!.version, v0 + 1, 'one write after the hour');
          await sessions.validate(token);
          assert.equal((await store.get(ref))!.version, v0 + 1);
        }),
      );

      it(
        'writes activity at least once per half idle timeout, so an active session never idles out',
        run(
          async ({ sessions, owner, clock }) => {
            const { token } = await sessions.create({ owner, idleTimeoutMs: 10 * MINUTE });
            for (let i = 0; i < 12; i++) {
              clock.advance(5 * MINUTE);
              assert.equal((await sessions.validate(token)).valid, true, `step ${i}`);
            }
          },
          { activityIntervalMs: HOUR },
        ),
      );

      it(
        'takes general defaults from the options and per-session timeouts at creation',
        run(
          async ({ sessions, owner, clock }) => {
            const a = await sessions.create({ owner });
            assert.equal(a.session.expiresAt, clock.now() + HOUR);
            assert.equal(a.session.absoluteExpiresAt, null);
            const b = await sessions.create({ owner, idleTimeoutMs: null });
            assert.equal(b.session.expiresAt, null);
            clock.advance(3650 * DAY);
            assert.equal((await sessions.validate(b.token)).valid, true, 'never times out');
            assert.equal((await sessions.validate(a.token)).valid, false);
          },
          { idleTimeoutMs: HOUR, absoluteTimeoutMs: null },
        ),
      );

      it(
        'changes timeouts per session and reports the time left',
        run(async ({ sessions, owner, clock }) => {
          const { token, session } = await sessions.create({ owner });
          clock.advance(10 * MINUTE);
          const s = await sessions.setTimeouts({ token }, { idleTimeoutMs: 20 * MINUTE });
          assert.equal(s.idleTimeoutMs, 20 * MINUTE);
          assert.equal(s.expiresAt! - clock.now(), 20 * MINUTE, 'the idle window restarts now');
          const capped = await sessions.setTimeouts(
            { id: session.id },
            { absoluteTimeoutMs: 15 * MINUTE },
          );
          assert.equal(capped.absoluteExpiresAt, session.createdAt + 15 * MINUTE);
          assert.equal(capped.expiresAt! - clock.now(), 5 * MINUTE);
          clock.advance(5 * MINUTE);
          assert.equal((await sessions.validate(token)).valid, false);
          await rejectsWithCode(
            sessions.setTimeouts({ token }, { idleTimeoutMs: HOUR }),
            'ERR_TESSERA_NOT_FOUND',
          );
          await rejectsWithCode(sessions.setTimeouts({ token }, { idleTimeoutMs: 0 }), INVALID);
        }),
      );

      it(
        'ends a session at once when a new absolute cap lies in the past',
        run(async ({ sessions, owner, clock }) => {
          const { token } = await sessions.create({ owner });
          clock.advance(2 * HOUR);
          await rejectsWithCode(
            sessions.setTimeouts({ token }, { absoluteTimeoutMs: HOUR }),
            'ERR_TESSERA_NOT_FOUND',
          );
          assert.equal((await sessions.validate(token)).valid, false);
        }),
      );
    });

    describe('owners', () => {
      it(
        'keeps many sessions per owner by default and lists them',
        run(async ({ sessions, owner }) => {
          const a = await sessions.create({ owner });
          const b = await sessions.create({ owner });
          const c = await sessions.create({ owner });
          await sessions.create({ owner: `${owner}-other` });
          for (const s of [a, b, c]) assert.equal((await sessions.validate(s.token)).valid, true);
          const listed = await all((o) => sessions.listByOwner(owner, o));
          assert.deepEqual(
            listed.map((s) => s.id).sort(),
            [a, b, c].map((s) => s.session.id).sort(),
          );
          await sessions.destroy({ token: b.token });
          const after = await all((o) => sessions.listByOwner(owner, o));
          assert.equal(after.length, 2);
        }),
      );

      it(
        'keeps one session per owner as an option: a new one ends the previous and its bound tokens',
        run(
          async ({ sessions, owner }) => {
            const first = await sessions.create({ owner });
            const { token: bound } = await sessions.tokens.add({
              kind: 'bound',
              session: { token: first.token },
              value: 'v',
            });
            const second = await sessions.create({ owner });
            assert.deepEqual(await sessions.validate(first.token), {
              valid: false,
              reason: 'revoked',
            });
            assert.equal((await sessions.validate(second.token)).valid, true);
            assert.equal((await sessions.tokens.check(bound)).active, false);
            const listed = await all((o) => sessions.listByOwner(owner, o));
            assert.deepEqual(
              listed.map((s) => s.id),
              [second.session.id],
            );
            const other = await sessions.create({ owner: `${owner}-2` });
            assert.equal((await sessions.validate(other.token)).valid, true);
            assert.equal((await sessions.validate(second.token)).valid, true);
          },
          { onePerOwner: true },
        ),
      );

      it(
        'logs an owner out everywhere, or everywhere but this session',
        run(async ({ sessions, owner }) => {
          const a = await sessions.create({ owner });
          const b = await sessions.create({ owner });
          const c = await sessions.create({ owner });
          const other = await sessions.create({ owner: `${owner}-other` });
          assert.equal(await sessions.destroyAll(owner, { except: { token: b.token } }), 2);
          assert.equal((await sessions.validate(a.token)).valid, false);
          assert.equal((await sessions.validate(b.token)).valid, true);
          assert.equal((await sessions.validate(c.token)).valid, false);
          assert.equal(await sessions.destroyAll(owner), 1);
          assert.equal((await sessions.validate(b.token)).valid, false);
          assert.equal((await sessions.validate(other.token)).valid, true);
          assert.equal(await sessions.destroyAll(owner), 0);
        }),
      );
    });

    describe('detach and attach', () => {
      it(
        'refuses to detach a session that does not allow it',
        run(async ({ sessions, owner }) => {
          const { token } = await sessions.create({ owner });
          await rejectsWithCode(sessions.detach({ token }), 'ERR_TESSERA_FORBIDDEN');
          assert.equal((await sessions.validate(token)).valid, true);
          const allowed = await sessions.allowDetach({ token });
          assert.equal(allowed.detachable, true);
          assert.equal((await sessions.detach({ token })).detached, true);
          const forbidden = await sessions.allowDetach({ token }, false);
          assert.equal(forbidden.detachable, false);
        }),
      );

      it(
        'keeps a detached session alive for its detachment timeout, listed, not authenticating, with its tokens',
        run(async ({ sessions, owner, clock }) => {
          const { token, session } = await sessions.create({
            owner,
            detachable: true,
            idleTimeoutMs: HOUR,
            detachTimeoutMs: 3 * DAY,
          });
          const { token: bound } = await sessions.tokens.add({
            kind: 'bound',
            session: { token },
            value: 'job-42',
          });
          const d = await sessions.detach({ token });
          assert.equal(d.detached, true);
          assert.equal(d.detachedAt, clock.now());
          assert.equal(d.expiresAt, clock.now() + 3 * DAY);
          assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'detached' });
          clock.advance(2 * DAY);
          const listed = await all((o) => sessions.listDetached(o));
          assert.deepEqual(
            listed.map((s) => s.id),
            [session.id],
          );
          assert.equal((await sessions.tokens.check(bound)).active, true);
          clock.advance(DAY);
          assert.equal(await sessions.get({ token }), null);
          assert.deepEqual(await all((o) => sessions.listDetached(o)), []);
          assert.equal((await sessions.tokens.check(bound)).active, false);
          await rejectsWithCode(sessions.attach({ token }), 'ERR_TESSERA_NOT_FOUND');
        }),
      );

      it(
        'attaches a detached session again with a fresh idle window',
        run(async ({ sessions, owner, clock }) => {
          const { token } = await sessions.create({ owner, detachable: true, idleTimeoutMs: HOUR });
          await sessions.detach({ token });
          clock.advance(5 * HOUR);
          const a = await sessions.attach({ token });
          assert.equal(a.detached, false);
          assert.equal(a.expiresAt, clock.now() + HOUR);
          assert.equal((await sessions.validate(token)).valid, true);
          assert.deepEqual(await all((o) => sessions.listDetached(o)), []);
          clock.advance(HOUR - 1);
          assert.equal((await sessions.validate(token)).valid, true, 'not dead at the next tick');
        }),
      );
    });

    describe('destroy', () => {
      it(
        'ends the session at once, with its bound tokens, and is idempotent',
        run(async ({ sessions, owner }) => {
          const { token } = await sessions.create({ owner });
          const { token: bound } = await sessions.tokens.add({
            kind: 'bound',
            session: { token },
            value: 'v',
          });
          assert.equal(await sessions.destroy({ token }), true);
          assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'revoked' });
          assert.deepEqual(await sessions.tokens.check(bound), {
            active: false,
            reason: 'not_found',
          });
          assert.equal(await sessions.destroy({ token }), false);
          assert.equal(await sessions.destroy({ id: 'x'.repeat(43) }), false);
          assert.deepEqual(await all((o) => sessions.listByOwner(owner, o)), []);
        }),
      );

      it(
        'destroys a session by its public id (e.g. from a device list)',
        run(async ({ sessions, owner }) => {
          const { token, session } = await sessions.create({ owner });
          assert.equal(await sessions.destroy({ id: session.id }), true);
          assert.equal((await sessions.validate(token)).valid, false);
        }),
      );

      it(
        'makes transferable tokens unassigned for their disownment timeout',
        run(
          async ({ sessions, owner, clock }) => {
            const { token } = await sessions.create({ owner });
            const { token: t, info } = await sessions.tokens.add({
              kind: 'transferable',
              session: { token },
              value: { seat: '12A' },
            });
            assert.equal(info.state, 'carried');
            await sessions.destroy({ token });
            const u = await sessions.tokens.get({ token: t });
            assert.equal(u?.state, 'unassigned');
            assert.equal(u?.owner, null);
            assert.equal(u?.releasedAt, clock.now());
            assert.equal(u?.expiresAt, clock.now() + 2 * HOUR);
            const listed = await all((o) => sessions.tokens.listUnassigned(o));
            assert.deepEqual(
              listed.map((x) => x.id),
              [info.id],
            );
            clock.advance(2 * HOUR);
            assert.deepEqual(await sessions.tokens.check(t), { active: false, reason: 'expired' });
            assert.deepEqual(await all((o) => sessions.tokens.listUnassigned(o)), []);
          },
          { disownmentTimeoutMs: 2 * HOUR },
        ),
      );
    });

    defineFixedCountdownTests(options, run);
    defineTransitionTokenTests(options, run);
    defineSessionRaces(options, run);
  });
}
