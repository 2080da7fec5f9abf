/**
 * The access-tokens conformance suite: the whole personal-access-tokens
 * module on top of a store, on a fake clock, including concurrent bootstraps
 * in one process and across OS processes.
 * @module
 */
import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import { type AccessTokens, createAccessTokens } from '../access-tokens/access-tokens.js';
import { createTokenCodec, generateTokenId } from '../access-tokens/format.js';
import type { AccessTokensOptions } from '../access-tokens/types.js';
import { createFakeClock, type FakeClock } from '../core/clock.js';
import { sha256Phc } from '../core/hashing.js';
import type { Store } from '../stores/contract.js';
import { testKeyring } from './action-tokens-suite.js';
import { raceAcrossProcesses } from './race.js';
import { randomSuffix, rejectsWithCode, withStore } from './runner.js';
import type { StoreSuiteOptions } from './store-suite.js';

const fileUrl = import.meta.url;
const DAY = 86_400_000;
const TESSERA_RE = /^pat_[A-Za-z0-9]{21}[A-Za-z0-9_-]{43}[A-Za-z0-9]{6}$/;
const LEGACY_RE = /^pat_[A-Za-z0-9]{21}\.[A-Za-z0-9+/]{43}=$/;

/**
 * A `$scrypt$` PHC string exactly as `@access-tokens/core` writes it (via
 * `@phc/format`): standard base64 without padding, over the secret's bytes.
 *
 * @param secret - the secret bytes
 * @param ln - log2 of the cost (the seed's default is 14)
 * @param salt - the salt (16 random bytes by default)
 * @example `await pats.register({ tokenId, secretPhc: seedScryptPhc(secret), owner, format: 'legacy' })`
 */
export function seedScryptPhc(secret: Uint8Array, ln = 14, salt = randomBytes(16)): string {
  const hash = scryptSync(secret, salt, 32, { N: 2 ** ln, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${ln},r=8,p=1$${b64(salt)}$${b64(hash)}`;
}

/**
 * A random seed-format token (`pat_<id>.<padded base64>`) and its parts.
 * @example `const { token, tokenId, secret } = seedToken();`
 */
export function seedToken(prefix = 'pat_'): { token: string; tokenId: string; secret: Buffer } {
  const tokenId = generateTokenId();
  const secret = randomBytes(32);
  return { token: `${prefix}${tokenId}.${secret.toString('base64')}`, tokenId, secret };
}

/** Counts calls to each store method. */
function counting(store: Store): { store: Store; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

/**
 * Define the access-tokens tests with the injected runner and store factory.
 * With `multiProcess`, bootstrap racers also run in several OS processes.
 *
 * @example
 * ```ts
 * defineAccessTokensSuite({ name: 'memory', runner: { describe, it }, createStore: () => createMemoryStore() });
 * ```
 */
export function defineAccessTokensSuite(options: StoreSuiteOptions): void {
  const { describe, it } = options.runner;
  type Ctx = {
    store: Store;
    clock: FakeClock;
    pats: AccessTokens;
    collection: string;
    make: (extra?: Partial<AccessTokensOptions>) => AccessTokens;
  };
  const run =
    (fn: (ctx: Ctx) => Promise<void>, extra: Partial<AccessTokensOptions> = {}) =>
    () =>
      withStore(options, async (store) => {
        const clock = createFakeClock();
        const collection = `pat-${randomSuffix(4)}`;
        const made: AccessTokens[] = [];
        const make = (more: Partial<AccessTokensOptions> = {}) => {
          const p = createAccessTokens({ store, clock, collection, ...extra, ...more });
          made.push(p);
          return p;
        };
        try {
          await fn({ store, clock, pats: make(), collection, make });
        } finally {
          for (const p of made) await p.close();
        }
      });

  describe(`access tokens: ${options.name}`, () => {
    describe('issue and verify', () => {
      it(
        'issues a checksummed 256-bit token and stores only its SHA-256 hash',
        run(async ({ pats, store, collection, clock }) => {
          const { token, record } = await pats.issue({ owner: 'alice@example.com' });
          assert.match(token, TESSERA_RE);
          assert.deepEqual(record, {
            tokenId: token.slice(4, 25),
            owner: 'alice@example.com',
            isAdmin: false,
            roles: [],
            createdAt: clock.now(),
            lastUsedAt: null,
            revokedAt: null,
            expiresAt: null,
            previousSecretExpiresAt: null,
          });
          const dump = JSON.stringify((await store.list(collection, { limit: 1000 })).records);
          assert.ok(!dump.includes(token.slice(25, 68)), 'the secret is never stored');
          assert.match(dump, /"secretPhc":"\$sha256\$/);
        }),
      );

      it(
        'verifies a token and returns its record without the hash',
        run(async ({ pats, clock }) => {
          const expiresAt = clock.now() + 30 * DAY;
          const { token, record } = await pats.issue({
            owner: 'bob',
            isAdmin: true,
            roles: ['reader', 'writer', 'reader'],
            expiresAt,
          });
          assert.deepEqual(record.roles, ['reader', 'writer']);
          const r = await pats.verify(token);
          assert.equal(r.valid, true);
          assert.ok(r.valid);
          assert.equal(r.record.owner, 'bob');
          assert.equal(r.record.isAdmin, true);
          assert.deepEqual(r.record.roles, ['reader', 'writer']);
          assert.equal(r.record.expiresAt, expiresAt);
          assert.equal(r.record.lastUsedAt, clock.now());
          assert.equal('secretPhc' in r.record, false);
        }),
      );

      it(
        'hashes with HMAC-SHA-256 under a keyring, and keeps verifying after a key rotation',
        run(async ({ make }) => {
          const before = make({ keyring: testKeyring('k1') });
          const { token } = await before.issue({ owner: 'o' });
          const stored = await before.get(token.slice(4, 25), { includeSecretPhc: true });
          assert.match(stored?.secretPhc ?? '', /^\$hmac-sha256\$k=k1\$/);
          const after = make({ keyring: testKeyring('k2') });
          assert.equal((await after.verify(token)).valid, true);
          assert.equal((await make().verify(token)).reason, 'invalid_parameters');
        }),
      );

      it(
        'answers with the seed reasons: wrong prefix, malformed, unknown id, wrong secret',
        run(async ({ pats }) => {
          const { token } = await pats.issue({ owner: 'o' });
          const reason = async (t: unknown) => (await pats.verify(t as string)).reason;
          assert.equal(await reason(''), 'invalid_prefix');
          assert.equal(await reason(`xyz_${token.slice(4)}`), 'invalid_prefix');
          assert.equal(await reason(undefined), 'invalid_format');
          assert.equal(await reason('pat_'), 'invalid_format');
          assert.equal(await reason(`${token}x`), 'invalid_format');
          assert.equal(await reason(`pat_${'a'.repeat(300)}`), 'invalid_format');
          const codec = createTokenCodec();
          assert.equal(
            await reason(codec.format(generateTokenId(), randomBytes(32), 'tessera')),
            'not_found',
          );
          const wrong = codec.format(token.slice(4, 25), randomBytes(32), 'tessera');
          assert.equal(await reason(wrong), 'invalid_secret');
        }),
      );

      it(
        'rejects a wrong checksum before any store read',
        run(async ({ store, collection, clock }) => {
          const { store: counted, calls } = counting(store);
          const pats = createAccessTokens({ store: counted, clock, collection });
          const { token } = await pats.issue({ owner: 'o' });
          const before = calls.get ?? 0;
          const last = token.at(-1) === 'A' ? 'B' : 'A';
          const typo = `${token.slice(0, 30)}${token[30] === 'x' ? 'y' : 'x'}${token.slice(31)}`;
          assert.equal((await pats.verify(token.slice(0, -1) + last)).reason, 'invalid_format');
          assert.equal((await pats.verify(typo)).reason, 'invalid_format');
          assert.equal(calls.get ?? 0, before);
          await pats.close();
        }),
      );

      it(
        'refuses a second token with the same id',
        run(async ({ pats }) => {
          const tokenId = generateTokenId();
          await pats.issue({ owner: 'o', tokenId });
          let message = '';
          try {
            await pats.issue({ owner: 'p', tokenId });
          } catch (err) {
            assert.equal((err as { code?: string }).code, 'ERR_TESSERA_ALREADY_EXISTS');
            message = (err as Error).message;
          }
          assert.equal(message, `Token ID already exists: ${tokenId}`);
        }),
      );

      it(
        'rejects bad input with InvalidInputError',
        run(async ({ pats }) => {
          const bad: unknown[] = [
            null,
            { owner: '' },
            { owner: 'x'.repeat(101) },
            { owner: 'a\nb' },
            { owner: 'o', isAdmin: 'yes' },
            { owner: 'o', roles: 'admin' },
            { owner: 'o', roles: [''] },
            { owner: 'o', roles: ['r'.repeat(101)] },
            { owner: 'o', roles: Array.from({ length: 51 }, (_, i) => `r${i}`) },
            { owner: 'o', expiresAt: -1 },
            { owner: 'o', expiresAt: 1.5 },
            { owner: 'o', tokenId: 'short' },
            { owner: 'o', tokenId: `${'x'.repeat(20)}-` },
          ];
          for (const input of bad) {
            await rejectsWithCode(pats.issue(input as never), 'ERR_TESSERA_INVALID_INPUT');
          }
        }),
      );

      it(
        'reports expired (with the record) only once the secret checks out',
        run(async ({ pats, clock }) => {
          const { token } = await pats.issue({ owner: 'o', expiresAt: clock.now() + 1000 });
          clock.advance(999);
          assert.equal((await pats.verify(token)).valid, true);
          clock.advance(1);
          const r = await pats.verify(token);
          assert.equal(r.reason, 'expired');
          assert.equal(r.record?.owner, 'o');
          const codec = createTokenCodec();
          const wrong = codec.format(token.slice(4, 25), randomBytes(32), 'tessera');
          assert.equal((await pats.verify(wrong)).reason, 'invalid_secret');
        }),
      );
    });

    describe('seed compatibility', () => {
      it(
        "issues and verifies the seed's pat_<id>.<base64> format strictly",
        run(async ({ make }) => {
          const pats = make({ format: 'legacy' });
          const { token } = await pats.issue({ owner: 'o' });
          assert.match(token, LEGACY_RE);
          assert.equal((await pats.verify(token)).valid, true);
          const variants = [
            token.slice(0, -1),
            `${token}@@`,
            `${token.slice(0, -1)}=zz`,
            token.replace(/\+/g, '-').replace(/\//g, '_'),
            `${token.slice(0, -1)}==`,
            ` ${token}`,
          ].filter((v) => v !== token);
          for (const v of variants) {
            assert.equal((await pats.verify(v)).valid, false, `variant ${v} must not verify`);
          }
        }),
      );

      it(
        'does not let one secret verify in the other format',
        run(async ({ pats, make }) => {
          const legacy = make({ format: 'legacy' });
          const { token } = await legacy.issue({ owner: 'o' });
          const tokenId = token.slice(4, 25);
          const secret = Buffer.from(token.slice(26), 'base64');
          const other = createTokenCodec().format(tokenId, secret, 'tessera');
          assert.equal((await pats.verify(token)).valid, true);
          assert.equal((await pats.verify(other)).reason, 'invalid_secret');
        }),
      );

      it(
        'verifies $scrypt$ PHC strings written by @access-tokens/core',
        run(async ({ pats }) => {
          const seed = seedToken();
          await pats.register({
            tokenId: seed.tokenId,
            secretPhc: seedScryptPhc(seed.secret, 10),
            owner: 'migrated',
            format: 'legacy',
          });
          assert.equal((await pats.verify(seed.token)).valid, true);
          const wrong = `pat_${seed.tokenId}.${randomBytes(32).toString('base64')}`;
          assert.equal((await pats.verify(wrong)).reason, 'invalid_secret');
        }),
      );

      it(
        'lets a $scrypt$ hash registered without a format verify the seed token it came from',
        run(async ({ pats, make }) => {
          const seed = seedToken();
          const secretPhc = seedScryptPhc(seed.secret, 4);
          await pats.register({ tokenId: seed.tokenId, secretPhc, owner: 'migrated' });
          assert.equal((await pats.verify(seed.token)).valid, true);
          const spelledAnew = createTokenCodec().format(seed.tokenId, seed.secret, 'tessera');
          assert.equal((await pats.verify(spelledAnew)).reason, 'invalid_secret');

          // An explicit format wins.
          const other = seedToken();
          await pats.register({
            tokenId: other.tokenId,
            secretPhc: seedScryptPhc(other.secret, 4),
            owner: 'o',
            format: 'tessera',
          });
          assert.equal((await pats.verify(other.token)).reason, 'invalid_secret');
          const tessera = createTokenCodec().format(other.tokenId, other.secret, 'tessera');
          assert.equal((await pats.verify(tessera)).valid, true);

          // An instance that writes scrypt itself registers its own tokens in its format.
          const scrypt = make({ hash: 'scrypt', scrypt: { ln: 4 } });
          const own = await scrypt.generate();
          await scrypt.register({ tokenId: own.tokenId, secretPhc: own.secretPhc, owner: 'o' });
          assert.match(own.token, TESSERA_RE);
          assert.equal((await scrypt.verify(own.token)).valid, true);

          // Other hashes take the configured format.
          const sha = await pats.generate();
          await pats.register({ tokenId: sha.tokenId, secretPhc: sha.secretPhc, owner: 'o' });
          assert.equal((await pats.verify(sha.token)).valid, true);
        }),
      );

      it(
        'treats a stored record without a format as the seed format',
        run(async ({ pats, store, collection }) => {
          const seed = seedToken();
          await pats.register({
            tokenId: seed.tokenId,
            secretPhc: seedScryptPhc(seed.secret, 4),
            owner: 'migrated',
            format: 'legacy',
          });
          await store.update({ collection, key: seed.tokenId }, { unset: ['format'] });
          assert.equal((await pats.verify(seed.token)).valid, true);
        }),
      );

      it(
        'writes scrypt hashes in the seed shape when asked',
        run(async ({ make }) => {
          const pats = make({ hash: 'scrypt', scrypt: { ln: 4 }, format: 'legacy' });
          const { token, secretPhc } = await pats.generate();
          assert.match(secretPhc, /^\$scrypt\$ln=4,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
          assert.match(token, LEGACY_RE);
          await pats.register({ tokenId: token.slice(4, 25), secretPhc, owner: 'o' });
          assert.equal((await pats.verify(token)).valid, true);
        }),
      );

      it(
        'reports unusable stored hashes with the seed reasons',
        run(async ({ pats, store, collection }) => {
          const cases: Array<[string, string]> = [
            ['$fake', 'invalid_phc'],
            ['not a phc', 'invalid_phc'],
            ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g', 'unsupported_algorithm'],
            ['$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA', 'invalid_parameters'],
            ['$scrypt$r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA', 'invalid_parameters'],
          ];
          for (const [phc, reason] of cases) {
            const { token, record } = await pats.issue({ owner: 'o' });
            await store.update({ collection, key: record.tokenId }, { set: { secretPhc: phc } });
            assert.equal((await pats.verify(token)).reason, reason, phc);
          }
        }),
      );
    });

    describe('generate and register', () => {
      it(
        'generates without storing, and registers the hash after validating it',
        run(async ({ pats, make }) => {
          const { token, tokenId, secretPhc } = await pats.generate();
          assert.equal((await pats.verify(token)).reason, 'not_found');
          for (const bad of ['$fake', '$md5$abc', '$sha256$c2hvcnQ']) {
            let message = '';
            try {
              await pats.register({ tokenId, secretPhc: bad, owner: 'o' });
            } catch (err) {
              assert.equal((err as { code?: string }).code, 'ERR_TESSERA_INVALID_INPUT');
              message = (err as Error).message;
            }
            assert.match(
              message,
              /^Invalid secret PHC string: (invalid_phc|unsupported_algorithm|invalid_parameters)$/,
            );
          }
          const record = await pats.register({ tokenId, secretPhc, owner: 'o', roles: ['r'] });
          assert.equal(record.tokenId, tokenId);
          assert.equal((await pats.verify(token)).valid, true);
          const fixed = await make().generate({ tokenId: generateTokenId() });
          assert.match(fixed.token, TESSERA_RE);
          await rejectsWithCode(pats.generate({ tokenId: 'nope' }), 'ERR_TESSERA_INVALID_INPUT');
        }),
      );
    });

    describe('update', () => {
      it(
        'changes owner, admin flag and expiry; null clears the expiry',
        run(async ({ pats, clock }) => {
          const { token, record } = await pats.issue({ owner: 'a', expiresAt: clock.now() + DAY });
          const u = await pats.update(record.tokenId, {
            owner: 'b',
            isAdmin: true,
            expiresAt: null,
          });
          assert.equal(u.owner, 'b');
          assert.equal(u.isAdmin, true);
          assert.equal(u.expiresAt, null);
          clock.advance(2 * DAY);
          assert.equal((await pats.verify(token)).valid, true);
          assert.equal((await pats.listByOwner('a')).tokens.length, 0);
          assert.equal((await pats.listByOwner('b')).tokens[0]?.tokenId, record.tokenId);
        }),
      );

      it(
        'replaces, adds and removes roles; add and remove are idempotent',
        run(async ({ pats }) => {
          const { record } = await pats.issue({ owner: 'o', roles: ['a'] });
          const id = record.tokenId;
          assert.deepEqual((await pats.update(id, { roles: ['x', 'y'] })).roles, ['x', 'y']);
          assert.deepEqual((await pats.update(id, { roles: { add: ['y', 'z'] } })).roles, [
            'x',
            'y',
            'z',
          ]);
          assert.deepEqual((await pats.update(id, { roles: { add: ['z'] } })).roles, [
            'x',
            'y',
            'z',
          ]);
          assert.deepEqual((await pats.update(id, { roles: { remove: ['x', 'q'] } })).roles, [
            'y',
            'z',
          ]);
          assert.deepEqual((await pats.update(id, { roles: { remove: ['x'] } })).roles, ['y', 'z']);
          assert.deepEqual((await pats.update(id, { roles: [] })).roles, []);
          await rejectsWithCode(
            pats.update(id, { roles: { add: ['a'], remove: ['b'] } as never }),
            'ERR_TESSERA_INVALID_INPUT',
          );
        }),
      );

      it(
        'refuses more than 50 roles, also after an add, and leaves the token unchanged',
        run(async ({ pats }) => {
          const roles = Array.from({ length: 49 }, (_, i) => `role-${i}`);
          const { record } = await pats.issue({ owner: 'o', roles });
          const id = record.tokenId;
          assert.equal((await pats.update(id, { roles: { add: ['one-more'] } })).roles.length, 50);
          await rejectsWithCode(
            pats.update(id, { roles: { add: ['too-many'] } }),
            'ERR_TESSERA_INVALID_INPUT',
          );
          await rejectsWithCode(
            pats.update(id, { roles: { add: ['r'.repeat(101)] } }),
            'ERR_TESSERA_INVALID_INPUT',
          );
          assert.equal((await pats.get(id))?.roles.length, 50);
          assert.equal((await pats.update(id, { roles: { add: ['role-0'] } })).roles.length, 50);
        }),
      );

      it(
        'applies concurrent role adds and field updates without losing any',
        run(async ({ pats }) => {
          const { record } = await pats.issue({ owner: 'o' });
          const id = record.tokenId;
          await Promise.all([
            ...Array.from({ length: 8 }, (_, i) => pats.update(id, { roles: { add: [`r${i}`] } })),
            pats.update(id, { owner: 'new-owner' }),
            pats.update(id, { isAdmin: true }),
          ]);
          const after = await pats.get(id);
          assert.equal(after?.owner, 'new-owner');
          assert.equal(after?.isAdmin, true);
          assert.deepEqual(
            [...(after?.roles ?? [])].sort(),
            Array.from({ length: 8 }, (_, i) => `r${i}`).sort(),
          );
        }),
      );

      it(
        'validates a new PHC, and the old secret stops working',
        run(async ({ pats }) => {
          const { token, record } = await pats.issue({ owner: 'o' });
          let message = '';
          try {
            await pats.update(record.tokenId, { secretPhc: '$fake' });
          } catch (err) {
            message = (err as Error).message;
          }
          assert.equal(message, 'Invalid secret PHC string: invalid_phc');
          const next = await pats.generate({ tokenId: record.tokenId });
          await pats.update(record.tokenId, { secretPhc: next.secretPhc });
          assert.equal((await pats.verify(token)).reason, 'invalid_secret');
          assert.equal((await pats.verify(next.token)).valid, true);
        }),
      );

      it(
        'reports a missing token as not found, even for an empty update',
        run(async ({ pats }) => {
          const id = generateTokenId();
          // One at a time: a promise created before the previous one settles could reject unobserved.
          for (const call of [() => pats.update(id, { owner: 'x' }), () => pats.update(id, {})]) {
            let message = '';
            try {
              await call();
            } catch (err) {
              assert.equal((err as { code?: string }).code, 'ERR_TESSERA_NOT_FOUND');
              message = (err as Error).message;
            }
            assert.equal(message, `Token not found: ${id}`);
          }
        }),
      );
    });

    describe('revoke and restore', () => {
      it(
        'revokes and restores, bringing back the expiry the token had',
        run(async ({ pats, clock }) => {
          const expiresAt = clock.now() + 10 * DAY;
          const { token, record } = await pats.issue({ owner: 'o', expiresAt });
          const revoked = await pats.revoke(record.tokenId);
          assert.equal(revoked.revokedAt, clock.now());
          assert.equal(revoked.expiresAt, expiresAt);
          const r = await pats.verify(token);
          assert.equal(r.reason, 'revoked');
          assert.equal(r.record?.tokenId, record.tokenId);
          const restored = await pats.restore(record.tokenId);
          assert.equal(restored.revokedAt, null);
          assert.equal(restored.expiresAt, expiresAt);
          assert.equal((await pats.verify(token)).valid, true);
          clock.advance(10 * DAY);
          assert.equal(
            (await pats.verify(token)).reason,
            'expired',
            'restore never makes a token immortal',
          );
        }),
      );

      it(
        'revoke with expiresAt sets a cleanup time, and restore brings back the original expiry',
        run(async ({ pats, clock }) => {
          const { record } = await pats.issue({ owner: 'o' });
          const cleanup = clock.now() + 30 * DAY;
          assert.equal(
            (await pats.revoke(record.tokenId, { expiresAt: cleanup })).expiresAt,
            cleanup,
          );
          assert.equal((await pats.restore(record.tokenId)).expiresAt, null);
        }),
      );

      it(
        'keeps the first revokedAt, ignores restoring an active token, and reports missing ones',
        run(async ({ pats, clock }) => {
          const { record } = await pats.issue({ owner: 'o' });
          const first = (await pats.revoke(record.tokenId)).revokedAt;
          clock.advance(5000);
          assert.equal((await pats.revoke(record.tokenId)).revokedAt, first);
          await pats.restore(record.tokenId);
          assert.equal((await pats.restore(record.tokenId)).revokedAt, null);
          const missing = generateTokenId();
          await rejectsWithCode(pats.revoke(missing), 'ERR_TESSERA_NOT_FOUND');
          await rejectsWithCode(pats.restore(missing), 'ERR_TESSERA_NOT_FOUND');
        }),
      );

      it(
        'applies an expiry changed while revoked on restore',
        run(async ({ pats, clock }) => {
          const { record } = await pats.issue({ owner: 'o', expiresAt: clock.now() + DAY });
          await pats.revoke(record.tokenId);
          const later = clock.now() + 7 * DAY;
          await pats.update(record.tokenId, { expiresAt: later });
          assert.equal((await pats.restore(record.tokenId)).expiresAt, later);
        }),
      );
    });

    describe('rotate', () => {
      it(
        'gives a new secret and accepts the old one until the overlap ends',
        run(async ({ pats, clock }) => {
          const { token: old, record } = await pats.issue({ owner: 'o' });
          const { token: fresh, record: after } = await pats.rotate(record.tokenId, {
            overlapSeconds: 3600,
          });
          assert.notEqual(fresh, old);
          assert.equal(fresh.slice(0, 25), old.slice(0, 25), 'the id stays');
          assert.equal(after.previousSecretExpiresAt, clock.now() + 3_600_000);
          assert.equal((await pats.verify(old)).valid, true);
          assert.equal((await pats.verify(fresh)).valid, true);
          clock.advance(3_600_000);
          assert.equal((await pats.verify(old)).reason, 'invalid_secret');
          assert.equal((await pats.verify(fresh)).valid, true);
        }),
      );

      it(
        'without overlap stops the old secret at once, and refuses a revoked token',
        run(async ({ pats }) => {
          const { token: old, record } = await pats.issue({ owner: 'o' });
          const { token: fresh } = await pats.rotate(record.tokenId);
          assert.equal((await pats.verify(old)).reason, 'invalid_secret');
          assert.equal((await pats.verify(fresh)).valid, true);
          await pats.revoke(record.tokenId);
          await rejectsWithCode(pats.rotate(record.tokenId), 'ERR_TESSERA_REVOKED');
          await rejectsWithCode(pats.rotate(generateTokenId()), 'ERR_TESSERA_NOT_FOUND');
          await rejectsWithCode(
            pats.rotate(record.tokenId, { overlapSeconds: -1 }),
            'ERR_TESSERA_INVALID_INPUT',
          );
        }),
      );

      it(
        'moves a migrated seed token to the checksummed format with an overlap',
        run(async ({ pats }) => {
          const seed = seedToken();
          await pats.register({
            tokenId: seed.tokenId,
            secretPhc: seedScryptPhc(seed.secret, 4),
            owner: 'o',
            format: 'legacy',
          });
          const { token } = await pats.rotate(seed.tokenId, { overlapSeconds: 60 });
          assert.match(token, TESSERA_RE);
          assert.equal((await pats.verify(seed.token)).valid, true);
          assert.equal((await pats.verify(token)).valid, true);
        }),
      );
    });

    describe('lastUsedAt', () => {
      it(
        'is written at most once per interval, so verify makes no writes in between',
        run(async ({ store, clock, collection }) => {
          const { store: counted, calls } = counting(store);
          const pats = createAccessTokens({ store: counted, clock, collection });
          const { token } = await pats.issue({ owner: 'o' });
          const first = clock.now();
          for (let i = 0; i < 50; i++) assert.equal((await pats.verify(token)).valid, true);
          assert.equal(calls.update ?? 0, 1);
          clock.advance(59_999);
          const r = await pats.verify(token);
          assert.equal(r.record?.lastUsedAt, first);
          assert.equal(calls.update ?? 0, 1);
          clock.advance(1);
          assert.equal((await pats.verify(token)).record?.lastUsedAt, clock.now());
          assert.equal(calls.update ?? 0, 2);
          await pats.close();
        }),
      );

      it(
        'never recreates a token deleted while verifies are in flight',
        run(async ({ pats, store, collection, clock }) => {
          for (let i = 0; i < 5; i++) {
            const { token, record } = await pats.issue({ owner: 'o' });
            clock.advance(61_000);
            await Promise.all([
              pats.verify(token),
              pats.delete(record.tokenId),
              pats.verify(token),
            ]);
            assert.equal(await store.get({ collection, key: record.tokenId }), null);
            assert.equal((await pats.verify(token)).reason, 'not_found');
          }
        }),
      );

      it(
        'never recreates a token deleted behind a cached verify',
        run(async ({ make, store, collection, clock }) => {
          const pats = make({ cache: { ttlMs: 60_000 }, lastUsedIntervalSeconds: 1 });
          const { token, record } = await pats.issue({ owner: 'o' });
          assert.equal((await pats.verify(token)).valid, true);
          await store.delete({ collection, key: record.tokenId });
          clock.advance(2000);
          assert.equal((await pats.verify(token)).reason, 'not_found');
          assert.equal(await store.get({ collection, key: record.tokenId }), null);
        }),
      );
    });

    describe('verify cache', () => {
      it(
        'serves verifies without store reads within its ttl',
        run(async ({ store, clock, collection }) => {
          const { store: counted, calls } = counting(store);
          const pats = createAccessTokens({
            store: counted,
            clock,
            collection,
            cache: { ttlMs: 5000 },
          });
          await pats.ready();
          const { token } = await pats.issue({ owner: 'o' });
          await pats.verify(token);
          const reads = calls.get ?? 0;
          for (let i = 0; i < 20; i++) assert.equal((await pats.verify(token)).valid, true);
          assert.equal(calls.get ?? 0, reads);
          clock.advance(5000);
          await pats.verify(token);
          assert.equal(calls.get ?? 0, reads + 1);
          await pats.close();
        }),
      );

      it(
        'lets a revoke in the same process take effect at once, through any instance',
        run(async ({ make }) => {
          const a = make({ cache: { ttlMs: 300_000 } });
          const b = make({ cache: { ttlMs: 300_000 } });
          const { token, record } = await a.issue({ owner: 'o' });
          assert.equal((await a.verify(token)).valid, true);
          assert.equal((await b.verify(token)).valid, true);
          await b.ready();
          await a.revoke(record.tokenId);
          assert.equal((await a.verify(token)).reason, 'revoked');
          assert.equal((await b.verify(token)).reason, 'revoked');
          await a.restore(record.tokenId);
          assert.equal((await b.verify(token)).valid, true);
          const { token: next } = await b.rotate(record.tokenId);
          assert.equal((await a.verify(token)).reason, 'invalid_secret');
          assert.equal((await a.verify(next)).valid, true);
          await b.delete(record.tokenId);
          assert.equal((await a.verify(next)).reason, 'not_found');
        }),
      );

      it(
        'sees a change made behind its back after ttlMs at the latest',
        run(async ({ make, store, collection, clock }) => {
          const pats = make({ cache: { ttlMs: 1000 } });
          await pats.ready();
          const { token, record } = await pats.issue({ owner: 'o' });
          await pats.verify(token);
          await store.update(
            { collection, key: record.tokenId },
            { set: { revokedAt: clock.now() } },
          );
          clock.advance(999);
          assert.equal((await pats.verify(token)).valid, true, 'bounded staleness');
          clock.advance(1);
          assert.equal((await pats.verify(token)).reason, 'revoked');
        }),
      );

      it(
        'reads the store again for every token after clearCache()',
        run(async ({ make, store, collection, clock }) => {
          const pats = make({ cache: { ttlMs: 300_000 } });
          await pats.ready();
          const { token, record } = await pats.issue({ owner: 'o' });
          assert.equal((await pats.verify(token)).valid, true);
          await store.update(
            { collection, key: record.tokenId },
            { set: { revokedAt: clock.now() } },
          );
          assert.equal((await pats.verify(token)).valid, true, 'served from the cache');
          pats.clearCache();
          assert.equal((await pats.verify(token)).reason, 'revoked');
          make().clearCache(); // a no-op without a cache
        }),
      );

      it(
        'still rejects wrong secrets and honours the rotation overlap on cached tokens',
        run(async ({ make, clock }) => {
          const pats = make({ cache: { ttlMs: 300_000 } });
          const { token, record } = await pats.issue({ owner: 'o' });
          await pats.verify(token);
          const wrong = createTokenCodec().format(record.tokenId, randomBytes(32), 'tessera');
          assert.equal((await pats.verify(wrong)).reason, 'invalid_secret');
          const { token: next } = await pats.rotate(record.tokenId, { overlapSeconds: 10 });
          assert.equal((await pats.verify(token)).valid, true);
          assert.equal((await pats.verify(next)).valid, true);
          clock.advance(10_000);
          assert.equal((await pats.verify(token)).reason, 'invalid_secret');
        }),
      );
    });

    describe('list, listByOwner and batchLoad', () => {
      it(
        'lists in ascending id order with exact pages and a working cursor',
        run(async ({ pats }) => {
          const ids: string[] = [];
          for (let i = 0; i < 7; i++)
            ids.push((await pats.issue({ owner: `o${i % 2}` })).record.tokenId);
          ids.sort();
          const seen: string[] = [];
          let cursor: string | null = null;
          const sizes: number[] = [];
          do {
            const page = await pats.list({ limit: 3, cursor });
            sizes.push(page.tokens.length);
            seen.push(...page.tokens.map((t) => t.tokenId));
            cursor = page.cursor;
          } while (cursor !== null);
          assert.deepEqual(seen, ids);
          assert.deepEqual(sizes.slice(0, 2), [3, 3]);
          assert.equal(
            sizes.reduce((a, b) => a + b, 0),
            7,
          );
          const after = await pats.list({ afterTokenId: ids[4] });
          assert.deepEqual(
            after.tokens.map((t) => t.tokenId),
            ids.slice(5),
          );
          assert.equal(after.cursor, null);
        }),
      );

      it(
        'filters by role and includes hashes only when asked',
        run(async ({ pats }) => {
          const tagged: string[] = [];
          for (let i = 0; i < 9; i++) {
            const roles = i % 3 === 0 ? ['ops', 'x'] : ['x'];
            const { record } = await pats.issue({ owner: 'o', roles });
            if (i % 3 === 0) tagged.push(record.tokenId);
          }
          const first = await pats.list({ hasRole: 'ops', limit: 2 });
          assert.equal(first.tokens.length, 2);
          assert.ok(first.cursor);
          const rest = await pats.list({ hasRole: 'ops', limit: 2, cursor: first.cursor });
          assert.deepEqual(
            [...first.tokens, ...rest.tokens].map((t) => t.tokenId),
            tagged.sort(),
          );
          assert.ok(first.tokens.every((t) => t.secretPhc === undefined));
          const withHash = await pats.list({ includeSecretPhc: true, limit: 1 });
          assert.match(withHash.tokens[0]?.secretPhc ?? '', /^\$sha256\$/);
          assert.equal((await pats.list({ hasRole: 'nobody' })).tokens.length, 0);
        }),
      );

      it(
        'lists revoked and expired tokens too, and pages one owner through its index',
        run(async ({ pats, clock }) => {
          const mine: string[] = [];
          for (let i = 0; i < 5; i++) {
            mine.push(
              (await pats.issue({ owner: 'me', expiresAt: clock.now() + 1000 })).record.tokenId,
            );
            await pats.issue({ owner: 'someone-else' });
          }
          await pats.revoke(mine[0]!);
          clock.advance(1000);
          const page1 = await pats.listByOwner('me', { limit: 3 });
          const page2 = await pats.listByOwner('me', { limit: 3, cursor: page1.cursor });
          assert.deepEqual(
            [...page1.tokens, ...page2.tokens].map((t) => t.tokenId),
            mine.sort(),
          );
          assert.equal(page2.cursor, null);
          assert.equal((await pats.list({ limit: 1000 })).tokens.length, 10);
        }),
      );

      it(
        'batch-loads tokens, reporting the ids it did not find',
        run(async ({ pats }) => {
          const a = (await pats.issue({ owner: 'o' })).record.tokenId;
          const b = (await pats.issue({ owner: 'o' })).record.tokenId;
          const missing = generateTokenId();
          const r = await pats.batchLoad(new Set([a, missing, b, 'not-an-id']));
          assert.deepEqual(
            r.found.map((t) => t.tokenId),
            [a, b],
          );
          assert.deepEqual(r.notFound, [missing, 'not-an-id']);
          const withHash = await pats.batchLoad([a], { includeSecretPhc: true });
          assert.ok(withHash.found[0]?.secretPhc);
        }),
      );

      it(
        'rejects a cursor it did not make and a bad limit',
        run(async ({ pats }) => {
          await rejectsWithCode(pats.list({ cursor: 'forged' }), 'ERR_TESSERA_INVALID_INPUT');
          await rejectsWithCode(pats.list({ limit: 0 }), 'ERR_TESSERA_INVALID_INPUT');
          await rejectsWithCode(pats.list({ afterTokenId: 'x' }), 'ERR_TESSERA_INVALID_INPUT');
        }),
      );

      it(
        'deletes a token',
        run(async ({ pats }) => {
          const { token, record } = await pats.issue({ owner: 'o' });
          assert.equal(await pats.delete(record.tokenId), true);
          assert.equal(await pats.delete(record.tokenId), false);
          assert.equal((await pats.verify(token)).reason, 'not_found');
        }),
      );
    });

    describe('bootstrap', () => {
      const secret = randomBytes(32);
      const bootstrapPhc = sha256Phc(secret);
      const codec = createTokenCodec();
      const tokenFor = (s = secret) => codec.format(generateTokenId(), s, 'tessera');

      it(
        'creates the first admin once, from a token matching the bootstrap hash',
        run(async ({ make, clock }) => {
          const pats = make({ bootstrapPhc });
          const token = tokenFor();
          const r = await pats.bootstrap(token, { owner: 'root@example.com' });
          assert.ok(r.valid);
          assert.equal(r.record.owner, 'root@example.com');
          assert.equal(r.record.isAdmin, true);
          assert.equal(r.record.createdAt, clock.now());
          assert.equal((await pats.verify(token)).valid, true);
          assert.equal((await pats.bootstrap(tokenFor(), { owner: 'x' })).reason, 'not_found');
          const other = make({ bootstrapPhc });
          assert.equal((await other.bootstrap(tokenFor(), { owner: 'x' })).reason, 'not_found');
        }),
      );

      it(
        'answers not_found without a bootstrap hash or once any token exists, for good',
        run(async ({ make }) => {
          assert.equal((await make().bootstrap(tokenFor(), { owner: 'x' })).reason, 'not_found');
          const pats = make({ bootstrapPhc });
          const { record } = await pats.issue({ owner: 'early' });
          assert.equal((await pats.bootstrap(tokenFor(), { owner: 'x' })).reason, 'not_found');
          await pats.delete(record.tokenId);
          const fresh = make({ bootstrapPhc });
          assert.equal(
            (await fresh.bootstrap(tokenFor(), { owner: 'x' })).reason,
            'not_found',
            'an emptied table does not bring bootstrap back',
          );
        }),
      );

      it(
        'reports a wrong secret and a malformed token, and then still works',
        run(async ({ make }) => {
          const pats = make({ bootstrapPhc });
          assert.equal(
            (await pats.bootstrap(tokenFor(randomBytes(32)), { owner: 'x' })).reason,
            'invalid_secret',
          );
          assert.equal((await pats.bootstrap('nope', { owner: 'x' })).reason, 'invalid_prefix');
          assert.equal((await pats.bootstrap(tokenFor(), { owner: 'x' })).valid, true);
        }),
      );

      it(
        'gives exactly one success to concurrent bootstraps',
        run(async ({ make }) => {
          const instances = Array.from({ length: 4 }, () => make({ bootstrapPhc }));
          const results = await Promise.all(
            Array.from({ length: 16 }, (_, i) =>
              instances[i % 4]!.bootstrap(tokenFor(), { owner: `racer-${i}` }),
            ),
          );
          assert.equal(results.filter((r) => r.valid).length, 1);
          assert.ok(results.every((r) => r.valid || r.reason === 'not_found'));
          assert.equal((await instances[0]!.list()).tokens.length, 1);
        }),
      );

      it(
        'is not blocked forever by a claim that was never completed',
        run(async ({ make, store, collection, clock }) => {
          await store.put(
            {
              collection,
              key: '_bootstrap',
              data: {
                state: 'pending',
                claimedTokenId: generateTokenId(),
                owner: 'crashed',
                at: clock.now(),
              },
              expiresAt: clock.now() + 60_000,
            },
            { mode: 'insert', now: clock.now() },
          );
          const pats = make({ bootstrapPhc });
          assert.equal((await pats.bootstrap(tokenFor(), { owner: 'x' })).reason, 'not_found');
          clock.advance(60_000);
          assert.equal((await pats.bootstrap(tokenFor(), { owner: 'x' })).valid, true);
        }),
      );

      it(
        'rejects an unusable bootstrap hash at construction',
        run(async ({ store }) => {
          assert.throws(
            () => createAccessTokens({ store, bootstrapPhc: '$fake' }),
            /^TypeError: Invalid bootstrap PHC string: invalid_phc$/,
          );
        }),
      );

      if (options.multiProcess) {
        const mp = options.multiProcess;
        const processes = mp.processes ?? 3;
        it(`gives exactly one success to bootstraps racing in ${processes} OS processes`, async () => {
          const { store, spec } = await mp.createSharedStore();
          try {
            const collection = `pat-${randomSuffix(4)}`;
            const clock = createFakeClock();
            const result = await raceAcrossProcesses(
              spec,
              {
                kind: 'custom',
                module: fileUrl,
                exportName: 'bootstrapOnce',
                arg: { collection, secret: secret.toString('base64url'), now: clock.now() },
              },
              processes,
              6,
            );
            assert.deepEqual(result.errors, []);
            assert.equal(result.successes, 1);
            assert.equal(result.failures, processes * 6 - 1);
            const pats = createAccessTokens({ store, clock, collection });
            const page = await pats.list();
            assert.equal(page.tokens.length, 1);
            assert.equal(page.tokens[0]?.isAdmin, true);
          } finally {
            await store.close();
          }
        }, 120_000);
      }
    });
  });
}

/**
 * Racer body for the multi-process bootstrap case (runs in a worker process):
 * one bootstrap with a fresh token id and the shared bootstrap secret.
 * Resolves to whether this racer won; any outcome but `not_found` throws.
 *
 * @example `raceAcrossProcesses(spec, { kind: 'custom', module, exportName: 'bootstrapOnce', arg }, 3, 6)`
 */
export async function bootstrapOnce(
  store: Store,
  arg: { collection: string; secret: string; now: number },
  i: number,
): Promise<boolean> {
  const secret = Buffer.from(arg.secret, 'base64url');
  const pats = createAccessTokens({
    store,
    collection: arg.collection,
    clock: createFakeClock(arg.now),
    bootstrapPhc: sha256Phc(secret),
  });
  const token = createTokenCodec().format(generateTokenId(), secret, 'tessera');
  const r = await pats.bootstrap(token, { owner: `racer-${process.pid}-${i}` });
  if (!r.valid && r.reason !== 'not_found') throw new Error(`unexpected outcome ${r.reason}`);
  return r.valid;
}
