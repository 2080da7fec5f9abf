/**
 * Race part of the sessions conformance suite: slow requests that must not
 * resurrect, concurrent destroy and activity, concurrent transfers and
 * acquires, in one process and across OS processes.
 * @module
 */
import assert from 'node:assert/strict';
import { createFakeClock } from '../core/clock.js';
import { isTesseraError } from '../core/errors.js';
import { createSessions } from '../sessions/create-sessions.js';
import type { Store } from '../stores/contract.js';
import { raceAcrossProcesses } from './race.js';
import { randomSuffix } from './runner.js';
import { all, HOUR, holdable, type makeRun } from './sessions-suite-support.js';
import type { StoreSuiteOptions } from './store-suite.js';

const fileUrl = import.meta.url;

const keyOf = (args: unknown[]) => (args[0] as { key?: string } | undefined)?.key ?? '';

/** Define the race tests (called by `defineSessionsSuite`). */
export function defineSessionRaces(
  options: StoreSuiteOptions,
  run: ReturnType<typeof makeRun>,
): void {
  const { describe, it } = options.runner;

  describe('races', () => {
    it(
      'a slow activity write after destroy does not resurrect the session or its tokens',
      run(async ({ store, clock, make, owner }) => {
        const h = holdable(store);
        const slow = make({ store: h.store });
        const sessions = make();
        const { token, session } = await sessions.create({ owner });
        const { token: bound } = await sessions.tokens.add({
          kind: 'bound',
          session: { token },
          value: 'v',
        });
        clock.advance(2 * HOUR); // activity is due
        const held = h.holdNext('update', (a) => keyOf(a) === `s:${session.id}`);
        const pending = slow.validate(token);
        await held.reached; // the slow request read the live session and is about to write
        assert.equal(await sessions.destroy({ token }), true);
        held.release();
        assert.deepEqual(await pending, { valid: false, reason: 'revoked' });
        assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'revoked' });
        assert.equal((await sessions.tokens.check(bound)).active, false);
        assert.deepEqual(await all((o) => sessions.listByOwner(owner, o)), []);
      }),
    );

    it(
      'a slow detach, timeout change or detach permission after destroy does not resurrect the session',
      run(async ({ store, make, owner }) => {
        const h = holdable(store);
        const slow = make({ store: h.store });
        const sessions = make();
        const ops = [
          (token: string) => slow.detach({ token }),
          (token: string) => slow.setTimeouts({ token }, { idleTimeoutMs: HOUR }),
          (token: string) => slow.allowDetach({ token }, false),
        ];
        for (const op of ops) {
          const { token, session } = await sessions.create({ owner, detachable: true });
          const held = h.holdNext('update', (a) => keyOf(a) === `s:${session.id}`);
          const pending = op(token);
          await held.reached;
          assert.equal(await sessions.destroy({ token }), true);
          held.release();
          await pending.then(
            () => assert.fail('the slow write must fail'),
            (err) => assert.ok(isTesseraError(err, 'ERR_TESSERA_NOT_FOUND'), String(err)),
          );
          assert.equal(await sessions.get({ id: session.id }), null);
          assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'revoked' });
        }
      }),
    );

    it(
      'a slow transfer after the token was destroyed does not bring it back',
      run(async ({ store, make, owner }) => {
        const h = holdable(store);
        const slow = make({ store: h.store });
        const sessions = make();
        const { token, info } = await sessions.tokens.add({
          kind: 'transferable',
          owner,
          value: 1,
        });
        const held = h.holdNext('update', (a) => keyOf(a) === `t:${info.id}`);
        const pending = slow.tokens.transfer({ id: info.id }, { from: owner, to: 'bob' });
        await held.reached;
        assert.equal(await sessions.tokens.destroy({ token }), true);
        held.release();
        await pending.then(
          () => assert.fail('the slow transfer must fail'),
          (err) => assert.ok(isTesseraError(err, 'ERR_TESSERA_NOT_FOUND'), String(err)),
        );
        assert.deepEqual(await sessions.tokens.check(token), {
          active: false,
          reason: 'not_found',
        });
      }),
    );

    it(
      'a token added to a session racing its destroy is never active afterwards',
      run(async ({ store, make, owner }) => {
        const h = holdable(store);
        const slow = make({ store: h.store });
        const sessions = make();
        const { token } = await sessions.create({ owner });
        const held = h.holdNext('put', (a) => keyOf(a).startsWith('t:'));
        const pending = slow.tokens.add({ kind: 'bound', session: { token }, value: 1 });
        await held.reached; // it checked the session was live and is about to write the token
        await sessions.destroy({ token });
        held.release();
        const outcome = await pending.then(
          (r) => r.token,
          (err) => {
            assert.ok(isTesseraError(err, 'ERR_TESSERA_NOT_FOUND'), String(err));
            return null;
          },
        );
        if (outcome !== null) assert.equal((await sessions.tokens.check(outcome)).active, false);
      }),
    );

    it(
      'concurrent activity and destroy leave the session destroyed, with one activity write at most',
      run(async ({ sessions, clock, owner, store, collections }) => {
        const { token, session } = await sessions.create({ owner });
        const ref = { collection: collections.sessions, key: `s:${session.id}` };
        clock.advance(2 * HOUR);
        const v0 = (await store.get(ref))!.version;
        const touches = Array.from({ length: 20 }, () => sessions.validate(token));
        const results = await Promise.all([...touches, sessions.destroy({ token })]);
        assert.equal(results.at(-1), true);
        assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'revoked' });
        const v1 = (await store.get(ref))!.version;
        assert.ok(v1 - v0 <= 2, `one activity write and one destroy at most (got ${v1 - v0})`);
      }),
    );

    it(
      'many concurrent requests record activity once',
      run(async ({ sessions, clock, owner, store, collections }) => {
        const { token, session } = await sessions.create({ owner });
        const ref = { collection: collections.sessions, key: `s:${session.id}` };
        clock.advance(2 * HOUR);
        const v0 = (await store.get(ref))!.version;
        const results = await Promise.all(
          Array.from({ length: 25 }, () => sessions.validate(token)),
        );
        assert.ok(results.every((r) => r.valid));
        assert.equal((await store.get(ref))!.version, v0 + 1);
      }),
    );

    it(
      'lets exactly one of several concurrent transfers of a token win',
      run(async ({ sessions, owner }) => {
        const { info } = await sessions.tokens.add({ kind: 'transferable', owner, value: 1 });
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) =>
            sessions.tokens.transfer({ id: info.id }, { from: owner, to: `r${i}` }),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        assert.equal(won.length, 1);
        const codes = results
          .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
          .map((r) => (r.reason as { code?: string }).code);
        assert.ok(
          codes.every((c) => c === 'ERR_TESSERA_FORBIDDEN'),
          `losers are refused: ${codes.join(',')}`,
        );
        const winner = (won[0] as PromiseFulfilledResult<{ owner: string | null }>).value.owner;
        assert.equal(await sessions.tokens.ownerOf({ id: info.id }), winner);
      }),
    );

    it(
      'lets exactly one of several sessions acquire an unassigned token',
      run(async ({ sessions, owner }) => {
        const { token: st } = await sessions.create({ owner });
        const { token } = await sessions.tokens.add({
          kind: 'transferable',
          session: { token: st },
          value: 1,
        });
        await sessions.destroy({ token: st });
        const takers = await Promise.all(
          Array.from({ length: 8 }, (_, i) => sessions.create({ owner: `taker-${i}` })),
        );
        const results = await Promise.allSettled(
          takers.map((t) => sessions.tokens.acquire(token, { token: t.token })),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      }),
    );

    if (options.multiProcess) {
      const mp = options.multiProcess;
      const shared = async () => {
        const { store, spec } = await mp.createSharedStore();
        const suffix = randomSuffix(4);
        const collections = { sessions: `ss${suffix}`, tokens: `st${suffix}` };
        return { store, spec, collections };
      };

      it('lets exactly one transfer win among racers in several OS processes', async () => {
        const { store, spec, collections } = await shared();
        try {
          const clock = createFakeClock();
          const sessions = createSessions({ store, clock, collections });
          const owner = `racer-${randomSuffix(4)}`;
          const { info } = await sessions.tokens.add({ kind: 'transferable', owner, value: 1 });
          const result = await raceAcrossProcesses(
            spec,
            {
              kind: 'custom',
              module: fileUrl,
              exportName: 'transferSessionTokenOnce',
              arg: { id: info.id, from: owner, now: clock.now(), collections },
            },
            mp.processes ?? 3,
            6,
          );
          assert.deepEqual(result.errors, []);
          assert.equal(result.successes, 1);
          const now = await sessions.tokens.get({ id: info.id });
          assert.ok(now?.owner?.startsWith('rcv-'));
        } finally {
          await store.close();
        }
      }, 120_000);

      it('records activity once and never resurrects a destroyed session across OS processes', async () => {
        const { store, spec, collections } = await shared();
        try {
          const clock = createFakeClock();
          const sessions = createSessions({ store, clock, collections });
          const { token, session } = await sessions.create({ owner: `racer-${randomSuffix(4)}` });
          const ref = { collection: collections.sessions, key: `s:${session.id}` };
          const v0 = (await store.get(ref))!.version;
          const task = {
            kind: 'custom' as const,
            module: fileUrl,
            exportName: 'validateSessionOnce',
            arg: { token, now: clock.now() + 2 * HOUR, collections },
          };
          const first = await raceAcrossProcesses(spec, task, mp.processes ?? 3, 6);
          assert.deepEqual(first.errors, []);
          assert.equal(first.successes, (mp.processes ?? 3) * 6);
          assert.equal((await store.get(ref))!.version, v0 + 1, 'one activity write');
          clock.advance(2 * HOUR);
          const later = { ...task, arg: { ...task.arg, now: clock.now() + 2 * HOUR } };
          const [second, destroyed] = await Promise.all([
            raceAcrossProcesses(spec, later, mp.processes ?? 3, 6),
            sessions.destroy({ token }),
          ]);
          assert.deepEqual(second.errors, []);
          assert.equal(destroyed, true);
          assert.deepEqual(await sessions.validate(token), { valid: false, reason: 'revoked' });
        } finally {
          await store.close();
        }
      }, 120_000);
    }
  });
}

/** Racer body (runs in a worker process): one transfer attempt to a racer-specific owner. */
export async function transferSessionTokenOnce(
  store: Store,
  arg: { id: string; from: string; now: number; collections: { sessions: string; tokens: string } },
  i: number,
): Promise<boolean> {
  const sessions = createSessions({
    store,
    clock: createFakeClock(arg.now),
    collections: arg.collections,
  });
  try {
    await sessions.tokens.transfer(
      { id: arg.id },
      { from: arg.from, to: `rcv-${process.pid}-${i}` },
    );
    return true;
  } catch (err) {
    if (isTesseraError(err, 'ERR_TESSERA_FORBIDDEN')) return false;
    throw err;
  }
}

/** Racer body (runs in a worker process): one validate, with activity due. */
export async function validateSessionOnce(
  store: Store,
  arg: { token: string; now: number; collections: { sessions: string; tokens: string } },
): Promise<boolean> {
  const sessions = createSessions({
    store,
    clock: createFakeClock(arg.now),
    collections: arg.collections,
  });
  const r = await sessions.validate(arg.token);
  if (!r.valid && r.reason !== 'revoked') throw new Error(`unexpected outcome ${r.reason}`);
  return r.valid;
}
