/**
 * Validation, differentially: every bad input of a table goes through the
 * real ms-token 5.0.1 (from bench/peers) and through the facade, and both
 * must reject it the same way: the same error name and message, and for Joi
 * errors the same detail type and path. The table covers every Joi rule of
 * the constructor, create, verify, info, regenerate and remove, the
 * conversions Joi makes (numeric strings, 'true'/'false'), and what ms-token
 * does with no argument at all. What the facade refuses on purpose, beyond
 * ms-token, is listed at the end.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/compat/ms-token/index.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { randomSuffix } from '../../src/testing/index.js';
import { gateBackend, REDIS_URL, redisAvailable } from '../support/backends.js';
import {
  gatePeers,
  loadIoRedis4,
  loadMsToken,
  type MsTokenManager,
  openRedis4,
  type Redis4,
  scrubPrefix,
} from './ms-token-peers.js';

const SECRET = '12345678901234567890123456789012';
const A = 'register';
const I = 'user@example.com';

interface Rejection {
  name: string;
  message: string;
  type?: string;
  path?: unknown;
}

/** How a call failed (`null` when it did not). */
async function rejection(f: () => unknown): Promise<Rejection | null> {
  try {
    await f();
    return null;
  } catch (err) {
    const e = err as Error & { details?: Array<{ type: string; path: unknown }> };
    const d = e.details?.[0];
    return {
      name: e.name,
      message: e.message,
      ...(d === undefined ? {} : { type: d.type, path: d.path }),
    };
  }
}

/** An ms-token `v1` token around `payload` (AES-256-CBC, as ms-token's `encrypt`). */
function v1(payload: unknown): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes256', Buffer.from(SECRET), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final()]);
  return Buffer.concat([Buffer.from('v1'), iv, body]).toString('base64url');
}

const peers = gatePeers(['compat: ms-token validation, against ms-token 5.0.1']);

if (peers) {
  describe('compat: ms-token validation, against ms-token 5.0.1', () => {
    const IoRedis4 = loadIoRedis4();
    const MsToken = loadMsToken();
    // Never connected: every input below is refused before ms-token touches Redis.
    const connection = new IoRedis4(REDIS_URL, { lazyConnect: true });
    afterAll(() => connection.disconnect());
    const good = {
      backend: { name: 'redis', connection, prefix: `{ms-token!validation-${randomSuffix(6)}}` },
      encrypt: { algorithm: 'aes256', sharedSecret: SECRET },
    };
    const ms: MsTokenManager = new MsToken(good);
    const tm = new TokenManager({
      store: createMemoryStore(),
      encrypt: good.encrypt,
      defaultTtl: 'never',
    });
    const backend = (b: Record<string, unknown>) => ({ ...good, backend: b });
    const encrypt = (e: unknown) => ({ ...good, encrypt: e });
    const secret = (s: unknown) => encrypt({ algorithm: 'aes256', sharedSecret: s });

    async function same(
      call: (m: MsTokenManager | TokenManager) => unknown,
      label: string,
    ): Promise<void> {
      const theirs = await rejection(() => call(ms));
      const ours = await rejection(() => call(tm));
      expect(theirs, `ms-token accepts ${label}`).not.toBeNull();
      expect(ours, label).toEqual(theirs);
    }

    it('refuses bad constructor options as ms-token does', async () => {
      const cases: Array<[string, unknown]> = [
        ['no options', undefined],
        ['null', null],
        ['a string', 'redis'],
        ['an array', []],
        ['no backend', {}],
        ['no backend, an unknown key', { x: 1 }],
        ['backend a string', backend('redis' as never)],
        ['backend null', { ...good, backend: null }],
        ['no name', backend({ connection })],
        ['name not redis', backend({ name: 'memcached', connection })],
        ['name a number', backend({ name: 1, connection })],
        ['name empty', backend({ name: '', connection })],
        ['name null', backend({ name: null, connection })],
        ['no connection', backend({ name: 'redis' })],
        ['connection a plain object', backend({ name: 'redis', connection: {} })],
        ['connection a look-alike', backend({ name: 'redis', connection: { status: 'ready' } })],
        ['connection null', backend({ name: 'redis', connection: null })],
        ['connection a URL', backend({ name: 'redis', connection: REDIS_URL })],
        ['connection an array', backend({ name: 'redis', connection: [] })],
        ['prefix a number', backend({ name: 'redis', connection, prefix: 1 })],
        ['prefix empty', backend({ name: 'redis', connection, prefix: '' })],
        ['backend unknown key', backend({ name: 'redis', connection, db: 1 })],
        ['no encrypt', { backend: good.backend }],
        ['encrypt a string', encrypt('aes256')],
        ['encrypt null', encrypt(null)],
        ['no algorithm', encrypt({ sharedSecret: SECRET })],
        ['algorithm a number', encrypt({ algorithm: 256, sharedSecret: SECRET })],
        ['algorithm empty', encrypt({ algorithm: '', sharedSecret: SECRET })],
        ['no shared secret', encrypt({ algorithm: 'aes256' })],
        ['shared secret short', secret('short')],
        ['shared secret 31 bytes', secret('x'.repeat(31))],
        ['shared secret a short Buffer', secret(Buffer.alloc(8))],
        ['shared secret a number', secret(32)],
        ['shared secret null', secret(null)],
        ['shared secret true', secret(true)],
        ['shared secret an array', secret([])],
        ['shared secret a function', secret(() => SECRET)],
        ['legacy short', secret({ legacy: 'x', current: SECRET })],
        ['current short', secret({ legacy: 'x'.repeat(24), current: 'y' })],
        ['no current', secret({ legacy: 'x'.repeat(24) })],
        ['no legacy', secret({ current: SECRET })],
        ['legacy a number', secret({ legacy: 1, current: SECRET })],
        ['{} as shared secret', secret({})],
        ['shared secret unknown key', secret({ legacy: 'x'.repeat(24), current: SECRET, x: 1 })],
        ['encrypt unknown key', encrypt({ algorithm: 'aes256', sharedSecret: SECRET, mode: 1 })],
        ['unknown key', { ...good, cache: true }],
      ];
      for (const [label, opts] of cases) {
        const theirs = await rejection(() => new MsToken(opts));
        const ours = await rejection(() => new TokenManager(opts as never));
        expect(theirs, `ms-token accepts ${label}`).not.toBeNull();
        expect(ours, label).toEqual(theirs);
      }
    });

    it('refuses bad create arguments as ms-token does', async () => {
      const base = { action: A, id: I };
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      const cases: Array<[string, unknown]> = [
        ['no arguments', undefined],
        ['null', null],
        ['a string', 'register'],
        ['an array', []],
        ['{}', {}],
        ['no action', { id: I }],
        ['action a number', { id: I, action: 1 }],
        ['action empty', { id: I, action: '' }],
        ['no id', { action: A }],
        ['id a number', { action: A, id: 2 }],
        ['id empty', { action: A, id: '' }],
        ['id null', { action: A, id: null }],
        ['ttl a word', { ...base, ttl: 'soon' }],
        ['ttl empty string', { ...base, ttl: '' }],
        ['ttl hexadecimal', { ...base, ttl: '0x10' }],
        ['ttl a fraction', { ...base, ttl: 1.5 }],
        ['ttl a fraction string', { ...base, ttl: '.5' }],
        ['ttl negative', { ...base, ttl: -1 }],
        ['ttl negative string', { ...base, ttl: ' -3 ' }],
        ['ttl infinite', { ...base, ttl: Number.POSITIVE_INFINITY }],
        ['ttl NaN', { ...base, ttl: Number.NaN }],
        ['ttl unsafe', { ...base, ttl: 2 ** 60 }],
        ['ttl unsafe string', { ...base, ttl: '9007199254740993' }],
        ['ttl overflowing string', { ...base, ttl: '1e400' }],
        ['ttl a boolean', { ...base, ttl: true }],
        ['ttl null', { ...base, ttl: null }],
        ['ttl an object', { ...base, ttl: {} }],
        ['throttle false', { ...base, ttl: 10, throttle: false }],
        ['throttle a word', { ...base, ttl: 10, throttle: 'soon' }],
        ['throttle null', { ...base, ttl: 10, throttle: null }],
        ['throttle an object', { ...base, ttl: 10, throttle: {} }],
        ['throttle without ttl', { ...base, throttle: 10 }],
        ['throttle string without ttl', { ...base, throttle: '10' }],
        ['throttle true without ttl', { ...base, throttle: true }],
        ["throttle 'true' without ttl", { ...base, throttle: 'TRUE' }],
        ['throttle false without ttl', { ...base, throttle: false }],
        ['throttle above ttl', { ...base, ttl: 3, throttle: 10 }],
        ['throttle string above ttl', { ...base, ttl: '3', throttle: '10' }],
        ['throttle a fraction', { ...base, ttl: 10, throttle: 1.5 }],
        ['throttle a fraction without ttl', { ...base, throttle: 1.5 }],
        ['throttle negative', { ...base, ttl: 10, throttle: -1 }],
        ['throttle negative without ttl', { ...base, throttle: -1 }],
        ['throttle infinite', { ...base, ttl: 10, throttle: Number.POSITIVE_INFINITY }],
        ['legacy a word', { ...base, legacy: 'yes' }],
        ['legacy a number', { ...base, legacy: 1 }],
        ['secret a word', { ...base, secret: 'uuid' }],
        ['secret a number', { ...base, secret: 1 }],
        ['secret null', { ...base, secret: null }],
        ['secret an array', { ...base, secret: [] }],
        ['secret {}', { ...base, secret: {} }],
        ['secret type unknown', { ...base, secret: { type: 'hex' } }],
        ['secret type a number', { ...base, secret: { type: 1 } }],
        ['secret type missing, alphabet given', { ...base, secret: { alphabet: 'ab' } }],
        ['number without length', { ...base, secret: { type: 'number' } }],
        ['number length a word', { ...base, secret: { type: 'number', length: 'six' } }],
        ['number length 0', { ...base, secret: { type: 'number', length: 0 } }],
        ['number length a fraction', { ...base, secret: { type: 'number', length: 6.5 } }],
        ['number length infinite', { ...base, secret: { type: 'number', length: 1 / 0 } }],
        [
          'number with alphabet',
          { ...base, secret: { type: 'number', length: 6, alphabet: 'ab' } },
        ],
        ['alphabet missing', { ...base, secret: { type: 'alphabet', length: 6 } }],
        ['alphabet a number', { ...base, secret: { type: 'alphabet', length: 6, alphabet: 1 } }],
        ['alphabet empty', { ...base, secret: { type: 'alphabet', length: 6, alphabet: '' } }],
        ['alphabet without length', { ...base, secret: { type: 'alphabet', alphabet: 'ab' } }],
        ['uuid with length', { ...base, secret: { type: 'uuid', length: 3 } }],
        ['uuid with alphabet', { ...base, secret: { type: 'uuid', alphabet: 'ab' } }],
        ['encrypt a word', { ...base, secret: { type: 'uuid', encrypt: 'yes' } }],
        ['secret unknown key', { ...base, secret: { type: 'uuid', salt: 1 } }],
        ['regenerate a word', { ...base, regenerate: 'yes' }],
        ['regenerate a number', { ...base, regenerate: 1 }],
        ['regenerate without a secret', { ...base, secret: false, regenerate: true }],
        ["regenerate 'true' without a secret", { ...base, secret: 'false', regenerate: 'true' }],
        ['regenerate a word without a secret', { ...base, secret: false, regenerate: 'yes' }],
        ['unknown key', { ...base, owner: 1 }],
        ['unknown key and throttle without ttl', { ...base, throttle: 5, owner: 1 }],
        ['unknown key and throttle true without ttl', { ...base, throttle: true, owner: 1 }],
        ['bad ttl and bad secret', { ...base, ttl: 'x', secret: 'x' }],
        ['metadata with a cycle', { ...base, ttl: 60, metadata: circular }],
        ['metadata with a BigInt', { ...base, ttl: 60, metadata: { n: 10n } }],
      ];
      for (const [label, args] of cases) await same((m) => m.create(args), label);
    });

    it('refuses bad verify arguments and options as ms-token does', async () => {
      const args = { id: I, action: A, token: 'secret' };
      const cases: Array<[string, unknown, unknown]> = [
        ['no arguments', undefined, undefined],
        ['no arguments, a control', undefined, { control: { action: A } }],
        ['no arguments, bad options', undefined, { erase: 'x' }],
        ['null', null, undefined],
        ['a number', 5, undefined],
        ['an array', [], undefined],
        ['{}', {}, undefined],
        ['no id', { action: A, token: 't' }, undefined],
        ['no action', { id: I, token: 't' }, undefined],
        ['no token', { id: I, action: A }, undefined],
        ['token a number', { id: I, action: A, token: 1 }, undefined],
        ['token empty', { id: I, action: A, token: '' }, undefined],
        ['id a number', { id: 1, action: A, token: 't' }, undefined],
        ['action empty', { id: I, action: '', token: 't' }, undefined],
        ['unknown key', { ...args, extra: 1 }, undefined],
        ['options a number', args, 5],
        ['options null', args, null],
        ['erase a word', args, { erase: 'always' }],
        ['log a number', args, { log: 1 }],
        ['control a string', args, { control: 'strict' }],
        ['control id a number', args, { control: { id: 1 } }],
        ['control action empty', args, { control: { action: '' } }],
        ['control unknown key', args, { control: { uid: 'u' } }],
        ['unknown option', args, { strict: true }],
        ['control mismatch', args, { control: { id: 'other@example.com' } }],
        ['control mismatch, action', args, { control: { action: 'other' } }],
        ['control mismatch, action first', args, { control: { action: 'b', id: 'c' } }],
        ['control mismatch, id first', args, { control: { id: 'c', action: 'b' } }],
        ['no arguments, control action first', undefined, { control: { action: 'b', id: 'c' } }],
        ['a token that is not one', 'garbage', undefined],
        ['an empty token', '', undefined],
        ['a token under another key', v1({ id: I, action: A, uid: false, token: 't' }), undefined],
        ['a token without a secret', v1({ id: I, action: A, uid: false, token: '' }), undefined],
        ['a token whose secret is a number', v1({ id: I, action: A, token: 5 }), undefined],
        ['a token without an id', v1({ action: A, uid: false, token: 't' }), undefined],
        ['a token with an unknown key', v1({ ...args, uid: false, x: 1 }), undefined],
        ['a token that holds no JSON object', v1('text'), undefined],
        ['a token that holds null', v1(null), undefined],
      ];
      for (const [label, a, o] of cases) {
        // ms-token reads its key from the constructor's secret: the "other key" row uses another.
        const call = (m: MsTokenManager | TokenManager) => m.verify(a, o as never);
        if (label === 'a token under another key') {
          const other = {
            ...good,
            encrypt: { algorithm: 'aes256', sharedSecret: 'z'.repeat(32) },
          };
          const theirs = await rejection(() => new MsToken(other).verify(a, o));
          const ours = await rejection(() =>
            new TokenManager({ ...other, defaultTtl: 'never' } as never).verify(a, o as never),
          );
          expect(ours, label).toEqual(theirs);
          expect(theirs?.message).toBe('invalid token');
          continue;
        }
        await same(call, label);
      }
    });

    it('refuses bad info, regenerate and remove arguments as ms-token does', async () => {
      const shapes: Array<[string, unknown]> = [
        ['no arguments', undefined],
        ['null', null],
        ['a number', 1],
        ['true', true],
        ['an array', []],
        ['{}', {}],
        ['uid a number', { uid: 1 }],
        ['uid empty', { uid: '' }],
        ['uid with id', { uid: 'u', id: I }],
        ['uid with action and id', { uid: 'u', id: I, action: A }],
        ['id alone', { id: I }],
        ['action alone', { action: A }],
        ['action empty', { action: '', id: I }],
        ['id a number', { id: 1, action: A }],
        ['unknown key', { id: I, action: A, x: 1 }],
        ['uid and an unknown key', { uid: 'u', x: 1 }],
        ['token alone', { token: 't' }],
        ['token, encrypt false', { token: 't', encrypt: false }],
        ['token, encrypt a word', { token: 't', encrypt: 'yes' }],
        ['token, encrypt, uid', { uid: 'u', token: 't', encrypt: true }],
        ['id, action, encrypt', { id: I, action: A, encrypt: true }],
        ['id, action, token, encrypt true', { id: I, action: A, token: 't', encrypt: true }],
        ["id, action, token, encrypt 'TRUE'", { id: I, action: A, token: 't', encrypt: 'TRUE' }],
        ['id, action, token', { id: I, action: A, token: 't' }],
        ['id, action, token a number', { id: I, action: A, token: 1 }],
        ['id, action, token empty', { id: I, action: A, token: '' }],
        ['uid and token', { uid: 'u', token: 't' }],
      ];
      for (const [label, args] of shapes) {
        await same((m) => m.info(args), `info: ${label}`);
        await same((m) => m.regenerate(args), `regenerate: ${label}`);
        // remove takes { action, id, token? } (a uid is stripped): these two are valid there.
        if (!['uid with action and id', 'id, action, token'].includes(label)) {
          await same((m) => m.remove(args), `remove: ${label}`);
        }
      }
      await same((m) => m.info({ token: 'garbage', encrypt: true }), 'info: a bad token');
      await same((m) => m.remove('garbage'), 'remove: a bad token');
      await same((m) => m.remove(''), 'remove: an empty token');
      const noSecret = v1({ id: I, action: A, uid: false, token: '' });
      await same((m) => m.info({ token: noSecret, encrypt: true }), 'info: no secret inside');
      await same((m) => m.remove(noSecret), 'remove: no secret inside');
      await same((m) => m.remove(v1({ id: I, uid: 'u', token: 't' })), 'remove: no action inside');
    });

    it('refuses on purpose what ms-token accepted (documented differences)', async () => {
      const base = { action: A, id: I };
      const expected: Array<[string, unknown, string]> = [
        [
          'ttl 0 (ms-token: never expires)',
          { ...base, ttl: 0 },
          '"ttl" must be greater than or equal to 1',
        ],
        [
          'a 3-digit code',
          { ...base, ttl: 60, secret: { type: 'number', length: 3 } },
          '"secret.length" must be greater than or equal to 4',
        ],
        [
          'an alphabet of one character',
          { ...base, ttl: 60, secret: { type: 'alphabet', alphabet: 'aaa', length: 8 } },
          '"secret.alphabet" must contain at least 2 distinct characters',
        ],
      ];
      for (const [label, args, message] of expected) {
        const ours = await rejection(() => tm.create(args));
        expect(ours, label).toMatchObject({ name: 'ValidationError', message });
      }
      // A Uint8Array shared secret is accepted too (ms-token takes strings and Buffers only).
      expect(
        await rejection(() => new MsToken(secret(new Uint8Array(Buffer.from(SECRET))))),
      ).toMatchObject({ message: '"encrypt.sharedSecret.legacy" is required' });
      expect(
        new TokenManager(secret(new Uint8Array(Buffer.from(SECRET))) as never).config.encrypt,
      ).toEqual({ algorithm: 'aes256' });
    });
  });
}

const redisUp = peers && (await redisAvailable());
if (
  peers &&
  gateBackend(`Redis at ${REDIS_URL}`, redisUp, ['compat: ms-token validation, what Joi converts'])
) {
  describe('compat: ms-token validation, what Joi converts', () => {
    let client: Redis4;
    const prefix = `{ms-token!conversions-${randomSuffix(6)}}`;
    afterAll(async () => {
      await scrubPrefix(client, prefix);
      await client.quit();
    });

    it('accepts what ms-token accepts after conversion: numeric strings, "true" and "false"', async () => {
      client = await openRedis4(REDIS_URL);
      const ms = new (loadMsToken())({
        backend: { name: 'redis', connection: client, prefix },
        encrypt: { algorithm: 'aes256', sharedSecret: SECRET },
      });
      const tm = new TokenManager({
        store: createMemoryStore(),
        encrypt: { algorithm: 'aes256', sharedSecret: SECRET },
      });
      const rows: unknown[] = [
        { action: 'a', id: I, ttl: '60' },
        { action: 'b', id: I, ttl: ' 1e2 ', throttle: '30' },
        { action: 'c', id: I, ttl: 60, throttle: 'true' },
        { action: 'd', id: I, ttl: 60, secret: 'TRUE', regenerate: 'true', legacy: 'false' },
        { action: 'e', id: I, ttl: 60, secret: 'false', regenerate: 'false' },
        { action: 'f', id: I, ttl: 60, secret: { type: 'number', length: '6', encrypt: 'False' } },
      ];
      for (const args of rows) {
        const theirs = await ms.create(args);
        const ours = await tm.create(args);
        expect(Object.keys(ours).sort(), JSON.stringify(args)).toEqual(Object.keys(theirs).sort());
      }
      const { secret } = await tm.create({ action: 'g', id: I, ttl: 60 });
      const done = await tm.verify(secret, { erase: 'false', log: 'TRUE' } as never);
      expect(done.isFirstVerification).toBe(true);
      expect((await tm.info({ token: secret, encrypt: 'true' } as never)).verified).toBe(
        done.verified,
      );
    });
  });
}
