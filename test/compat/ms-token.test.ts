import { AssertionError } from 'node:assert';
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import DefaultTokenManager, {
  TokenManager,
  type TokenManagerError,
  ValidationError,
} from '../../src/compat/ms-token/index.js';
import { createFakeClock, type FakeClock } from '../../src/core/clock.js';
import type { Store } from '../../src/stores/contract.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { deleteKeys, openClient, runPrefix } from '../stores/redis/helpers.js';
import { gateBackend, REDIS_URL, redisAvailable } from '../support/backends.js';
import { gatePeers, loadIoRedis4 } from './ms-token-peers.js';

const SHARED_SECRET = '12345678901234567890123456789012';
const ACTION = 'register';
const ID = 'v@example.com';
const UUID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/i;
const REDIS_STORE_PRESENT = existsSync(new URL('../../src/stores/redis/index.ts', import.meta.url));

type Setup = (
  extra?: Record<string, unknown>,
) => Promise<{ clock: FakeClock; store: Store; manager: TokenManager }>;

/** The facade over a memory store (`{ store, encrypt }`). */
const memorySetup: Setup = async (extra = {}) => {
  const clock = createFakeClock();
  const store = createMemoryStore();
  const manager = new TokenManager({
    store,
    encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
    clock,
    defaultTtl: 'never',
    ...extra,
  });
  return { clock, store, manager };
};

async function caught(p: Promise<unknown> | (() => unknown)): Promise<TokenManagerError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as TokenManagerError;
  }
  throw new Error('expected a rejection');
}

/** An ms-token `v1` token, built exactly as ms-token's `encrypt` does (aes256 = AES-256-CBC). */
function v1Token(payload: Record<string, unknown>, secret = SHARED_SECRET): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes256', Buffer.from(secret), iv);
  return Buffer.concat([
    Buffer.from('v1'),
    iv,
    cipher.update(Buffer.from(JSON.stringify(payload))),
    cipher.final(),
  ]).toString('base64url');
}

async function dump(store: Store): Promise<string> {
  return JSON.stringify((await store.list('challenge', { limit: 1000 })).records);
}

/** Whether bench/peers is installed (a missing one fails in CI). */
const peersPresent = gatePeers(['compat: ms-token TokenManager on ioredis 4']);

describe('compat: ms-token TokenManager', () => {
  describe('constructor', () => {
    const redis = new Redis({ lazyConnect: true });
    afterAll(() => redis.disconnect());

    it('is the named and the default export', () => {
      expect(DefaultTokenManager).toBe(TokenManager);
    });

    it('validates options with ms-token messages', () => {
      const cases: Array<[unknown, RegExp]> = [
        [undefined, /"value" is required$/],
        [
          {
            backend: { name: 'redis-boo', connection: redis, prefix: 'ok' },
            encryption: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
          },
          /"backend.name" must be \[redis\]/,
        ],
        [
          {
            backend: { name: 'redis', connection: {} },
            encryption: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
          },
          /"backend.connection" does not match any of the allowed types/,
        ],
        [{ backend: { name: 'redis', connection: redis } }, /"encrypt" is required/],
        [
          {
            backend: { name: 'redis', connection: redis },
            encrypt: { algorithm: 'aes256', sharedSecret: '0' },
          },
          /"encrypt.sharedSecret" must be at least 32 bytes/,
        ],
        [
          {
            backend: { name: 'redis', connection: redis },
            encrypt: {
              algorithm: 'aes256',
              sharedSecret: { legacy: 'x'.repeat(24), current: 'short' },
            },
          },
          /"encrypt.sharedSecret.current" must be at least 32 bytes/,
        ],
        [
          { store: {}, encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET } },
          /"store" must be a Tessera store/,
        ],
        [
          {
            backend: { name: 'redis', connection: redis },
            encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
            extra: 1,
          },
          /"extra" is not allowed/,
        ],
      ];
      for (const [opts, message] of cases) {
        let err: unknown;
        try {
          new TokenManager(opts as never);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).name).toBe('ValidationError');
        expect((err as ValidationError).isJoi).toBe(true);
        expect(String(err)).toMatch(message);
      }
    });

    it('accepts an ioredis connection and keeps the configuration, without the secret', () => {
      const manager = new TokenManager({
        backend: { name: 'redis', connection: redis, prefix: 'ms-token:' },
        encrypt: {
          algorithm: 'aes256',
          sharedSecret: { legacy: 'x'.repeat(24), current: SHARED_SECRET },
        },
      });
      expect(manager.config.backend?.name).toBe('redis');
      expect(manager.config.backend?.connection).toBe(redis);
      expect(manager.config.backend?.prefix).toBe('ms-token:');
      expect(JSON.stringify(manager.config.encrypt)).not.toContain(SHARED_SECRET);
    });

    it.runIf(peersPresent)(
      'accepts ioredis 4 Redis and Cluster clients (what ms-token 5 users have), not look-alikes',
      () => {
        const IoRedis4 = loadIoRedis4();
        const v4 = new IoRedis4(REDIS_URL, { lazyConnect: true });
        const v4Cluster = new IoRedis4.Cluster([{ host: '127.0.0.1', port: 6379 }], {
          lazyConnect: true,
        });
        try {
          for (const connection of [v4, v4Cluster]) {
            const manager = new TokenManager({
              backend: { name: 'redis', connection },
              encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
            });
            expect(manager.config.backend?.connection).toBe(connection);
          }
          const methods = Object.fromEntries(
            ['defineCommand', 'evalsha', 'eval', 'hgetall', 'pttl', 'duplicate', 'pipeline']
              .concat(['multi', 'publish', 'quit', 'disconnect', 'on', 'once'])
              .map((m) => [m, () => {}]),
          );
          const lookalikes: unknown[] = [
            { ...methods },
            { ...methods, status: 'ready', isCluster: 'no' },
            { ...methods, status: 'ready', isCluster: true },
            { ...methods, status: 'ready', evalsha: undefined },
            { status: 'ready', isCluster: false },
          ];
          for (const connection of lookalikes) {
            expect(
              () =>
                new TokenManager({
                  backend: { name: 'redis', connection },
                  encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
                }),
            ).toThrow('"backend.connection" does not match any of the allowed types');
          }
          expect(
            new TokenManager({
              backend: { name: 'redis', connection: { ...methods, status: 'ready' } },
              encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
            }).config.backend?.name,
          ).toBe('redis');
        } finally {
          v4.disconnect();
          v4Cluster.disconnect();
        }
      },
    );

    it('fails with a clear error on first use when the Redis store cannot be loaded', async () => {
      vi.resetModules();
      vi.doMock('../../src/stores/redis/index.js', () => {
        throw new Error('Cannot find module');
      });
      try {
        const fresh = await import('../../src/compat/ms-token/index.js');
        const manager = new fresh.TokenManager({
          backend: { name: 'redis', connection: redis },
          encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
          defaultTtl: 60,
        });
        const err = await caught(manager.create({ action: ACTION, id: ID }));
        expect(err.message).toMatch(/Redis store \(tessera\/stores\/redis\) could not be loaded/);
      } finally {
        vi.doUnmock('../../src/stores/redis/index.js');
        vi.resetModules();
      }
    });

    it('accepts any Tessera store', async () => {
      const { manager } = await memorySetup();
      const r = await manager.create({ action: ACTION, id: ID });
      expect(r.id).toBe(ID);
    });
  });
});

/** Every behaviour through the facade, on one backend. */
function defineFacadeTests(name: string, setup: Setup): void {
  describe(`compat: ms-token TokenManager over ${name}`, () => {
    describe('create and info', () => {
      it('validates arguments with ms-token messages', async () => {
        const { manager } = await setup();
        const cases: Array<[unknown, string]> = [
          [{ action: ACTION }, '"id" is required'],
          [{ id: ID }, '"action" is required'],
          [{ id: ID, action: '' }, '"action" is not allowed to be empty'],
          [
            { id: ID, action: ACTION, regenerate: true, secret: false },
            '"regenerate" must be [false]',
          ],
          [
            { id: ID, action: ACTION, ttl: 3, throttle: 10 },
            '"throttle" must be less than or equal to ref:ttl',
          ],
          [
            { id: ID, action: ACTION, throttle: 10 },
            '"throttle" limit references "ref:ttl" which must be a number',
          ],
          [{ id: ID, action: ACTION, throttle: true }, '"throttle" missing required peer "ttl"'],
          [
            { id: ID, action: ACTION, ttl: 10, throttle: false },
            '"throttle" must be one of [number, true]',
          ],
          [{ id: ID, action: ACTION, ttl: 0 }, '"ttl" must be greater than or equal to 1'],
          [{ id: ID, action: ACTION, ttl: 1.5 }, '"ttl" must be an integer'],
          [
            { id: ID, action: ACTION, secret: { type: 'hex' } },
            '"secret.type" must be one of [alphabet, number, uuid]',
          ],
          [{ id: ID, action: ACTION, secret: { type: 'number' } }, '"secret.length" is required'],
          [
            { id: ID, action: ACTION, secret: { type: 'uuid', length: 3 } },
            '"secret.length" is not allowed',
          ],
          [
            { id: ID, action: ACTION, secret: { type: 'alphabet', length: 6 } },
            '"secret.alphabet" is required',
          ],
          [
            { id: ID, action: ACTION, secret: { type: 'number', length: 2 } },
            '"secret.length" must be greater than or equal to 4',
          ],
          [{ id: ID, action: ACTION, nope: 1 }, '"nope" is not allowed'],
        ];
        for (const [args, message] of cases) {
          const err = await caught(manager.create(args));
          expect(err).toBeInstanceOf(ValidationError);
          expect(err.message).toBe(message);
          expect(String(err)).toBe(`ValidationError: ${message}`);
        }
      });

      it('requires a ttl unless defaultTtl is set: a never-expiring token is asked for by name', async () => {
        const { manager } = await setup({ defaultTtl: undefined });
        const err = await caught(manager.create({ action: ACTION, id: ID }));
        expect(err.message).toBe('"ttl" is required');
        const r = await manager.create({ action: ACTION, id: ID, ttl: 'never' });
        expect(r.secret).toMatch(/^v1\.ms-token\./);
      });

      it('creates a sealed token with the ms-token shape, and info reads it back', async () => {
        const { manager, clock } = await setup();
        const result = await manager.create({ id: ID, action: ACTION });
        expect(Object.keys(result)).toEqual(['id', 'action', 'secret']);
        expect(result.secret).toMatch(/^v1\.ms-token\.[A-Za-z0-9_-]+$/);
        const response = await manager.info({ token: result.secret, encrypt: true });
        expect(response).toEqual({
          id: ID,
          action: ACTION,
          uid: '',
          secret: expect.stringMatching(UUID_RE),
          created: clock.now(),
          settings: { type: 'uuid', encrypt: true },
          metadata: {},
        });
      });

      it('expires timed tokens (404)', async () => {
        const { manager, clock } = await setup();
        const result = await manager.create({ id: ID, action: ACTION, ttl: 3 });
        await manager.info({ token: result.secret, encrypt: true });
        clock.advance(3100);
        expect((await caught(manager.info({ token: result.secret, encrypt: true }))).message).toBe(
          '404',
        );
      });

      it('refuses re-creation during the throttle window with 429 and reason.ttl', async () => {
        const { manager, clock } = await setup();
        await manager.create({ id: ID, action: ACTION, ttl: 10, throttle: true });
        clock.advance(4000);
        const err = await caught(manager.create({ id: ID, action: ACTION }));
        expect(err.message).toBe('429');
        expect(err.reason).toEqual({ ttl: 6 });
        clock.advance(6000);
        await manager.create({ id: ID, action: ACTION, ttl: 3, throttle: 1 });
        clock.advance(1000);
        const again = await manager.create({ id: ID, action: ACTION });
        expect(again.uid).toBeUndefined();
      });

      it('erases the old uid and token on re-creation', async () => {
        const { manager } = await setup();
        const first = await manager.create({ id: ID, action: ACTION, regenerate: true });
        const second = await manager.create({ id: ID, action: ACTION, regenerate: true });
        expect((await caught(manager.info({ uid: first.uid }))).message).toBe('404');
        expect((await caught(manager.info({ token: first.secret, encrypt: true }))).message).toBe(
          '404',
        );
        const info = await manager.info({ token: second.secret, encrypt: true });
        expect(info.uid).toBe(second.uid);
        expect(info).not.toHaveProperty('related');
        expect(info).not.toHaveProperty('throttleKey');
      });

      it('keeps metadata, and generates alphabet, number, plain uuid and no secrets', async () => {
        const { manager, store } = await setup();
        const metadata = {
          random: ['10', 20, {}],
          bool: true,
          num: 32,
          arr: [],
          obj: { coarse: true },
        };
        await manager.create({ id: ID, action: ACTION, metadata });
        expect((await manager.info({ id: ID, action: ACTION })).metadata).toEqual(metadata);
        const alpha = await manager.create({
          action: 'alpha',
          id: ID,
          secret: { type: 'alphabet', alphabet: 'abcd', length: 10 },
        });
        expect(alpha.secret).toMatch(/^[abcd]{10}$/);
        const num = await manager.create({
          action: 'num',
          id: ID,
          secret: { type: 'number', length: 6 },
        });
        expect(num.secret).toMatch(/^[0-9]{6}$/);
        const none = await manager.create({ action: 'none', id: ID, secret: false });
        expect(none).toEqual({ id: ID, action: 'none' });
        const all = await manager.create({
          action: 'all',
          id: ID,
          ttl: 3,
          throttle: 2,
          metadata: { encrypt: 'me' },
          secret: { type: 'uuid', encrypt: false },
          regenerate: true,
        });
        expect(all.secret).toMatch(UUID_RE);
        const info = await manager.info({ uid: all.uid });
        expect(info.uid).toBe(all.uid);
        expect(info.metadata).toEqual({ encrypt: 'me' });
        expect(info).not.toHaveProperty('secret');
        const plain = await manager.info({
          id: ID,
          action: 'all',
          token: all.secret,
          encrypt: false,
        });
        expect(plain.secret).toBe(all.secret);
        const stored = await dump(store);
        for (const s of [alpha.secret, num.secret, all.secret]) expect(stored).not.toContain(s);
      });

      it('rejects info arguments of no known shape', async () => {
        const { manager } = await setup();
        for (const args of [{}, { uid: 'u', id: ID }, { token: 'x' }, { id: ID }]) {
          const err = await caught(manager.info(args));
          expect(err.message).toBe('"value" does not match any of the allowed types');
        }
        for (const args of ['x', null, 1]) {
          const err = await caught(manager.info(args));
          expect(err.message).toBe('"value" must be one of [object]');
        }
      });
    });

    describe('regenerate', () => {
      it('answers 404 for a challenge without secret or without regenerate', async () => {
        const { manager } = await setup();
        await manager.create({ id: ID, action: ACTION, secret: false });
        expect((await caught(manager.regenerate({ id: ID, action: ACTION }))).message).toBe('404');
        await manager.create({ id: ID, action: 'other' });
        expect((await caught(manager.regenerate({ id: ID, action: 'other' }))).message).toBe('404');
      });

      it('answers 409 to one of two parallel regenerates', async () => {
        const { manager } = await setup();
        await manager.create({ id: ID, action: ACTION, regenerate: true });
        const err = await caught(
          Promise.all([
            manager.regenerate({ id: ID, action: ACTION }),
            manager.regenerate({ id: ID, action: ACTION }),
          ]),
        );
        expect(err.message).toBe('409');
      });

      it('regenerates a numeric secret; only the new one verifies', async () => {
        const { manager } = await setup();
        const created = await manager.create({
          id: ID,
          action: ACTION,
          regenerate: true,
          secret: { type: 'number', length: 6 },
        });
        const secret = await manager.regenerate({ id: ID, action: ACTION });
        expect(secret).toMatch(/^[0-9]{6}$/);
        if (secret !== created.secret) {
          const err = await caught(
            manager.verify({ id: ID, action: ACTION, token: created.secret }),
          );
          expect(err.message).toBe('404');
        }
        const data = await manager.verify({ id: ID, action: ACTION, token: secret });
        expect(data.isFirstVerification).toBe(true);
      });

      it('regenerates sealed tokens that verify, with no replay afterwards', async () => {
        const { manager } = await setup();
        const created = await manager.create({ id: ID, action: ACTION, regenerate: true });
        const secret = await manager.regenerate({ uid: created.uid });
        expect((await manager.info({ token: created.secret, encrypt: true })).uid).toBe(
          created.uid,
        );
        expect((await caught(manager.verify(created.secret))).message).toBe('404');
        expect((await manager.verify(secret)).isFirstVerification).toBe(true);
        expect((await caught(manager.verify(secret))).message).toBe('404');
        expect((await caught(manager.verify(created.secret))).message).toBe('404');
      });
    });

    describe('verify', () => {
      it("rejects miscomposed tokens with 'invalid token'", async () => {
        const { manager } = await setup();
        const { secret = '' } = await manager.create({ id: ID, action: ACTION, regenerate: true });
        const tampered = `${secret.slice(0, -3)}${secret.at(-3) === 'A' ? 'B' : 'A'}${secret.slice(-2)}`;
        for (const token of [tampered, secret.slice(1), 'djE', '']) {
          expect((await caught(manager.verify(token))).message).toBe('invalid token');
        }
      });

      it('runs the control sanity check with ms-token message', async () => {
        const { manager } = await setup();
        const { secret } = await manager.create({ id: ID, action: ACTION });
        const err = await caught(
          manager.verify(secret, {
            control: { id: 'another@mail.com', action: 'another-namespace' },
          }),
        );
        expect(err).toBeInstanceOf(AssertionError);
        expect(err.message).toMatch(
          `Sanity check failed for "id" failed: "another@mail.com" vs "${ID}"`,
        );
        expect((await manager.verify(secret, { control: { id: ID, action: ACTION } })).id).toBe(ID);
      });

      it('completes a challenge, erases it by default, and attaches args to errors', async () => {
        const { manager, clock } = await setup();
        const created = await manager.create({ id: ID, action: ACTION, regenerate: true });
        const data = await manager.verify(created.secret);
        expect(data).toEqual({
          id: ID,
          action: ACTION,
          uid: created.uid,
          secret: expect.stringMatching(UUID_RE),
          created: clock.now(),
          settings: { type: 'uuid', encrypt: true },
          metadata: {},
          verified: clock.now(),
          isFirstVerification: true,
        });
        const err = await caught(manager.verify(created.secret));
        expect(err.message).toBe('404');
        expect(err.args?.id).toBe(ID);
        expect(err.args?.action).toBe(ACTION);
        expect(err.args).not.toHaveProperty('uid');
        expect(err.args?.token).toBe(data.secret);
        expect(Object.keys(err)).not.toContain('args');
      });

      it('clears the throttle lock on an erasing verify', async () => {
        const { manager } = await setup();
        const opts = { id: ID, action: ACTION, ttl: 3, throttle: 1 };
        const result = await manager.create(opts);
        await manager.verify(result.secret);
        await manager.create(opts);
      });

      it('completes with an unencrypted secret, and again without erase', async () => {
        const { manager } = await setup();
        const result = await manager.create({
          id: ID,
          action: ACTION,
          regenerate: true,
          secret: { type: 'number', length: 10 },
        });
        const data = await manager.verify({ id: ID, action: ACTION, token: result.secret });
        expect(data.uid).toBe(result.uid);
        expect(data.isFirstVerification).toBe(true);

        const sealed = await manager.create({ id: ID, action: 'again' });
        const first = await manager.verify(sealed.secret, { erase: false });
        expect(first.isFirstVerification).toBe(true);
        const info = await manager.info({
          id: ID,
          action: 'again',
          token: first.secret,
          encrypt: false,
        });
        expect(info.verified).toBe(first.verified);
        expect(info).not.toHaveProperty('isFirstVerification');
        const second = await manager.verify(sealed.secret);
        expect(second.isFirstVerification).toBe(false);
        expect(second.verified).toBe(first.verified);
      });

      it('verifies secret-less challenges by id and action; others need a token', async () => {
        const { manager } = await setup();
        await manager.create({ id: ID, action: ACTION, secret: false });
        const data = await manager.verify({ id: ID, action: ACTION });
        expect(data.secret).toBe('');
        expect(data.settings).toBe(false);
        await manager.create({ id: ID, action: 'coded' });
        const err = await caught(manager.verify({ id: ID, action: 'coded' }));
        expect(err).toBeInstanceOf(ValidationError);
        expect(err.message).toBe('"token" is required');
        expect((await caught(manager.verify({ action: ACTION }))).message).toBe('"id" is required');
        expect(
          (await caught(manager.verify({ id: ID, action: ACTION }, { erase: 1 }))).message,
        ).toBe('"erase" must be a boolean');
      });

      it('bounds guessing: 404 after 5 wrong codes, 429 with reason.ttl after 10 per id', async () => {
        const { manager, clock } = await setup();
        for (let round = 0; round < 2; round++) {
          const { secret } = await manager.create({
            id: ID,
            action: 'otp',
            ttl: 600,
            secret: { type: 'number', length: 6 },
          });
          for (let i = 0; i < 5; i++) {
            const err = await caught(manager.verify({ id: ID, action: 'otp', token: `x${i}` }));
            expect(err.message).toBe('404');
          }
          expect(
            (await caught(manager.verify({ id: ID, action: 'otp', token: secret }))).message,
          ).toBe(round === 0 ? '404' : '429');
        }
        const { secret } = await manager.create({
          id: ID,
          action: 'otp',
          ttl: 3600,
          secret: { type: 'number', length: 6 },
        });
        const err = await caught(manager.verify({ id: ID, action: 'otp', token: secret }));
        expect(err.message).toBe('429');
        expect(err.reason).toEqual({ ttl: 900 });
        clock.advance(900_000);
        expect((await manager.verify({ id: ID, action: 'otp', token: secret })).id).toBe(ID);
      });
    });

    describe('ms-token v1 tokens (migration)', () => {
      it('reads v1 AES-CBC tokens for verify, info and remove, and never writes them', async () => {
        const { manager } = await setup();
        const created = await manager.create({
          id: ID,
          action: ACTION,
          secret: { type: 'uuid', encrypt: false },
        });
        const token = v1Token({ id: ID, action: ACTION, uid: false, token: created.secret });
        expect(token.startsWith('dj')).toBe(true);
        const info = await manager.info({ token, encrypt: true });
        expect(info.secret).toBe(created.secret);
        const data = await manager.verify(token, { erase: false, control: { id: ID } });
        expect(data.isFirstVerification).toBe(true);
        expect(await manager.remove(token)).toBe('200');
        expect((await caught(manager.verify(token))).message).toBe('404');
        const fresh = await manager.create({ id: ID, action: ACTION });
        expect(fresh.secret?.startsWith('dj')).toBe(false);
      });

      it('resolves v1 tokens that carry a uid through the uid', async () => {
        const { manager } = await setup();
        const created = await manager.create({
          id: ID,
          action: ACTION,
          regenerate: true,
          secret: { type: 'number', length: 8 },
        });
        const token = v1Token({ id: ID, action: ACTION, uid: created.uid, token: '00000000' });
        expect((await manager.info({ token, encrypt: true })).uid).toBe(created.uid);
      });

      it("rejects bad v1 tokens: 'invalid token', or the truthy-token assertion", async () => {
        const { manager } = await setup();
        await manager.create({ id: ID, action: ACTION, secret: { type: 'number', length: 8 } });
        const wrongKey = v1Token(
          { id: ID, action: ACTION, uid: false, token: '1' },
          'x'.repeat(32),
        );
        expect((await caught(manager.verify(wrongKey))).message).toBe('invalid token');
        const noToken = v1Token({ id: ID, action: ACTION, uid: false, token: '' });
        const err = await caught(manager.verify(noToken));
        expect(err).toBeInstanceOf(AssertionError);
        expect(err.message).toBe('token must be a truthy string');
        const wrong = v1Token({ id: ID, action: ACTION, uid: false, token: '12345678' });
        expect((await caught(manager.verify(wrong))).message).toBe('404');
      });
    });

    describe('remove', () => {
      it("resolves to '200' by id + action, token and uid, and 404 when gone", async () => {
        const { manager } = await setup();
        await manager.create({ id: ID, action: ACTION });
        expect(await manager.remove({ id: ID, action: ACTION })).toBe('200');
        expect((await caught(manager.remove({ id: ID, action: ACTION }))).message).toBe('404');
        const sealed = await manager.create({ id: ID, action: ACTION });
        expect(await manager.remove(sealed.secret)).toBe('200');
        const byUid = await manager.create({ id: ID, action: ACTION, regenerate: true });
        expect(await manager.remove({ uid: byUid.uid })).toBe('200');
        await manager.create({ id: ID, action: 'none', secret: false });
        expect(await manager.remove({ id: ID, action: 'none' })).toBe('200');
        const plain = await manager.create({
          id: ID,
          action: 'plain',
          secret: { type: 'number', length: 8 },
        });
        expect(
          (await caught(manager.remove({ id: ID, action: 'plain', token: 'nope' }))).message,
        ).toBe('404');
        expect(await manager.remove({ id: ID, action: 'plain', token: plain.secret })).toBe('200');
      });

      it('clears the throttle window', async () => {
        const { manager } = await setup();
        await manager.create({ id: ID, action: ACTION, ttl: 60, throttle: 60 });
        expect(await manager.remove({ id: ID, action: ACTION })).toBe('200');
        await manager.create({ id: ID, action: ACTION, ttl: 60 });
      });

      it('answers 409 when the secret changed meanwhile', async () => {
        const { manager } = await setup();
        const result = await manager.create({ id: ID, action: ACTION, regenerate: true });
        const err = await caught(
          Promise.all([
            manager.regenerate({ uid: result.uid }),
            manager.remove({ uid: result.uid }),
          ]),
        );
        expect(err.message).toBe('409');
      });
    });
  });
}

defineFacadeTests('memory', memorySetup);

const redisUp = REDIS_STORE_PRESENT && (await redisAvailable());
if (gateBackend(`Redis at ${REDIS_URL}`, redisUp, ['compat: ms-token TokenManager over redis'])) {
  const client = await openClient(REDIS_URL);
  const { createRedisStore } = await import('../../src/stores/redis/index.js');
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(client, prefix);
    await client.quit();
  });
  // ms-token's own constructor shape: the facade builds the Redis store from the connection.
  defineFacadeTests('redis', async (extra = {}) => {
    const prefix = runPrefix('ms-token');
    prefixes.push(prefix);
    const clock = createFakeClock();
    const manager = new TokenManager({
      backend: { name: 'redis', connection: client, prefix },
      encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
      clock,
      defaultTtl: 'never',
      ...extra,
    } as never);
    // A second store over the same prefix, to look at what was written.
    return { clock, manager, store: createRedisStore({ client, prefix }) };
  });
}
