/**
 * `tessera export` / `tessera import` from an @access-tokens/core DynamoDB
 * table (dynalite) to PostgreSQL: the tokens verify on the new store.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAccessTokens } from '../../src/access-tokens/index.js';
import { main } from '../../src/cli/main.js';
import { openStore } from '../../src/server/open-store.js';
import { loadKeyring } from '../../src/server/secrets.js';
import { skipUnreachable } from '../server/helpers.js';
import {
  createSeedAccessTokensTable,
  sharedTestDynamo,
  stopSharedTestDynamo,
  uniqueTableName,
} from '../support/dynalite.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-migrate-'));
const schema = `mig_${randomBytes(4).toString('hex')}`;
const pgUrl = `postgres://postgres@127.0.0.1:5432/test?schema=${schema}`;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };

afterAll(async () => {
  await stopSharedTestDynamo();
  process.env.AWS_ACCESS_KEY_ID = saved.id;
  process.env.AWS_SECRET_ACCESS_KEY = saved.key;
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  rmSync(dir, { recursive: true, force: true });
  try {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  } catch {
    // PostgreSQL was not reachable: nothing to drop.
  }
});

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    stderrIsTty: false,
  });
  return { code, out, err };
}

describe('moving access tokens from an @access-tokens DynamoDB table to PostgreSQL', () => {
  it('exports the seed table and imports it into PostgreSQL, where the tokens verify', async (ctx) => {
    if (skipUnreachable('PostgreSQL', await reachable(5432))) ctx.skip();
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    const dynamo = await sharedTestDynamo();
    const client = dynamo.client();
    const seedTable = uniqueTableName('seed-pat');
    await createSeedAccessTokensTable(client, seedTable);
    client.destroy();
    const dynamoUrl = `dynamodb:${uniqueTableName('tessera')}?region=us-east-1&endpoint=${encodeURIComponent(dynamo.endpoint)}&accessTokensTable=${seedTable}`;

    // Tokens in the seed's table, in the seed's format.
    const keyring = loadKeyring(dir).keyring;
    const source = await openStore(dynamoUrl, dir);
    const pats = createAccessTokens({ store: source, keyring });
    const alice = await pats.issue({ owner: 'alice', roles: ['reader'] });
    const bob = await pats.issue({ owner: 'bob', isAdmin: true });
    await pats.close();
    await source.close();

    const file = join(dir, 'pats.ndjson');
    const exported = await run([
      'export',
      '--store',
      dynamoUrl,
      '--data-dir',
      dir,
      '--collections',
      'pat',
      '--out',
      file,
    ]);
    expect(exported.err).toMatch(/export: 2 records written/);
    expect(exported.code).toBe(0);
    const imported = await run(['import', '--store', pgUrl, '--data-dir', dir, '--in', file]);
    expect(imported.err).toMatch(/import: 2 imported, 0 skipped/);
    expect(imported.code).toBe(0);

    const target = await openStore(pgUrl, dir);
    const moved = createAccessTokens({ store: target, keyring });
    expect(await moved.verify(alice.token)).toMatchObject({
      valid: true,
      record: { owner: 'alice', roles: ['reader'] },
    });
    expect(await moved.verify(bob.token)).toMatchObject({ valid: true, record: { isAdmin: true } });
    expect((await moved.listByOwner('alice')).tokens).toHaveLength(1);
    await moved.close();
    await target.close();
  }, 60_000);
});
