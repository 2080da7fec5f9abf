/**
 * Scenarios of a migration from ms-token: challenges created by the real
 * ms-token 5.0.1 (on ioredis 4, from bench/peers) keep working through the
 * facade opened on the same Redis and prefix. Each scenario also runs on a
 * copy of ms-token's keys under a second prefix ("the twin"), where ms-token
 * itself answers, so the facade's results are compared with what ms-token
 * gives on the same state; where ms-token has a bug (a replay, a token it
 * cannot verify, no bound on guesses) the facade must refuse.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenManager, type TokenResponse } from '../../src/compat/ms-token/index.js';
import { randomSuffix } from '../../src/testing/index.js';
import { deleteKeys, keysOf } from '../stores/redis/helpers.js';
import {
  loadMsToken,
  type MsTokenManager,
  type Redis4,
  scanRaw,
  scrubPrefix,
} from './ms-token-peers.js';

/** The `encrypt.sharedSecret` of both ms-token and the facade. */
export const SHARED_SECRET = '12345678901234567890123456789012';
/** The id of every scenario's challenges. */
export const ID = 'user@example.com';

/** A rejection of ms-token or the facade. */
export type Failure = Error & { reason?: { ttl: number }; args?: unknown };

/** What `p` rejected with. */
export async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    return err as Failure;
  }
  throw new Error('expected a rejection');
}

/**
 * ms-token's answer code: its Lua errors reach the caller as `ReplyError`s
 * that Redis 7 prefixes with `ERR ` (`'ERR 404'`, `'ERR 429 {"ttl":60}'`);
 * on older servers they read `'404'`. The facade answers `'404'`.
 */
export function code(err: Failure): string {
  return err.message.replace(/^ERR /, '').split(/[\s\n]/)[0] as string;
}

/** The throttle ttl of ms-token's 429 (in `reason`, or in the message on Redis 7). */
function throttleTtl(err: Failure): number {
  if (err.reason !== undefined) return err.reason.ttl;
  const m = /\{"ttl":(-?\d+)\}/.exec(err.message);
  if (m === null) throw new Error(`no ttl in ${err.message}`);
  return Number(m[1]);
}

/** ms-token's response without its internal key names (the facade never returns them). */
function view(r: Record<string, unknown>, keepSecret = true): Record<string, unknown> {
  const { related: _r, throttleKey: _t, ...rest } = r;
  if (!keepSecret) delete rest.secret;
  return { ...rest };
}

/** The facade's response equals ms-token's (`verified` is stamped by each at its own time). */
function expectSame(facade: TokenResponse, ms: Record<string, unknown>, keepSecret = true): void {
  const expected = view(ms, keepSecret);
  if (typeof expected.verified === 'number' && typeof facade.verified === 'number') {
    expect(Math.abs(facade.verified - expected.verified)).toBeLessThan(10_000);
    expected.verified = facade.verified;
  }
  expect({ ...facade }).toEqual(expected);
}

/** Every key name and value under a raw prefix (ms-token's layout), as one string. */
async function dumpRaw(client: Redis4, prefix: string): Promise<string> {
  const out: string[] = [];
  for (const key of await scanRaw(client, prefix)) {
    const type = await client.type(key);
    out.push(
      key,
      JSON.stringify(type === 'hash' ? await client.hgetall(key) : await client.get(key)),
    );
  }
  return out.join('\n');
}

/** Every key name and value of the Tessera store under `prefix`. */
async function dumpTessera(client: Redis4, prefix: string): Promise<string> {
  const out: string[] = [];
  for (const key of await keysOf(client as unknown as Redis, prefix)) {
    const type = await client.type(key);
    const value =
      type === 'hash'
        ? await client.hgetall(key)
        : type === 'zset'
          ? await client.zrange(key, 0, -1)
          : type === 'set'
            ? await client.smembers(key)
            : await client.get(key);
    out.push(key, JSON.stringify(value));
  }
  return out.join('\n');
}

/** Copy ms-token's keys from one prefix to another, names inside the hashes included. */
async function copyKeys(client: Redis4, from: string, to: string): Promise<void> {
  const rename = (k: string) => (k.startsWith(from) ? to + k.slice(from.length) : k);
  for (const key of await scanRaw(client, from)) {
    const target = rename(key);
    const pttl = await client.pttl(key);
    if ((await client.type(key)) === 'hash') {
      const h = await client.hgetall(key);
      if (h.related !== undefined) {
        h.related = JSON.stringify((JSON.parse(h.related) as string[]).map(rename));
      }
      if (h.throttleKey !== undefined) h.throttleKey = rename(h.throttleKey);
      await client.hset(target, h);
    } else {
      await client.set(target, (await client.get(key)) as string);
    }
    if (pttl > 0) await client.pexpire(target, pttl);
  }
}

/**
 * Every scenario, with ms-token on `connect()` (an ioredis 4 `Redis` or
 * `Cluster`) and the facade on `facadeConnect()` (default: the same connection).
 */
export function defineMigrationScenarios(
  name: string,
  connect: () => Promise<Redis4>,
  facadeConnect?: () => Promise<Redis4>,
): void {
  describe(`compat: migrating from ms-token 5.0.1 (${name})`, () => {
    let client: Redis4;
    let facadeConn: Redis4;
    const prefixes: string[] = [];

    beforeAll(async () => {
      client = await connect();
      facadeConn = facadeConnect === undefined ? client : await facadeConnect();
    });
    afterAll(async () => {
      for (const p of prefixes) {
        await scrubPrefix(client, p);
        await deleteKeys(client as unknown as Redis, p);
      }
      await client.quit();
      if (facadeConn !== client) await facadeConn.quit();
    });

    /** ms-token and the facade on one prefix, and ms-token on a twin prefix. */
    function setup(extra: Record<string, unknown> = {}) {
      const MsToken = loadMsToken();
      const prefix = `{ms-token!test-${process.pid}-${randomSuffix(6)}}`;
      const twinPrefix = `{ms-token!twin-${process.pid}-${randomSuffix(6)}}`;
      prefixes.push(prefix, twinPrefix);
      const encrypt = { algorithm: 'aes256', sharedSecret: Buffer.from(SHARED_SECRET) };
      const ms: MsTokenManager = new MsToken({
        backend: { name: 'redis', connection: client, prefix },
        encrypt,
      });
      const twinMs: MsTokenManager = new MsToken({
        backend: { name: 'redis', connection: client, prefix: twinPrefix },
        encrypt,
      });
      const tm = new TokenManager({
        backend: { name: 'redis', connection: facadeConn, prefix },
        encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
        defaultTtl: 'never',
        ...extra,
      } as never);
      return {
        ms,
        tm,
        prefix,
        /** ms-token on a copy of the keys as they are now. */
        twin: async () => {
          await scrubPrefix(client, twinPrefix);
          await copyKeys(client, prefix, twinPrefix);
          return twinMs;
        },
      };
    }

    it('reproduction: info and verify of an ms-token token answer as ms-token does, once', async () => {
      const { ms, tm, twin, prefix } = setup();
      const metadata = { plan: 'pro', tags: ['a', 1, { b: null }] };
      const created = await ms.create({ action: 'register', id: ID, ttl: 3600, metadata });
      const token = created.secret as string;
      const other = await twin();

      expectSame(
        await tm.info({ token, encrypt: true }),
        await other.info({ token, encrypt: true }),
      );
      // By action and id the facade never returns the secret.
      const byId = await tm.info({ action: 'register', id: ID });
      expect(byId).not.toHaveProperty('secret');
      expectSame(byId, await other.info({ action: 'register', id: ID }), false);

      const done = await tm.verify(token);
      expect(done.isFirstVerification).toBe(true);
      expect(done.metadata).toEqual(metadata);
      expectSame(done, await other.verify(token));

      expect((await failure(tm.verify(token))).message).toBe('404');
      expect(code(await failure(other.verify(token)))).toBe('404');
      // The original is gone for ms-token too: nothing is verifiable twice.
      expect(code(await failure(ms.verify(token)))).toBe('404');
      expect(await dumpRaw(client, prefix)).toBe('');
      expect((await failure(tm.info({ token, encrypt: true }))).message).toBe('404');
    });

    it('verifies plain number and alphabet codes; a wrong code moves the challenge to Tessera, hashed', async () => {
      const { ms, tm, twin, prefix } = setup();
      const num = await ms.create({
        action: 'otp',
        id: ID,
        ttl: 600,
        secret: { type: 'number', length: 6 },
      });
      const alpha = await ms.create({
        action: 'invite',
        id: ID,
        ttl: 600,
        throttle: 60,
        secret: { type: 'alphabet', alphabet: 'ABCDEFGHJKLMNPQRSTUVWXYZ', length: 8 },
      });
      const numCode = num.secret as string;
      const alphaCode = alpha.secret as string;
      expect(numCode).toMatch(/^\d{6}$/);
      const other = await twin();

      // Plain info: the right code reads it, as in ms-token.
      expectSame(
        await tm.info({ action: 'otp', id: ID, token: numCode, encrypt: false }),
        await other.info({ action: 'otp', id: ID, token: numCode, encrypt: false }),
      );

      const wrong = numCode === '000000' ? '000001' : '000000';
      const err = await failure(tm.verify({ action: 'otp', id: ID, token: wrong }));
      expect(err.message).toBe('404');
      expect(code(await failure(other.verify({ action: 'otp', id: ID, token: wrong })))).toBe(
        '404',
      );
      // Moved: no key or value holds the code any more, in ms-token's keys or in Tessera's.
      expect(await dumpRaw(client, prefix)).not.toContain(numCode);
      expect(await dumpTessera(client, prefix)).not.toContain(numCode);

      const done = await tm.verify({ action: 'otp', id: ID, token: numCode });
      expectSame(done, await other.verify({ action: 'otp', id: ID, token: numCode }));
      expect((await failure(tm.verify({ action: 'otp', id: ID, token: numCode }))).message).toBe(
        '404',
      );

      // The alphabet code's throttle window blocks a create, in ms-token and in the facade.
      const blocked = await failure(tm.create({ action: 'invite', id: ID, ttl: 600 }));
      const msBlocked = await failure(other.create({ action: 'invite', id: ID, ttl: 600 }));
      expect(blocked.message).toBe('429');
      expect(code(msBlocked)).toBe('429');
      expect(Math.abs((blocked.reason?.ttl ?? 0) - throttleTtl(msBlocked))).toBeLessThanOrEqual(1);
      expect(blocked.reason?.ttl).toBeGreaterThan(50);

      const alphaDone = await tm.verify({ action: 'invite', id: ID, token: alphaCode });
      expectSame(alphaDone, await other.verify({ action: 'invite', id: ID, token: alphaCode }));
      // An erasing verification ends the throttle window.
      await tm.create({ action: 'invite', id: ID, ttl: 600 });
      await other.create({ action: 'invite', id: ID, ttl: 600 });
      expect(code(await failure(ms.verify({ action: 'invite', id: ID, token: alphaCode })))).toBe(
        '404',
      );
    });

    it('bounds guessing of an ms-token code with the attempt budget (ms-token does not)', async () => {
      const { ms, tm, twin } = setup();
      const { secret } = await ms.create({
        action: 'otp',
        id: ID,
        ttl: 600,
        secret: { type: 'number', length: 6 },
      });
      const spare = await ms.create({
        action: 'otp-spare',
        id: ID,
        ttl: 600,
        secret: { type: 'number', length: 6 },
      });
      const other = await twin();
      expect((await tm.info({ action: 'otp', id: ID })).settings).toEqual({
        type: 'number',
        length: 6,
        encrypt: false,
      });
      // Four wrong codes leave the right one working.
      for (let i = 0; i < 4; i++) {
        const guess = { action: 'otp-spare', id: ID, token: `y${i}` };
        expect((await failure(tm.verify(guess))).message).toBe('404');
      }
      const spared = await tm.verify({ action: 'otp-spare', id: ID, token: spare.secret });
      expect(spared.isFirstVerification).toBe(true);
      for (let i = 0; i < 5; i++) {
        const guess = `x${i}`;
        expect((await failure(tm.verify({ action: 'otp', id: ID, token: guess }))).message).toBe(
          '404',
        );
        expect(code(await failure(other.verify({ action: 'otp', id: ID, token: guess })))).toBe(
          '404',
        );
      }
      // ms-token still accepts the code after any number of wrong guesses; the facade does not.
      expect(
        (await other.verify({ action: 'otp', id: ID, token: secret })).isFirstVerification,
      ).toBe(true);
      expect((await failure(tm.verify({ action: 'otp', id: ID, token: secret }))).message).toBe(
        '404',
      );
    });

    it('verifies without erasing: first, then not first, and carries the throttle window over', async () => {
      const { ms, tm, twin, prefix } = setup();
      const created = await ms.create({
        action: 'login',
        id: ID,
        ttl: 900,
        throttle: 120,
        regenerate: true,
        metadata: { ip: '192.0.2.1' },
        secret: { type: 'alphabet', alphabet: 'abcdefghijkmnpqrstuvwxyz', length: 10 },
      });
      const token = created.secret as string;
      const args = { action: 'login', id: ID, token };
      const other = await twin();

      const first = await tm.verify(args, { erase: false });
      expect(first.isFirstVerification).toBe(true);
      expectSame(first, await other.verify(args, { erase: false }));
      const second = await tm.verify(args, { erase: false });
      expect(second.isFirstVerification).toBe(false);
      expect(second.verified).toBe(first.verified);
      expectSame(second, await other.verify(args, { erase: false }));
      expect(await dumpRaw(client, prefix)).toBe('');
      expect(await dumpTessera(client, prefix)).not.toContain(token);
      expect((await tm.info({ uid: created.uid })).verified).toBe(first.verified);

      const blocked = await failure(tm.create({ action: 'login', id: ID, ttl: 900 }));
      expect(blocked.message).toBe('429');
      expect(code(await failure(other.create({ action: 'login', id: ID, ttl: 900 })))).toBe('429');

      const last = await tm.verify(args);
      expect(last.isFirstVerification).toBe(false);
      expectSame(last, await other.verify(args));
      expect((await failure(tm.verify(args))).message).toBe('404');
      expect(code(await failure(other.verify(args)))).toBe('404');
      await tm.create({ action: 'login', id: ID, ttl: 900 });
    });

    it('regenerates ms-token challenges by uid and by action + id; earlier tokens never verify again', async () => {
      const { ms, tm, twin } = setup();
      const sealed = await ms.create({
        action: 'register',
        id: ID,
        ttl: 3600,
        regenerate: true,
        metadata: { step: 1 },
      });
      const before = await ms.info({ uid: sealed.uid });
      const fresh = await tm.regenerate({ uid: sealed.uid });
      expect(fresh).toMatch(/^v1\.ms-token\./);
      const info = await tm.info({ uid: sealed.uid });
      expect(info).toMatchObject({
        uid: sealed.uid,
        action: 'register',
        id: ID,
        created: before.created,
        metadata: { step: 1 },
        settings: { type: 'uuid', encrypt: true },
      });
      for (const m of [tm, ms]) {
        expect(code(await failure(m.verify(sealed.secret as string)))).toBe('404');
      }
      expect((await tm.verify(fresh)).isFirstVerification).toBe(true);
      expect((await failure(tm.verify(fresh))).message).toBe('404');
      expect((await failure(tm.verify(sealed.secret as string))).message).toBe('404');

      const plain = await ms.create({
        action: 'otp',
        id: ID,
        ttl: 600,
        regenerate: true,
        secret: { type: 'number', length: 6 },
      });
      const code2 = await tm.regenerate({ action: 'otp', id: ID });
      expect(code2).toMatch(/^\d{6}$/);
      if (code2 !== plain.secret) {
        const err = await failure(tm.verify({ action: 'otp', id: ID, token: plain.secret }));
        expect(err.message).toBe('404');
      }
      expect((await tm.verify({ action: 'otp', id: ID, token: code2 })).isFirstVerification).toBe(
        true,
      );

      // Not created with regenerate: 404 (ms-token would write to the key named '').
      await ms.create({ action: 'plain', id: ID, ttl: 600 });
      expect((await failure(tm.regenerate({ action: 'plain', id: ID }))).message).toBe('404');
      expect((await failure(tm.regenerate({ uid: 'no-such-uid' }))).message).toBe('404');

      // Two parallel regenerates: ms-token answers one of them 409. The facade may also
      // serialize them (the second waits for the first to move the challenge); either
      // way exactly one of the secrets they returned verifies.
      await ms.create({ action: 'race', id: ID, ttl: 600, regenerate: true });
      const other = await twin();
      const theirs = await Promise.allSettled([
        other.regenerate({ action: 'race', id: ID }),
        other.regenerate({ action: 'race', id: ID }),
      ]);
      expect(theirs.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const theirRejection = theirs.find((o) => o.status === 'rejected');
      expect(code(theirRejection?.reason as Failure)).toBe('409');
      const ours = await Promise.allSettled([
        tm.regenerate({ action: 'race', id: ID }),
        tm.regenerate({ action: 'race', id: ID }),
      ]);
      const secrets = ours.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(secrets.length).toBeGreaterThanOrEqual(1);
      for (const o of ours) {
        if (o.status === 'rejected') expect((o.reason as Failure).message).toBe('409');
      }
      const verified: string[] = [];
      for (const secret of secrets) {
        const r = await tm.verify(secret).catch((err: Failure) => err);
        if (r instanceof Error) expect(r.message).toBe('404');
        else verified.push(secret);
      }
      expect(verified).toHaveLength(1);
    });

    it("removes by action + id, uid, token string and plain token: '200' once, then 404", async () => {
      const { ms, tm, twin, prefix } = setup();
      await ms.create({ action: 'a', id: ID, ttl: 600, throttle: 60 });
      const byUid = await ms.create({ action: 'b', id: ID, ttl: 600, regenerate: true });
      const byToken = await ms.create({ action: 'c', id: ID, ttl: 600, throttle: 30 });
      const byCode = await ms.create({
        action: 'd',
        id: ID,
        ttl: 600,
        secret: { type: 'number', length: 8 },
      });
      const other = await twin();
      const cases: unknown[] = [
        { action: 'a', id: ID },
        { uid: byUid.uid },
        byToken.secret,
        { action: 'd', id: ID, token: byCode.secret },
      ];
      const wrong = { action: 'd', id: ID, token: byCode.secret === '00000000' ? '1' : '00000000' };
      expect((await failure(tm.remove(wrong))).message).toBe('404');
      expect(code(await failure(other.remove(wrong)))).toBe('404');
      for (const args of cases) {
        expect(await tm.remove(args)).toBe('200');
        expect(String(await other.remove(args))).toBe('200');
        expect((await failure(tm.remove(args))).message).toBe('404');
        expect(code(await failure(other.remove(args)))).toBe('404');
      }
      expect(await dumpRaw(client, prefix)).toBe('');
      // The throttle windows went with them.
      await tm.create({ action: 'a', id: ID, ttl: 600 });
      await tm.create({ action: 'c', id: ID, ttl: 600 });
      expect(code(await failure(ms.verify(byToken.secret as string)))).toBe('404');
    });

    it('handles challenges without a secret: info, verify by action + id, remove (ms-token can do none)', async () => {
      const { ms, tm, twin } = setup();
      await ms.create({ action: 'confirm', id: ID, ttl: 600, secret: false, metadata: { n: 2 } });
      await ms.create({ action: 'drop', id: ID, ttl: 600, secret: false });
      const other = await twin();
      // ms-token 5.0.1 stores settings as '' here, and its info fails parsing them.
      expect((await failure(other.info({ action: 'confirm', id: ID }))).name).toBe('SyntaxError');
      const info = await tm.info({ action: 'confirm', id: ID });
      expect(info).toEqual({
        id: ID,
        action: 'confirm',
        uid: '',
        secret: '',
        created: expect.any(Number),
        settings: false,
        metadata: { n: 2 },
      });
      const msErr = await failure(other.verify({ action: 'confirm', id: ID }));
      expect(msErr.message).toBe('"token" is required');
      const done = await tm.verify({ action: 'confirm', id: ID });
      expect(done).toEqual({ ...info, verified: expect.any(Number), isFirstVerification: true });
      // Gone: without a token, the answer is ms-token's own for a missing token.
      expect((await failure(tm.verify({ action: 'confirm', id: ID }))).message).toBe(
        '"token" is required',
      );
      expect(code(await failure(other.remove({ action: 'drop', id: ID })))).toBe('404');
      expect(await tm.remove({ action: 'drop', id: ID })).toBe('200');
      expect((await failure(tm.info({ action: 'drop', id: ID }))).message).toBe('404');
    });

    it('lets exactly one of many racing verifications through, across the facade and ms-token', async () => {
      const { ms, tm } = setup();
      const { secret } = await ms.create({ action: 'register', id: ID, ttl: 600 });
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: 12 }, () => tm.verify(secret as string)),
        ...Array.from({ length: 4 }, () => ms.verify(secret as string)),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(code(o.reason as Failure)).toBe('404');
      }

      const plain = await ms.create({
        action: 'otp',
        id: ID,
        ttl: 600,
        secret: { type: 'number', length: 6 },
      });
      const args = { action: 'otp', id: ID, token: plain.secret };
      const mixed = await Promise.allSettled([
        ...Array.from({ length: 6 }, (_, i) =>
          tm.verify(i % 2 === 0 ? args : { ...args, token: `wrong${i}` }),
        ),
        ...Array.from({ length: 6 }, () => tm.verify(args, { erase: false })),
      ]);
      const ok = mixed.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(ok.filter((r) => r.isFirstVerification)).toHaveLength(1);
      // After an erasing verification, nothing verifies again.
      await tm.verify(args).catch(() => undefined);
      expect((await failure(tm.verify(args))).message).toBe('404');
    });

    it('never answers 404 to a lookup while a challenge moves to Tessera', async () => {
      const { ms, tm, prefix } = setup();
      for (let round = 0; round < 3; round++) {
        const action = `move-${round}`;
        const c = await ms.create({ action, id: ID, ttl: 600, regenerate: true });
        const outcomes = await Promise.allSettled([
          tm.verify(c.secret as string, { erase: false }),
          ...Array.from({ length: 4 }, () => tm.info({ uid: c.uid })),
          ...Array.from({ length: 4 }, () => tm.info({ action, id: ID })),
          tm.verify(c.secret as string, { erase: false }),
        ]);
        expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
        const firsts = outcomes.flatMap((o) =>
          o.status === 'fulfilled' && o.value.isFirstVerification === true ? [o.value] : [],
        );
        expect(firsts).toHaveLength(1);
      }
      // A move that never finished (its process died) leaves only a marker: missing, then replaced.
      await client.hset(`${prefix}stuck!${ID}`, 'moving', 'x');
      await client.pexpire(`${prefix}stuck!${ID}`, 30_000);
      expect((await failure(tm.info({ action: 'stuck', id: ID }))).message).toBe('404');
      expect((await failure(tm.verify({ action: 'stuck', id: ID, token: 'x' }))).message).toBe(
        '404',
      );
      await tm.create({ action: 'stuck', id: ID, ttl: 60 });
      expect((await tm.info({ action: 'stuck', id: ID })).action).toBe('stuck');
    });

    it("verifies what ms-token's own regenerate left: each new token once, no replay", async () => {
      const { ms, tm, twin } = setup();
      // Sealed: ms-token names the new key after the encrypted token, so it cannot verify it.
      const sealed = await ms.create({ action: 'register', id: ID, ttl: 600, regenerate: true });
      const next = await ms.regenerate({ uid: sealed.uid });
      // Plain: ms-token's erasing verification leaves the new secret's key behind (a replay).
      const plain = await ms.create({
        action: 'otp',
        id: ID,
        ttl: 600,
        regenerate: true,
        secret: { type: 'number', length: 6 },
      });
      const nextCode = await ms.regenerate({ uid: plain.uid });
      const other = await twin();
      expect(code(await failure(other.verify(next)))).toBe('404');
      const args = { action: 'otp', id: ID, token: nextCode };
      expect((await other.verify(args)).isFirstVerification).toBe(true);
      expect((await other.verify(args)).isFirstVerification).toBe(false);

      expect((await tm.verify(next)).isFirstVerification).toBe(true);
      expect((await failure(tm.verify(next))).message).toBe('404');
      expect((await failure(tm.verify(sealed.secret as string))).message).toBe('404');
      expect((await tm.verify(args)).isFirstVerification).toBe(true);
      expect((await failure(tm.verify(args))).message).toBe('404');
      expect(code(await failure(ms.verify(args)))).toBe('404');
    });

    it('creates over a live ms-token challenge: replaces it, and honours its throttle window', async () => {
      const { ms, tm, twin } = setup();
      const old = await ms.create({ action: 'register', id: ID, ttl: 600, regenerate: true });
      const fresh = await tm.create({ action: 'register', id: ID, ttl: 600 });
      for (const m of [tm, ms]) {
        expect(code(await failure(m.verify(old.secret as string)))).toBe('404');
      }
      expect((await failure(tm.info({ uid: old.uid }))).message).toBe('404');
      expect((await tm.verify(fresh.secret as string)).isFirstVerification).toBe(true);

      const throttled = await ms.create({ action: 'reset', id: ID, ttl: 600, throttle: 300 });
      const other = await twin();
      const ours = await failure(tm.create({ action: 'reset', id: ID, ttl: 600 }));
      const theirs = await failure(other.create({ action: 'reset', id: ID, ttl: 600 }));
      expect(ours.message).toBe('429');
      expect(code(theirs)).toBe('429');
      expect(Math.abs((ours.reason?.ttl ?? 0) - throttleTtl(theirs))).toBeLessThanOrEqual(1);
      // A refused create changes nothing.
      expect((await ms.verify(throttled.secret as string)).isFirstVerification).toBe(true);
    });

    it('falls back only while asked to: legacyPrefix false sees no ms-token challenge', async () => {
      const { ms, prefix } = setup();
      const off = new TokenManager({
        backend: { name: 'redis', connection: facadeConn, prefix },
        encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
        defaultTtl: 'never',
        legacyPrefix: false,
      } as never);
      const { secret } = await ms.create({ action: 'register', id: ID, ttl: 600 });
      expect((await failure(off.verify(secret as string))).message).toBe('404');
      expect((await ms.verify(secret as string)).isFirstVerification).toBe(true);
    });
  });
}
