/**
 * `tessera/compat/access-tokens` in the seed's own table mode: `new
 * DynamoDBPat({ tableName, ddbClient })` (no `store`) on an EXISTING table
 * created as @access-tokens/core's users create it (partition key `tokenId`,
 * on-demand), filled with RAW items in that package's format (scrypt PHCs,
 * roles as a String Set, epoch seconds), written with the document client as
 * the seed writes them. The seed's reads (its zod schema, its verify) and its
 * conditional writes are replayed here on what Tessera writes.
 */

import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBPat, type PublicTokenRecord } from '../../src/compat/access-tokens/index.js';
import {
  createAccessTokensSeedLayout,
  createDynamoStore,
} from '../../src/stores/dynamodb/index.js';
import { seedScryptPhc, seedToken } from '../../src/testing/access-tokens-suite.js';
import { gateBackend } from '../support/backends.js';
import {
  createSeedAccessTokensTable,
  sharedTestDynamo,
  stopSharedTestDynamo,
  type TestDynamo,
  uniqueTableName,
} from '../support/dynalite.js';

const SEED_TOKEN_RE = /^pat_[a-zA-Z0-9]{21}\.[a-zA-Z0-9+/]{43}=$/;
const SEED_PHC_RE = /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;
/** scrypt N=16 (ln=4) keeps the file fast; the seed's verify accepts any ln. */
const FAST = { scryptOptions: { cost: 16 } };
const LN = 4;

let dynamo: TestDynamo | undefined;
try {
  dynamo = await sharedTestDynamo();
} catch (err) {
  console.warn('dynalite did not start:', err);
}

type Item = Record<string, AttributeValue>;
type SeedRecord = {
  tokenId: string;
  secretPhc: string;
  owner: string;
  isAdmin: boolean;
  roles?: string[];
  createdAt: number;
  lastUsedAt?: number | null;
  revokedAt?: number | null;
  expiresAt?: number | null;
};

const nowS = () => Math.floor(Date.now() / 1000);

/**
 * The seed's zod `tokenRecordSchema` (BEHAVIOUR.md §2.4) on a document-client
 * item: the record, or the names of the failing fields. Unknown attributes
 * (such as `tessera`) are ignored, as zod's `object` strips them.
 */
function seedParse(item: Record<string, unknown>): SeedRecord | string[] {
  const bad: string[] = [];
  const str = (v: unknown, min: number, max: number) =>
    typeof v === 'string' && v.length >= min && v.length <= max;
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!(typeof item.tokenId === 'string' && /^[a-zA-Z0-9]{21}$/.test(item.tokenId)))
    bad.push('tokenId');
  if (!str(item.secretPhc, 1, 200)) bad.push('secretPhc');
  if (!str(item.owner, 1, 100)) bad.push('owner');
  if (item.isAdmin !== undefined && typeof item.isAdmin !== 'boolean') bad.push('isAdmin');
  let roles: string[] | undefined;
  if (item.roles !== undefined) {
    const r = item.roles instanceof Set ? [...item.roles] : item.roles;
    if (!Array.isArray(r) || r.length > 50 || !r.every((x) => str(x, 1, 100))) bad.push('roles');
    else roles = r as string[];
  }
  if (!int(item.createdAt)) bad.push('createdAt');
  for (const f of ['lastUsedAt', 'revokedAt', 'expiresAt'])
    if (item[f] !== undefined && item[f] !== null && !int(item[f])) bad.push(f);
  if (bad.length > 0) return bad;
  const out: SeedRecord = {
    tokenId: item.tokenId as string,
    secretPhc: item.secretPhc as string,
    owner: item.owner as string,
    isAdmin: (item.isAdmin as boolean | undefined) ?? false,
    createdAt: item.createdAt as number,
  };
  if (roles !== undefined) out.roles = roles;
  for (const f of ['lastUsedAt', 'revokedAt', 'expiresAt'] as const)
    if (item[f] !== undefined) out[f] = item[f] as number | null;
  return out;
}

async function collect(gen: AsyncGenerator<PublicTokenRecord>): Promise<PublicTokenRecord[]> {
  const out: PublicTokenRecord[] = [];
  for await (const t of gen) out.push(t);
  return out;
}

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

if (gateBackend('dynalite', dynamo !== undefined, ['compat access-tokens: DynamoDB table mode'])) {
  const dyn = dynamo as TestDynamo;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let table = '';

  /** The seed's part of the test: its reads and writes, with the document client. */
  const seed = {
    async put(record: Record<string, unknown>, t = table): Promise<void> {
      await doc.send(
        new PutCommand({
          TableName: t,
          Item: record,
          ConditionExpression: 'attribute_not_exists(tokenId)',
        }),
      );
    },
    /** The seed's load(): Get, then its schema (a failure throws). */
    async load(tokenId: string, t = table): Promise<SeedRecord | null> {
      const r = await doc.send(new GetCommand({ TableName: t, Key: { tokenId } }));
      if (r.Item === undefined) return null;
      const parsed = seedParse(r.Item);
      if (Array.isArray(parsed)) {
        throw new Error(`Cannot load invalid record for token ${tokenId}: ${parsed.join(', ')}`);
      }
      return parsed;
    },
    /** The seed's verify(), without its touch(). */
    async verify(token: string, t = table): Promise<string> {
      const [tokenId, secret] = token.slice(4).split('.') as [string, string];
      const r = await seed.load(tokenId, t);
      if (r === null) return 'not_found';
      const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(r.secretPhc);
      if (m === null) return 'invalid_phc';
      const hash = Buffer.from(m[5] as string, 'base64');
      const got = scryptSync(
        Buffer.from(secret, 'base64'),
        Buffer.from(m[4] as string, 'base64'),
        hash.length,
        {
          N: 1 << Number(m[1]),
          r: Number(m[2]),
          p: Number(m[3]),
        },
      );
      if (!timingSafeEqual(got, hash)) return 'invalid_secret';
      if (r.revokedAt) return 'revoked';
      if (r.expiresAt && r.expiresAt <= nowS()) return 'expired';
      return 'valid';
    },
    /** The seed's list(): a Scan keeping what its schema accepts. */
    async list(t = table): Promise<SeedRecord[]> {
      const out: SeedRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: t, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) {
          const p = seedParse(item);
          if (!Array.isArray(p)) out.push(p);
        }
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return out;
    },
    /** The seed's revoke() UpdateCommand; false when its condition fails. */
    async revoke(tokenId: string, t = table): Promise<boolean> {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: t,
            Key: { tokenId },
            ConditionExpression: 'attribute_exists(tokenId) AND attribute_not_exists(revokedAt)',
            UpdateExpression: 'SET revokedAt = :now, expiresAt = :expiresAt',
            ExpressionAttributeValues: { ':now': nowS(), ':expiresAt': null },
          }),
        );
        return true;
      } catch (err) {
        if ((err as Error).name === 'ConditionalCheckFailedException') return false;
        throw err;
      }
    },
    /** The seed's restore() UpdateCommand; false when its condition fails. */
    async restore(tokenId: string, t = table): Promise<boolean> {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: t,
            Key: { tokenId },
            ConditionExpression: 'attribute_exists(tokenId) AND attribute_exists(revokedAt)',
            UpdateExpression: 'REMOVE revokedAt, expiresAt',
          }),
        );
        return true;
      } catch (err) {
        if ((err as Error).name === 'ConditionalCheckFailedException') return false;
        throw err;
      }
    },
  };

  async function raw(tokenId: string, t = table): Promise<Item | undefined> {
    const r = await client.send(
      new GetItemCommand({ TableName: t, Key: { tokenId: { S: tokenId } }, ConsistentRead: true }),
    );
    return r.Item;
  }

  /** Raw seed items, as @access-tokens/core's issue/revoke/touch leave them. */
  const T = {
    active: seedToken(),
    revoked: seedToken(),
    expired: seedToken(),
    plain: seedToken(),
    zero: seedToken(),
  };
  let at = 0;

  async function fill(t: string): Promise<void> {
    at = nowS();
    const phc = (s: Buffer) => seedScryptPhc(s, LN);
    await seed.put(
      {
        tokenId: T.active.tokenId,
        secretPhc: phc(T.active.secret),
        owner: 'alice@example.com',
        isAdmin: true,
        roles: new Set(['reader', 'admin']),
        createdAt: at - 1000,
        lastUsedAt: at - 3600,
        expiresAt: at + 3600,
      },
      t,
    );
    await seed.put(
      {
        tokenId: T.revoked.tokenId,
        secretPhc: phc(T.revoked.secret),
        owner: 'alice@example.com',
        isAdmin: false,
        roles: new Set(['reader']),
        createdAt: at - 2000,
        // The seed's revoke(): revokedAt = now, expiresAt = null.
        revokedAt: at - 5,
        expiresAt: null,
      },
      t,
    );
    await seed.put(
      {
        tokenId: T.expired.tokenId,
        secretPhc: phc(T.expired.secret),
        owner: 'bob@example.com',
        isAdmin: false,
        roles: new Set(['ops']),
        createdAt: at - 9000,
        expiresAt: at - 100,
      },
      t,
    );
    // No roles (the seed omits an empty set), no expiry, never used.
    await seed.put(
      {
        tokenId: T.plain.tokenId,
        secretPhc: phc(T.plain.secret),
        owner: 'carol@example.com',
        isAdmin: false,
        createdAt: at - 500,
      },
      t,
    );
    // An expiresAt of 0: the seed's "no expiry".
    await seed.put(
      {
        tokenId: T.zero.tokenId,
        secretPhc: phc(T.zero.secret),
        owner: 'dave@example.com',
        isAdmin: false,
        createdAt: at - 400,
        expiresAt: 0,
      },
      t,
    );
  }

  beforeAll(async () => {
    client = dyn.client();
    doc = DynamoDBDocumentClient.from(client);
    table = uniqueTableName('seed-pat');
    await createSeedAccessTokensTable(client, table);
    await fill(table);
  });
  afterAll(async () => {
    client.destroy();
    await stopSharedTestDynamo();
  });

  describe('compat: DynamoDBPat on an existing @access-tokens/core table (no store)', () => {
    it('verifies the tokens the seed wrote, answering as the seed does', async () => {
      const pat = new DynamoDBPat({ tableName: table, ddbClient: client, ...FAST });
      for (const t of Object.values(T)) {
        expect(await seed.verify(t.token)).toBe(
          t === T.revoked ? 'revoked' : t === T.expired ? 'expired' : 'valid',
        );
      }
      const ok = await pat.verify(T.active.token);
      expect(ok.valid).toBe(true);
      expect(ok.valid && ok.record).toEqual({
        tokenId: T.active.tokenId,
        owner: 'alice@example.com',
        isAdmin: true,
        roles: ['admin', 'reader'],
        createdAt: at - 1000,
        lastUsedAt: expect.any(Number),
        expiresAt: at + 3600,
      });
      // touch(): lastUsedAt is now, in seconds, in the seed's attribute.
      const touched = await raw(T.active.tokenId);
      expect(Number(touched?.lastUsedAt?.N)).toBeGreaterThanOrEqual(at);
      expect(ok.valid && ok.record.lastUsedAt).toBe(Number(touched?.lastUsedAt?.N));
      expect(touched?.roles?.SS?.sort()).toEqual(['admin', 'reader']);

      const revoked = await pat.verify(T.revoked.token);
      expect(revoked).toMatchObject({ valid: false, reason: 'revoked' });
      expect(revoked.valid === false && revoked.record?.revokedAt).toBe(at - 5);
      expect(JSON.stringify(revoked)).not.toContain('$scrypt$');
      const expired = await pat.verify(T.expired.token);
      expect(expired).toMatchObject({ valid: false, reason: 'expired' });
      expect(expired.valid === false && expired.record?.expiresAt).toBe(at - 100);

      const plain = await pat.verify(T.plain.token);
      expect(plain.valid && plain.record).toEqual({
        tokenId: T.plain.tokenId,
        owner: 'carol@example.com',
        isAdmin: false,
        createdAt: at - 500,
        lastUsedAt: expect.any(Number),
      });
      const zero = await pat.verify(T.zero.token);
      expect(zero.valid).toBe(true);
      expect(zero.valid && zero.record.expiresAt).toBeUndefined();

      const wrong = `pat_${T.active.tokenId}.${randomBytes(32).toString('base64')}`;
      expect(await pat.verify(wrong)).toEqual({ valid: false, reason: 'invalid_secret' });
      expect(await pat.verify(seedToken().token)).toEqual({ valid: false, reason: 'not_found' });
      expect((await pat.verify('nope')).reason).toBe('invalid_prefix');
      // What Tessera wrote back (touch) is still what the seed reads and verifies.
      for (const t of [T.active, T.plain, T.zero]) expect(await seed.verify(t.token)).toBe('valid');
      await pat.close();
    });

    it('issues tokens the seed reads: its item shape, seconds, a String Set, scrypt', async () => {
      const pat = new DynamoDBPat({ tableName: table, ddbClient: client });
      const expiresAt = nowS() + 86_400;
      const { token, record } = await pat.issue({
        owner: 'erin@example.com',
        isAdmin: true,
        roles: ['writer', 'reader'],
        expiresAt,
      });
      expect(token).toMatch(SEED_TOKEN_RE);
      const item = await raw(record.tokenId);
      // Exactly the seed's attributes, plus `tessera` (a string the seed's schema strips).
      expect(Object.keys(item ?? {}).sort()).toEqual([
        'createdAt',
        'expiresAt',
        'isAdmin',
        'owner',
        'roles',
        'secretPhc',
        'tessera',
        'tokenId',
      ]);
      expect(item).toMatchObject({
        tokenId: { S: record.tokenId },
        owner: { S: 'erin@example.com' },
        isAdmin: { BOOL: true },
        createdAt: { N: String(record.createdAt) },
        expiresAt: { N: String(expiresAt) },
        tessera: { S: expect.any(String) },
      });
      expect(item?.secretPhc?.S).toMatch(SEED_PHC_RE);
      expect(item?.roles?.SS?.sort()).toEqual(['reader', 'writer']);
      expect(record.createdAt).toBeGreaterThan(1_000_000_000);
      expect(record.createdAt).toBeLessThan(10_000_000_000);

      // The seed's reads: its schema parses the item, its verify accepts the token.
      expect(await seed.load(record.tokenId)).toEqual({
        tokenId: record.tokenId,
        secretPhc: item?.secretPhc?.S,
        owner: 'erin@example.com',
        isAdmin: true,
        roles: expect.arrayContaining(['reader', 'writer']),
        createdAt: record.createdAt,
        expiresAt,
      });
      expect(await seed.verify(token)).toBe('valid');
      expect((await pat.verify(token)).valid).toBe(true);

      // A token without roles or expiry: no roles attribute, no NULLs.
      const bare = await pat.issue({ owner: 'frank@example.com' });
      expect(Object.keys((await raw(bare.record.tokenId)) ?? {}).sort()).toEqual([
        'createdAt',
        'isAdmin',
        'owner',
        'secretPhc',
        'tessera',
        'tokenId',
      ]);
      expect(await seed.verify(bare.token)).toBe('valid');
      await pat.close();
    });

    it('revokes, restores and updates seed items, leaving the seed format', async () => {
      const pat = new DynamoDBPat({ tableName: table, ddbClient: client, ...FAST });
      const id = T.plain.tokenId;
      await pat.revoke(id);
      expect(Number((await raw(id))?.revokedAt?.N)).toBeGreaterThanOrEqual(at);
      expect(await seed.verify(T.plain.token)).toBe('revoked');
      expect((await pat.verify(T.plain.token)).reason).toBe('revoked');
      await pat.restore(id);
      expect((await raw(id))?.revokedAt).toBeUndefined();
      expect(await seed.verify(T.plain.token)).toBe('valid');

      // Revoke keeps the expiry, restore brings it back (the seed nulled it).
      await pat.revoke(T.active.tokenId);
      expect((await raw(T.active.tokenId))?.expiresAt).toEqual({ N: String(at + 3600) });
      await pat.restore(T.active.tokenId);
      expect((await raw(T.active.tokenId))?.expiresAt).toEqual({ N: String(at + 3600) });
      // A token the seed revoked restores to no expiry (the seed's revoke erased it).
      await pat.restore(T.revoked.tokenId);
      expect((await pat.verify(T.revoked.token)).valid).toBe(true);
      expect(await seed.verify(T.revoked.token)).toBe('valid');

      await pat.update(id, { owner: 'carol2@example.com', roles: { add: ['ops', 'dev'] } });
      await pat.update(id, { roles: { remove: ['dev'] }, expiresAt: at + 7200, isAdmin: true });
      let item = await raw(id);
      expect(item).toMatchObject({
        owner: { S: 'carol2@example.com' },
        roles: { SS: ['ops'] },
        expiresAt: { N: String(at + 7200) },
        isAdmin: { BOOL: true },
      });
      await pat.update(id, { roles: [], expiresAt: null });
      item = await raw(id);
      expect(item?.roles).toBeUndefined();
      expect(item?.expiresAt).toBeUndefined();
      expect(
        seedParse(
          (await doc.send(new GetCommand({ TableName: table, Key: { tokenId: id } }))).Item ?? {},
        ),
      ).toMatchObject({
        owner: 'carol2@example.com',
        isAdmin: true,
      });
      const missing = seedToken().tokenId;
      const err = await caught(pat.revoke(missing));
      expect(err.constructor).toBe(Error);
      expect(err.message).toBe(`Token not found: ${missing}`);
      expect((await caught(pat.update(missing, { owner: 'x' }))).message).toBe(
        `Token not found: ${missing}`,
      );
      const dup = await caught(pat.issue({ owner: 'x', tokenId: T.active.tokenId }));
      expect(dup.message).toBe(`Token ID already exists: ${T.active.tokenId}`);
      await pat.close();
    });

    it('lists, counts and batch-loads the seed items', async () => {
      const t = uniqueTableName('seed-pat-list');
      await createSeedAccessTokensTable(client, t, true);
      await fill(t);
      for (const ownerIndexName of [undefined, 'owner-index']) {
        const pat = new DynamoDBPat({ tableName: t, docClient: doc, ownerIndexName, ...FAST });
        const ids = Object.values(T)
          .map((x) => x.tokenId)
          .sort();
        const all = await collect(pat.list());
        expect(all.map((r) => r.tokenId)).toEqual(ids);
        expect(all.every((r) => r.secretPhc === undefined)).toBe(true);
        expect(all.find((r) => r.tokenId === T.revoked.tokenId)).toEqual({
          tokenId: T.revoked.tokenId,
          owner: 'alice@example.com',
          isAdmin: false,
          roles: ['reader'],
          createdAt: at - 2000,
          revokedAt: at - 5,
        });
        const first = await collect(pat.list({ limit: 2 }));
        const next = await collect(pat.list({ afterTokenId: first[1]?.tokenId }));
        expect([...first, ...next].map((r) => r.tokenId)).toEqual(ids);
        const readers = await collect(pat.list({ hasRole: 'reader', includeSecretPhc: true }));
        expect(readers.map((r) => r.tokenId).sort()).toEqual(
          [T.active.tokenId, T.revoked.tokenId].sort(),
        );
        expect(readers.every((r) => r.secretPhc?.startsWith(`$scrypt$ln=${LN},`))).toBe(true);
        expect(await pat.getCount()).toBe(ids.length);
        const alice = await collect(pat.listByOwner('alice@example.com'));
        expect(alice.map((r) => r.tokenId).sort()).toEqual(
          [T.active.tokenId, T.revoked.tokenId].sort(),
        );
        const missing = seedToken().tokenId;
        const loaded = await pat.batchLoad(new Set([T.expired.tokenId, T.plain.tokenId, missing]));
        expect(loaded.notFound).toEqual([missing]);
        expect(loaded.found.map((r) => r.tokenId).sort()).toEqual(
          [T.expired.tokenId, T.plain.tokenId].sort(),
        );
        expect(loaded.found.find((r) => r.tokenId === T.expired.tokenId)).toEqual({
          tokenId: T.expired.tokenId,
          owner: 'bob@example.com',
          isAdmin: false,
          roles: ['ops'],
          createdAt: at - 9000,
          expiresAt: at - 100,
        });
        await pat.close();
      }
    });

    it('lets the seed keep managing tokens Tessera wrote (its conditions see no NULLs)', async () => {
      const pat = new DynamoDBPat({ tableName: table, ddbClient: client, ...FAST });
      const { token, record } = await pat.issue({
        owner: 'gina@example.com',
        expiresAt: nowS() + 600,
      });
      // Tessera's touch writes lastUsedAt; revokedAt stays absent, not NULL.
      expect((await pat.verify(token)).valid).toBe(true);
      expect((await raw(record.tokenId))?.revokedAt).toBeUndefined();
      // The seed's restore of an active token does nothing (its condition fails)...
      expect(await seed.restore(record.tokenId)).toBe(false);
      // ...and its revoke applies, and Tessera sees it.
      expect(await seed.revoke(record.tokenId)).toBe(true);
      expect((await pat.verify(token)).reason).toBe('revoked');
      expect(await seed.restore(record.tokenId)).toBe(true);
      expect((await pat.verify(token)).valid).toBe(true);
      // The seed's list parses every Tessera-written token.
      const listed = (await seed.list()).map((r) => r.tokenId);
      expect(listed).toContain(record.tokenId);
      expect(listed).toHaveLength((await collect(pat.list())).length);
      await pat.close();
    });

    it('never sweeps a token whose expiry the seed changed after Tessera wrote it', async () => {
      const pat = new DynamoDBPat({ tableName: table, ddbClient: client, ...FAST });
      const { token, record } = await pat.issue({
        owner: 'hana@example.com',
        expiresAt: nowS() + 60,
      });
      // The seed's revoke nulls the expiry and its restore removes it: the token no longer expires.
      expect(await seed.revoke(record.tokenId)).toBe(true);
      expect(await seed.restore(record.tokenId)).toBe(true);
      const store = createDynamoStore({
        client,
        tableName: null,
        layouts: {
          pat: createAccessTokensSeedLayout({
            tableName: table,
            indexes: { owner: { field: 'owner' } },
          }),
        },
      });
      // A sweep a century later must not collect it on the strength of the old expiry.
      await store.sweep(Date.now() + 100 * 365 * 86_400_000, { limit: 1000 });
      await store.close();
      expect((await pat.verify(token)).valid).toBe(true);
      await pat.close();
    });

    it('bootstraps once on an empty table; the seed skips the sentinel item', async () => {
      const t = uniqueTableName('seed-pat-boot');
      await createSeedAccessTokensTable(client, t);
      const secret = randomBytes(32);
      const pat = new DynamoDBPat({
        tableName: t,
        ddbClient: client,
        bootstrapPhc: seedScryptPhc(secret, LN),
        ...FAST,
      });
      const tokenId = seedToken().tokenId;
      const token = `pat_${tokenId}.${secret.toString('base64')}`;
      const r = await pat.bootstrap(token, { owner: 'root' });
      expect(r).toEqual({
        valid: true,
        record: { tokenId, owner: 'root', isAdmin: true, createdAt: expect.any(Number) },
      });
      const again = `pat_${seedToken().tokenId}.${secret.toString('base64')}`;
      expect((await pat.bootstrap(again, { owner: 'root' })).reason).toBe('not_found');
      expect(await seed.verify(token, t)).toBe('valid');
      expect((await seed.list(t)).map((x) => x.tokenId)).toEqual([tokenId]);
      expect((await collect(pat.list())).map((x) => x.tokenId)).toEqual([tokenId]);
      await pat.close();
    });

    it('creates (and closes) its own client from the environment when given none', async () => {
      const env: Record<string, string> = {
        AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      };
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      try {
        const pat = new DynamoDBPat({ tableName: table, ...FAST });
        expect((await pat.verify(T.zero.token)).valid).toBe(true);
        await pat.close();
        await expect(pat.verify(T.zero.token)).rejects.toThrow(/closed/);
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
      // A client passed in stays usable after close().
      const mine = new DynamoDBPat({ tableName: table, docClient: doc, ...FAST });
      await mine.close();
      expect(await seed.load(T.zero.tokenId)).not.toBeNull();
    });

    it('never creates the table: a missing one fails the call, not the constructor', async () => {
      const pat = new DynamoDBPat({ tableName: uniqueTableName('absent'), ddbClient: client });
      const err = await caught(pat.verify(T.active.token));
      expect(err.message).toMatch(/absent|not found|exist/i);
      await pat.close();
    });

    it('loads the AWS SDK only in table mode (no static import from the compat module)', () => {
      const seen = new Set<string>();
      const offenders: string[] = [];
      const walk = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(
          /^(?:import|export)(?!\s+type\b)[^'";]*?from\s*'([^']+)'/gm,
        )) {
          const spec = m[1] as string;
          if (spec.startsWith('@aws-sdk/')) offenders.push(`${file}: ${spec}`);
          if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        }
      };
      walk(join(import.meta.dirname, '../../src/compat/access-tokens/index.ts'));
      expect(offenders).toEqual([]);
      expect([...seen].some((f) => f.endsWith('table-store.ts'))).toBe(true);
      expect([...seen].some((f) => f.endsWith('dynamodb-store.ts'))).toBe(false);
    });
  });
}
