/**
 * The session family of the model-based tests: sessions (create, validate
 * with sliding idle expiry under an absolute cap, destroy, destroy all) and
 * their transition tokens: bound tokens that die with their session at once,
 * transferable tokens carried by a session or held by an owner, released
 * (disowned) when their session ends and waiting unassigned until their
 * disownment deadline, transfer, acquire and destroy.
 */
import fc from 'fast-check';
import { createFakeClock } from '../../../../src/core/clock.js';
import { createSessions, type TokenInfo } from '../../../../src/sessions/index.js';
import { randomSuffix } from '../../../../src/testing/index.js';
import { codeOf, compare, type ModelFamily, nth, OWNERS, T0 } from './harness.js';

const IDLE = 90_000;
const ABSOLUTE = 150_000;
/** Activity is written at most every half idle timeout (the default hourly interval is longer). */
const ACTIVITY_EVERY = IDLE / 2;
const DISOWN = 60_000;

/** One session or transition-token command (`i`: a session, `j`: a token, by creation order). */
export type SessionOp =
  | { t: 'create'; o: number }
  | { t: 'validate'; i: number }
  | { t: 'destroy'; i: number }
  | { t: 'destroyAll'; o: number }
  | { t: 'addBound'; i: number; v: number }
  | { t: 'addTransferable'; i: number; held: boolean; o: number; v: number }
  | { t: 'check'; j: number }
  /** `from`: 0 or 1 an owner, 2 none (an unassigned token). */
  | { t: 'transfer'; j: number; from: number; to: number; into: boolean; i: number }
  | { t: 'acquire'; j: number; i: number }
  | { t: 'destroyToken'; j: number }
  | { t: 'tick'; s: number };

const i = fc.nat(5);
const j = fc.nat(7);
const o = fc.nat(1);
const v = fc.nat(99);

const op: fc.Arbitrary<SessionOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('create' as const), o }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('validate' as const), i }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('destroy' as const), i }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('destroyAll' as const), o }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('addBound' as const), i, v }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('addTransferable' as const),
      i,
      held: fc.boolean(),
      o,
      v,
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('check' as const), j }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('transfer' as const),
      j,
      from: fc.nat(2),
      to: o,
      into: fc.boolean(),
      i,
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('acquire' as const), j, i }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('destroyToken' as const), j }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 60 }) }),
  },
);

const create = (o: number): SessionOp => ({ t: 'create', o });
const carried = (i: number): SessionOp => ({ t: 'addTransferable', i, held: false, o: 0, v: i });
const held = (o: number): SessionOp => ({ t: 'addTransferable', i: 0, held: true, o, v: 50 + o });
const bound = (i: number): SessionOp => ({ t: 'addBound', i, v: 10 + i });
const check = (j: number): SessionOp => ({ t: 'check', j });
const tick = (s: number): SessionOp => ({ t: 'tick', s });
const transfer = (j: number, from: number, to: number, into?: number): SessionOp => ({
  t: 'transfer',
  j,
  from,
  to,
  into: into !== undefined,
  i: into ?? 0,
});

/** Hand-written sequences: destroy kills bound tokens, disownment, timeouts, transfers. */
const examples: SessionOp[][] = [
  [
    create(0),
    bound(0),
    carried(0),
    check(0),
    check(1),
    { t: 'validate', i: 0 },
    { t: 'destroy', i: 0 },
    check(0),
    check(1),
    create(1),
    { t: 'acquire', j: 1, i: 1 },
    transfer(1, 1, 0),
    transfer(1, 1, 0),
    transfer(1, 0, 1, 1),
    { t: 'destroyToken', j: 1 },
    { t: 'destroyToken', j: 1 },
    check(1),
    { t: 'destroy', i: 0 },
  ],
  [
    create(0),
    create(0),
    create(1),
    carried(0),
    bound(1),
    held(1),
    tick(50),
    { t: 'validate', i: 0 },
    { t: 'validate', i: 2 },
    tick(60),
    check(1),
    check(1),
    { t: 'validate', i: 1 },
    { t: 'destroyAll', o: 0 },
    check(0),
    transfer(0, 2, 1, 2),
    { t: 'acquire', j: 2, i: 2 },
    tick(31),
    check(0),
    transfer(2, 1, 0),
    tick(60),
    check(0),
    check(2),
    { t: 'destroy', i: 2 },
    create(1),
    { t: 'acquire', j: 0, i: 3 },
    bound(3),
    { t: 'acquire', j: 3, i: 3 },
    transfer(3, 1, 0),
  ],
  [
    create(0),
    carried(0),
    create(1),
    carried(1),
    bound(1),
    tick(60),
    tick(31),
    { t: 'validate', i: 1 },
    check(1),
    check(2),
    tick(60),
    check(0),
    check(0),
    check(1),
    { t: 'destroy', i: 0 },
    { t: 'destroyToken', j: 1 },
    { t: 'destroyToken', j: 1 },
    check(1),
  ],
];

/** The model's session. */
interface Sess {
  o: number;
  createdAt: number;
  lastActive: number;
  endsAt: number;
  /** Ended by destroy (validate then says `revoked`), not by a timeout. */
  revoked: boolean;
}

/** The model's transition token. */
interface Tok {
  kind: 'bound' | 'transferable';
  value: { v: number };
  owner: number | null;
  session: number | null;
  /** Set when it was released from an ended session (its record then expires at +DISOWN). */
  releasedAt: number | null;
  /** Whether its record is still in the store. */
  exists: boolean;
}

type Res =
  | {
      active: true;
      state: string;
      owner: number | null;
      session: number | null;
      expiresAt: number | null;
      releasedAt: number | null;
      releaseAt?: number;
    }
  | { active: false; reason: string; purge: boolean };

export const sessionsFamily: ModelFamily<SessionOp> = {
  key: 'sessions',
  title:
    'sessions behave like the model: create, validate (sliding idle expiry, absolute cap), destroy, destroy all; bound tokens die with their session; transferable tokens carried, held, disowned and unassigned until their deadline, transferred, acquired, destroyed',
  commands: [
    'create',
    'validate',
    'destroy',
    'destroyAll',
    'addBound',
    'addTransferable:carried',
    'addTransferable:held',
    'check',
    'transfer',
    'transfer:into-session',
    'acquire',
    'destroyToken',
    'tick',
  ],
  labels(x) {
    if (x.t === 'addTransferable')
      return [x.held ? 'addTransferable:held' : 'addTransferable:carried'];
    if (x.t === 'transfer') return x.into ? ['transfer', 'transfer:into-session'] : ['transfer'];
    return [x.t];
  },
  op,
  examples,
  async run(store, issued, seq, onStep) {
    const clock = createFakeClock(T0);
    const sessions = createSessions({
      store,
      clock,
      idleTimeoutMs: IDLE,
      absoluteTimeoutMs: ABSOLUTE,
      disownmentTimeoutMs: DISOWN,
      collections: { sessions: `s${randomSuffix(6)}`, tokens: `t${randomSuffix(6)}` },
    });
    const run = randomSuffix(3);
    const names = OWNERS.map((n) => `${n}-${run}`);
    /** What the real side knows: each session's token and id, each transition token. */
    const ws: Array<{ token: string; id: string }> = [];
    const wt: string[] = [];
    const infoOf = (x: TokenInfo) =>
      `${x.state}|${x.owner === null ? null : names.indexOf(x.owner)}|${
        x.sessionId === null ? null : ws.findIndex((s) => s.id === x.sessionId)
      }|${x.expiresAt}|${x.releasedAt}|${JSON.stringify(x.value)}`;

    const ms: Sess[] = [];
    const mt: Tok[] = [];
    const live = (s: Sess, now: number) => s.endsAt > now;
    /** Where a token stands now, as the module computes it from its record and its session's. */
    const resolve = (t: Tok, now: number): Res => {
      if (!t.exists) return { active: false, reason: 'not_found', purge: false };
      const recordExp = t.releasedAt === null ? null : t.releasedAt + DISOWN;
      if (recordExp !== null && recordExp <= now)
        return { active: false, reason: 'expired', purge: false };
      const base = { active: true as const, releasedAt: t.releasedAt };
      if (t.session === null) {
        if (t.kind === 'bound') return { active: false, reason: 'session_ended', purge: true };
        const state = t.owner === null ? 'unassigned' : 'held';
        return { ...base, state, owner: t.owner, session: null, expiresAt: recordExp };
      }
      const s = ms[t.session] as Sess;
      if (live(s, now)) {
        const state = t.kind === 'bound' ? 'bound' : 'carried';
        return { ...base, state, owner: t.owner, session: t.session, expiresAt: recordExp };
      }
      if (t.kind === 'bound') return { active: false, reason: 'session_ended', purge: true };
      const deadline = s.endsAt + DISOWN;
      if (deadline <= now) return { active: false, reason: 'expired', purge: true };
      return {
        active: true,
        state: 'unassigned',
        owner: null,
        session: null,
        expiresAt: deadline,
        releasedAt: s.endsAt,
        releaseAt: s.endsAt,
      };
    };
    /** Write back what resolution found: release from an ended session, or delete for good. */
    const settle = (t: Tok, r: Res): Res => {
      if (r.active && r.releaseAt !== undefined) {
        t.owner = null;
        t.session = null;
        t.releasedAt = r.releaseAt;
      } else if (!r.active && r.purge) t.exists = false;
      return r;
    };
    const info = (t: Tok, r: Extract<Res, { active: true }>) =>
      `${r.state}|${r.owner}|${r.session}|${r.expiresAt}|${r.releasedAt}|${JSON.stringify(t.value)}`;
    /** What an ended session leaves: bound tokens deleted, transferable ones released. */
    const release = (si: number, endedAt: number) => {
      for (const t of mt) {
        if (!t.exists || t.session !== si) continue;
        if (t.kind === 'bound') t.exists = false;
        else {
          t.owner = null;
          t.session = null;
          t.releasedAt = endedAt;
        }
      }
    };

    await compare(
      seq,
      async (x) => {
        if (x.t === 'tick') {
          clock.advance(x.s * 1000);
          return null;
        }
        try {
          if (x.t === 'create') {
            const r = await sessions.create({ owner: names[x.o] as string });
            ws.push({ token: r.token, id: r.session.id });
            issued.add('session token', r.token);
            return `created:${r.session.expiresAt}`;
          }
          if (x.t === 'destroyAll') return await sessions.destroyAll(names[x.o] as string);
          if (x.t === 'addTransferable' && x.held) {
            const r = await sessions.tokens.add({
              kind: 'transferable',
              owner: names[x.o] as string,
              value: { v: x.v },
            });
            wt.push(r.token);
            issued.add('transition token', r.token);
            return infoOf(r.info);
          }
          if (
            x.t === 'validate' ||
            x.t === 'destroy' ||
            x.t === 'addBound' ||
            x.t === 'addTransferable'
          ) {
            const s = nth(ws, x.i);
            if (s === undefined) return 'none';
            if (x.t === 'validate') {
              const r = await sessions.validate(s.token);
              return r.valid ? `valid:${r.session.expiresAt}` : r.reason;
            }
            if (x.t === 'destroy') return await sessions.destroy({ token: s.token });
            const r = await sessions.tokens.add({
              kind: x.t === 'addBound' ? 'bound' : 'transferable',
              session: { token: s.token },
              value: { v: x.v },
            });
            wt.push(r.token);
            issued.add('transition token', r.token);
            return infoOf(r.info);
          }
          const token = nth(wt, x.j);
          if (token === undefined) return 'none';
          if (x.t === 'check') {
            const r = await sessions.tokens.check(token);
            return r.active ? infoOf(r.token) : r.reason;
          }
          if (x.t === 'destroyToken') return await sessions.tokens.destroy({ token });
          const s = nth(ws, x.i);
          if (x.t === 'acquire') {
            if (s === undefined) return 'none';
            return infoOf(await sessions.tokens.acquire(token, { token: s.token }));
          }
          const into = x.into && s !== undefined ? { toSession: { token: s.token } } : {};
          return infoOf(
            await sessions.tokens.transfer(
              { token },
              {
                from: x.from === 2 ? null : (names[x.from] as string),
                to: names[x.to] as string,
                ...into,
              },
            ),
          );
        } catch (err) {
          return codeOf(err);
        }
      },
      (x) => {
        if (x.t === 'tick') return null;
        const now = clock.now();
        if (x.t === 'create') {
          ms.push({ o: x.o, createdAt: now, lastActive: now, endsAt: now + IDLE, revoked: false });
          return `created:${now + IDLE}`;
        }
        if (x.t === 'destroyAll') {
          let n = 0;
          for (const [si, s] of ms.entries()) {
            if (s.o !== x.o || !live(s, now)) continue;
            s.endsAt = now;
            s.revoked = true;
            release(si, now);
            n++;
          }
          return n;
        }
        const add = (t: Omit<Tok, 'releasedAt' | 'exists' | 'value'>, value: number) => {
          const tok: Tok = { ...t, value: { v: value }, releasedAt: null, exists: true };
          mt.push(tok);
          return info(tok, resolve(tok, now) as Extract<Res, { active: true }>);
        };
        if (x.t === 'addTransferable' && x.held)
          return add({ kind: 'transferable', owner: x.o, session: null }, x.v);
        if (
          x.t === 'validate' ||
          x.t === 'destroy' ||
          x.t === 'addBound' ||
          x.t === 'addTransferable'
        ) {
          if (ms.length === 0) return 'none';
          const si = x.i % ms.length;
          const s = ms[si] as Sess;
          if (x.t === 'validate') {
            if (!live(s, now)) {
              release(si, s.endsAt);
              return s.revoked ? 'revoked' : 'expired';
            }
            if (now - s.lastActive >= ACTIVITY_EVERY) {
              s.lastActive = now;
              s.endsAt = Math.min(now + IDLE, s.createdAt + ABSOLUTE);
            }
            return `valid:${s.endsAt}`;
          }
          if (x.t === 'destroy') {
            if (!live(s, now)) {
              release(si, s.endsAt);
              return false;
            }
            s.endsAt = now;
            s.revoked = true;
            release(si, now);
            return true;
          }
          if (!live(s, now)) return 'ERR_TESSERA_NOT_FOUND';
          return add(
            { kind: x.t === 'addBound' ? 'bound' : 'transferable', owner: s.o, session: si },
            x.v,
          );
        }
        if (mt.length === 0) return 'none';
        const t = mt[x.j % mt.length] as Tok;
        if (x.t === 'check') {
          const r = settle(t, resolve(t, now));
          return r.active ? info(t, r) : r.reason;
        }
        if (x.t === 'destroyToken') {
          const r = resolve(t, now);
          if (!t.exists) return false;
          t.exists = false;
          return r.active;
        }
        if (x.t === 'acquire' && ms.length === 0) return 'none';
        // transfer and acquire: settle first (release, or delete for good), then decide.
        const r = settle(t, resolve(t, now));
        if (!r.active) return 'ERR_TESSERA_NOT_FOUND';
        if (t.kind !== 'transferable') return 'ERR_TESSERA_FORBIDDEN';
        const si = ms.length === 0 ? -1 : x.i % ms.length;
        const s = ms[si];
        if (x.t === 'acquire') {
          const target = s as Sess;
          if (!live(target, now)) return 'ERR_TESSERA_NOT_FOUND';
          if (r.owner !== null && r.owner !== target.o) return 'ERR_TESSERA_FORBIDDEN';
          if (!(r.state === 'carried' && t.session === si)) {
            t.owner = target.o;
            t.session = si;
            t.releasedAt = null;
          }
          return info(t, resolve(t, now) as Extract<Res, { active: true }>);
        }
        if (r.owner !== (x.from === 2 ? null : x.from)) return 'ERR_TESSERA_FORBIDDEN';
        const into = x.into && s !== undefined;
        if (into) {
          if (!live(s, now)) return 'ERR_TESSERA_NOT_FOUND';
          if (s.o !== x.to) return 'ERR_TESSERA_FORBIDDEN';
        }
        t.owner = x.to;
        t.session = into ? si : null;
        t.releasedAt = null;
        return info(t, resolve(t, now) as Extract<Res, { active: true }>);
      },
      onStep,
    );
  },
};
