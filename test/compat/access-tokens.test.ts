import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAccessTokens } from '../../src/access-tokens/index.js';
import {
  DEFAULT_KEY_LENGTH,
  DynamoDBPat,
  type DynamoDBPatConfig,
  type PublicTokenRecord,
} from '../../src/compat/access-tokens/index.js';
import { createFakeClock } from '../../src/core/clock.js';
import { sha256Phc } from '../../src/core/hashing.js';
import type { StoreEvents } from '../../src/stores/contract.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { seedScryptPhc, seedToken } from '../../src/testing/access-tokens-suite.js';

const SEED_TOKEN_RE = /^pat_[a-zA-Z0-9]{21}\.[a-zA-Z0-9+/]{43}=$/;
const SEED_PHC_RE = /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

function setup(extra: Partial<DynamoDBPatConfig> = {}) {
  const clock = createFakeClock();
  const store = createMemoryStore();
  // A cheap scrypt cost keeps the suite fast; the default cost is tested on its own.
  const pat = new DynamoDBPat({
    tableName: 'tokens',
    store,
    clock,
    scryptOptions: { cost: 1024 },
    ...extra,
  });
  const nowS = () => Math.floor(clock.now() / 1000);
  return { clock, store, pat, nowS };
}

async function caught(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

async function collect(gen: AsyncGenerator<PublicTokenRecord>): Promise<PublicTokenRecord[]> {
  const out: PublicTokenRecord[] = [];
  for await (const t of gen) out.push(t);
  return out;
}

describe('compat: @access-tokens/core DynamoDBPat', () => {
  it('checks the table-mode options (no store) at construction, sending nothing', () => {
    // The table mode itself runs against dynalite in access-tokens-dynamodb.test.ts.
    expect(() => new DynamoDBPat({})).toThrow(/tableName must be/);
    expect(() => new DynamoDBPat({ tableName: 'x' })).toThrow(TypeError);
    expect(() => new DynamoDBPat({ tableName: 'tokens', docClient: {} as never })).toThrow(
      /docClient must be a DynamoDBDocumentClient/,
    );
    expect(() => new DynamoDBPat({ tableName: 'tokens', ownerIndexName: '?' })).toThrow(
      /ownerIndexName must be/,
    );
    expect(new DynamoDBPat({ tableName: 'tokens' })).toBeInstanceOf(DynamoDBPat);
  });

  it('refuses scrypt options beyond the bounds stored hashes verify under, at construction', () => {
    const store = createMemoryStore();
    const make = (scryptOptions: DynamoDBPatConfig['scryptOptions']) =>
      new DynamoDBPat({ tableName: 't', store, scryptOptions });
    expect(() => make({ cost: 2 ** 18 })).toThrow(
      new RangeError('scryptOptions.cost must be a power of two in 2..2^17'),
    );
    expect(() => make({ cost: 2 ** 15, parallelization: 8 })).toThrow(
      new RangeError('options.scrypt: N*r*p must be at most 2^20'),
    );
    expect(() => make({ cost: 2 ** 16 })).toThrow(
      new RangeError('options.scrypt: 128*N*r must be at most 32 MiB'),
    );
    expect(make({ cost: 2 ** 14, parallelization: 8 })).toBeInstanceOf(DynamoDBPat);
    expect(make({ cost: 2 ** 15 })).toBeInstanceOf(DynamoDBPat);
    expect(() => new DynamoDBPat({ tableName: 't', store, keyLength: 15 })).toThrow(
      new RangeError('keyLength must be an integer in 16..64'),
    );
    expect(() => new DynamoDBPat({ tableName: 't', store, saltLength: 65 })).toThrow(
      new RangeError('saltLength must be an integer in 8..64'),
    );
  });

  it('ignores scryptOptions.maxmem: scrypt memory is sized from the parameters', async () => {
    const { pat } = setup({ scryptOptions: { cost: 1024, maxmem: 1 } });
    const { token } = await pat.issue({ owner: 'o' });
    expect((await pat.verify(token)).valid).toBe(true);
  });

  it('issues seed-format tokens hashed with scrypt exactly as the seed writes them', async () => {
    const { store, clock } = setup();
    const pat = new DynamoDBPat({ tableName: 't', store, clock });
    const { token, record } = await pat.issue({ owner: 'user@example.com' });
    expect(token).toMatch(SEED_TOKEN_RE);
    const [found] = (await pat.batchLoad(new Set([record.tokenId]), { includeSecretPhc: true }))
      .found;
    expect(found?.secretPhc).toMatch(SEED_PHC_RE);
    expect((await pat.verify(token)).valid).toBe(true);
    expect(DEFAULT_KEY_LENGTH).toBe(32);
  });

  it('returns the seed shapes, in epoch seconds', async () => {
    const { pat, nowS, clock } = setup();
    const expiresAt = nowS() + 365 * 86_400;
    const issued = await pat.issue({ owner: 'o', isAdmin: true, roles: ['r1', 'r2'], expiresAt });
    expect(issued.record).toEqual({
      tokenId: issued.record.tokenId,
      owner: 'o',
      isAdmin: true,
      roles: ['r1', 'r2'],
      createdAt: nowS(),
      expiresAt,
    });
    const plain = await pat.issue({ owner: 'p' });
    expect(plain.record).toEqual({
      tokenId: plain.record.tokenId,
      owner: 'p',
      isAdmin: false,
      createdAt: nowS(),
    });
    clock.advance(5000);
    expect(await pat.verify(issued.token)).toEqual({
      valid: true,
      record: {
        tokenId: issued.record.tokenId,
        owner: 'o',
        isAdmin: true,
        roles: ['r1', 'r2'],
        createdAt: nowS() - 5,
        lastUsedAt: nowS(),
        expiresAt,
      },
    });
  });

  it('answers with the seed reasons and never attaches the stored hash', async () => {
    const { pat, clock, nowS } = setup();
    const { token, record } = await pat.issue({ owner: 'o', expiresAt: nowS() + 10 });
    expect((await pat.verify('')).reason).toBe('invalid_prefix');
    expect((await pat.verify(token.slice(0, -1))).reason).toBe('invalid_format');
    expect((await pat.verify(`${token}@@`)).reason).toBe('invalid_format');
    expect((await pat.verify(seedToken().token)).reason).toBe('not_found');
    const wrong = `pat_${record.tokenId}.${randomBytes(32).toString('base64')}`;
    expect((await pat.verify(wrong)).reason).toBe('invalid_secret');
    await pat.revoke(record.tokenId);
    const revoked = await pat.verify(token);
    expect(revoked.reason).toBe('revoked');
    expect(revoked.valid === false && revoked.record?.revokedAt).toBe(nowS());
    expect(JSON.stringify(revoked)).not.toContain('$scrypt$');
    await pat.restore(record.tokenId);
    clock.advance(10_000);
    expect((await pat.verify(token)).reason).toBe('expired');
  });

  it('verifies raw $scrypt$ PHC strings written by @access-tokens/core', async () => {
    const { pat, store } = setup();
    const seed = seedToken();
    const phc = seedScryptPhc(seed.secret, 14);
    expect(phc).toMatch(SEED_PHC_RE);
    const registered = await pat.register({ tokenId: seed.tokenId, secretPhc: phc, owner: 'o' });
    expect(registered).toEqual({
      tokenId: seed.tokenId,
      secretPhc: phc,
      owner: 'o',
      isAdmin: false,
      createdAt: registered.createdAt,
    });
    expect((await pat.verify(seed.token)).valid).toBe(true);
    // A record migrated as is (no format field, times in ms): still verifies.
    const other = seedToken();
    await store.put(
      {
        collection: 'pat',
        key: other.tokenId,
        data: {
          tokenId: other.tokenId,
          secretPhc: seedScryptPhc(other.secret, 10),
          owner: 'migrated',
          isAdmin: true,
          roles: ['admin'],
          createdAt: 1_700_000_000_000,
        },
        expiresAt: null,
        index: { owner: 'migrated' },
      },
      { mode: 'insert', now: 0 },
    );
    const r = await pat.verify(other.token);
    expect(r.valid && r.record).toMatchObject({
      owner: 'migrated',
      isAdmin: true,
      roles: ['admin'],
    });
  });

  it('throws plain Errors with the seed messages', async () => {
    const { pat } = setup();
    const { record } = await pat.issue({ owner: 'o' });
    const dup = await caught(pat.issue({ owner: 'o', tokenId: record.tokenId }));
    expect(dup.constructor).toBe(Error);
    expect(dup.message).toBe(`Token ID already exists: ${record.tokenId}`);
    const missing = seedToken().tokenId;
    for (const call of [
      () => pat.update(missing, { owner: 'x' }),
      () => pat.revoke(missing),
      () => pat.restore(missing),
    ]) {
      const err = await caught(call());
      expect(err.constructor).toBe(Error);
      expect(err.message).toBe(`Token not found: ${missing}`);
    }
    expect((await caught(pat.revoke('junk'))).message).toBe('Token not found: junk');
    const badPhc = await caught(pat.update(record.tokenId, { secretPhc: '$fake' }));
    expect(badPhc.constructor).toBe(Error);
    expect(badPhc.message).toBe('Invalid secret PHC string: invalid_phc');
    expect((await caught(pat.update(record.tokenId, { secretPhc: '$md5$eHl6' }))).message).toBe(
      'Invalid secret PHC string: unsupported_algorithm',
    );
    const boot = await caught(() => setup({ bootstrapPhc: 'nope' }));
    expect(boot.constructor).toBe(Error);
    expect(boot.message).toBe('Invalid bootstrap PHC string: invalid_phc');
    const bad = await caught(pat.issue({ owner: '' }));
    expect(bad.message).toMatch(/^Cannot store invalid token record: owner/);
  });

  it('differs from the seed where its module notes say so: update checks existence and role shapes, 0 means no expiry', async () => {
    const { pat } = setup();
    const missing = seedToken().tokenId;
    const empty = await caught(pat.update(missing, {}));
    expect(empty.constructor).toBe(Error);
    expect(empty.message).toBe(`Token not found: ${missing}`);
    const { record } = await pat.issue({ owner: 'o', roles: ['a'] });
    await pat.update(record.tokenId, {}); // an existing token: nothing to do
    const both = await caught(
      pat.update(record.tokenId, { roles: { add: ['b'], remove: ['a'] } as never }),
    );
    expect(both.message).toBe(
      'Cannot store invalid token record: roles takes add or remove, not both',
    );
    const neither = await caught(pat.update(record.tokenId, { roles: {} as never }));
    expect(neither.message).toMatch(/^Cannot store invalid token record: roles must be/);
    expect((await pat.batchLoad(new Set([record.tokenId]))).found[0]?.roles).toEqual(['a']);
    const zero = await pat.issue({ owner: 'o', expiresAt: 0 });
    expect(zero.record.expiresAt).toBeUndefined();
    expect((await pat.verify(zero.token)).valid).toBe(true);
  });

  it('returns the last written lastUsedAt from verify, written once per interval', async () => {
    const { pat, clock, nowS } = setup({ lastUsedIntervalSeconds: 60 });
    const { token } = await pat.issue({ owner: 'o' });
    const first = await pat.verify(token);
    const usedAt = nowS();
    expect(first.valid && first.record.lastUsedAt).toBe(usedAt);
    clock.advance(59_000);
    const second = await pat.verify(token);
    expect(second.valid && second.record.lastUsedAt).toBe(usedAt);
    clock.advance(1000);
    const third = await pat.verify(token);
    expect(third.valid && third.record.lastUsedAt).toBe(usedAt + 60);
  });

  it('keeps the expiry across revoke and restore, and honours a cleanup expiry', async () => {
    const { pat, nowS } = setup();
    const expiresAt = nowS() + 3600;
    const { record } = await pat.issue({ owner: 'o', expiresAt });
    await pat.revoke(record.tokenId);
    await pat.revoke(record.tokenId); // already revoked: nothing happens
    await pat.restore(record.tokenId);
    await pat.restore(record.tokenId); // not revoked: nothing happens
    const [after] = (await pat.batchLoad(new Set([record.tokenId]))).found;
    expect(after?.expiresAt).toBe(expiresAt);
    expect(after?.revokedAt).toBeUndefined();
    await pat.revoke(record.tokenId, { expiresAt: nowS() + 30 * 86_400 });
    const [revoked] = (await pat.batchLoad(new Set([record.tokenId]))).found;
    expect(revoked?.expiresAt).toBe(nowS() + 30 * 86_400);
    await pat.restore(record.tokenId);
    expect((await pat.batchLoad(new Set([record.tokenId]))).found[0]?.expiresAt).toBe(expiresAt);
  });

  it('updates atomically and validates roles, also after an add', async () => {
    const { pat } = setup();
    const { record } = await pat.issue({ owner: 'o', roles: ['guest'] });
    const id = record.tokenId;
    await pat.update(id, { owner: 'new', roles: { add: ['admin'] } });
    await pat.update(id, { roles: { remove: ['guest'] } });
    await pat.update(id, { expiresAt: 2_000_000_000 });
    await pat.update(id, { expiresAt: null });
    let [t] = (await pat.batchLoad(new Set([id]))).found;
    expect(t).toMatchObject({ owner: 'new', roles: ['admin'] });
    expect(t?.expiresAt).toBeUndefined();
    await pat.update(id, { roles: [] });
    [t] = (await pat.batchLoad(new Set([id]))).found;
    expect(t?.roles).toBeUndefined();
    await pat.update(id, { roles: Array.from({ length: 50 }, (_, i) => `r${i}`) });
    const tooMany = await caught(pat.update(id, { roles: { add: ['one-too-many'] } }));
    expect(tooMany.message).toBe(
      'Cannot store invalid token record: a token holds at most 50 roles',
    );
    const tooLong = await caught(pat.update(id, { roles: { add: ['x'.repeat(101)] } }));
    expect(tooLong.message).toMatch(/^Cannot store invalid token record: roles.add must be/);
  });

  it('lists in id order with an exact limit, afterTokenId, hasRole and includeSecretPhc', async () => {
    const { pat } = setup({ hash: 'sha256' });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(
        (await pat.issue({ owner: `o${i}`, roles: i % 4 === 0 ? ['ops'] : [] })).record.tokenId,
      );
    }
    ids.sort();
    const all = await collect(pat.list());
    expect(all.map((t) => t.tokenId)).toEqual(ids);
    expect(all.every((t) => t.secretPhc === undefined)).toBe(true);
    const first = await collect(pat.list({ limit: 5 }));
    expect(first.map((t) => t.tokenId)).toEqual(ids.slice(0, 5));
    const next = await collect(pat.list({ limit: 5, afterTokenId: first.at(-1)?.tokenId }));
    expect(next.map((t) => t.tokenId)).toEqual(ids.slice(5, 10));
    const cold = await collect(
      new DynamoDBPat({ store: setup().store }).list({ afterTokenId: ids[9] }),
    );
    expect(cold).toEqual([]);
    const tail = await collect(pat.list({ afterTokenId: ids[9], batchLimit: 1 }));
    expect(tail.map((t) => t.tokenId)).toEqual(ids.slice(10));
    const ops = await collect(pat.list({ hasRole: 'ops', includeSecretPhc: true }));
    expect(ops).toHaveLength(3);
    expect(ops.every((t) => t.roles?.includes('ops') && t.secretPhc?.startsWith('$sha256$'))).toBe(
      true,
    );
    expect(await collect(pat.list({ limit: 0 }))).toEqual([]);
    expect(await pat.getCount()).toBe(12);
    expect((await collect(pat.listByOwner('o3'))).map((t) => t.owner)).toEqual(['o3']);
  });

  it('batch-loads with found and notFound', async () => {
    const { pat } = setup();
    const { record } = await pat.issue({ owner: 'o' });
    const missing = seedToken().tokenId;
    const r = await pat.batchLoad(new Set([record.tokenId, missing]));
    expect(r.found.map((t) => t.tokenId)).toEqual([record.tokenId]);
    expect(r.notFound).toEqual([missing]);
  });

  it('generates without storing and registers what it generated', async () => {
    const { pat } = setup();
    const g = await pat.generate();
    expect(g.token).toMatch(SEED_TOKEN_RE);
    expect((await pat.verify(g.token)).reason).toBe('not_found');
    const record = await pat.register({ tokenId: g.tokenId, secretPhc: g.secretPhc, owner: 'o' });
    expect(record.secretPhc).toBe(g.secretPhc);
    expect((await pat.verify(g.token)).valid).toBe(true);
    const fixed = await pat.generate({ tokenId: seedToken().tokenId });
    expect(fixed.token.slice(4, 25)).toBe(fixed.tokenId);
  });

  it('bootstraps the first admin once, without counting items', async () => {
    const secret = randomBytes(32);
    const { pat, nowS } = setup({ bootstrapPhc: sha256Phc(secret) });
    const tokenId = seedToken().tokenId;
    const token = `pat_${tokenId}.${secret.toString('base64')}`;
    expect(await pat.bootstrap(token, { owner: 'root' })).toEqual({
      valid: true,
      record: { tokenId, owner: 'root', isAdmin: true, createdAt: nowS() },
    });
    expect((await pat.verify(token)).valid).toBe(true);
    const again = `pat_${seedToken().tokenId}.${secret.toString('base64')}`;
    expect(await pat.bootstrap(again, { owner: 'root' })).toEqual({
      valid: false,
      reason: 'not_found',
    });
  });

  it('shares the store with the native module, whose tokens also verify here', async () => {
    const { pat, store, clock } = setup();
    const native = createAccessTokens({ store, clock });
    const { token } = await native.issue({ owner: 'native' });
    const r = await pat.verify(token);
    expect(r.valid && r.record.owner).toBe('native');
    const rotated = await pat.rotate(r.valid ? r.record.tokenId : '', { overlapSeconds: 60 });
    expect(rotated.token).toMatch(SEED_TOKEN_RE);
    expect((await native.verify(rotated.token)).valid).toBe(true);
    expect((await native.verify(token)).valid).toBe(true);
  });

  it('passes onError through and forgets its cached tokens on clearCache()', async () => {
    const clock = createFakeClock();
    const memory = createMemoryStore();
    const down: StoreEvents = {
      publish: async () => {
        throw new Error('events are down');
      },
      subscribe: (channel, listener) => memory.events.subscribe(channel, listener),
    };
    const store = new Proxy(memory, {
      get: (t, p, r) => (p === 'events' ? down : Reflect.get(t, p, r)),
    });
    const errors: unknown[] = [];
    const pat = new DynamoDBPat({
      tableName: 't',
      store,
      clock,
      scryptOptions: { cost: 1024 },
      cache: { ttlMs: 300_000 },
      onError: (err) => errors.push(err),
    });
    const { token, record } = await pat.issue({ owner: 'o' });
    expect((await pat.verify(token)).valid).toBe(true);
    const ref = { collection: 'pat', key: record.tokenId };
    await memory.update(ref, { set: { revokedAt: clock.now() } });
    expect((await pat.verify(token)).valid).toBe(true);
    pat.clearCache();
    expect((await pat.verify(token)).reason).toBe('revoked');
    await pat.update(record.tokenId, { owner: 'p' });
    expect(errors).toEqual([new Error('events are down')]);
    await pat.close();
  });
});
