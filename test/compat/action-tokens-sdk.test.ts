import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActionTokensClient,
  ExpiredTokenError,
  keyringFromSecret,
  TokenAlreadyExistsError,
  TokenDoesNotExistError,
  TokenInvalidError,
  TokenThrottledError,
} from '../../src/compat/action-tokens/sdk.js';
import { createFakeClock } from '../../src/core/clock.js';
import { generateServerSecret } from '../../src/core/keyring.js';
import { createDynamoStore } from '../../src/stores/dynamodb/index.js';
import {
  sharedTestDynamo,
  stopSharedTestDynamo,
  type TestDynamo,
  uniqueTableName,
} from '../support/dynalite.js';

let dyn: TestDynamo;
let client: ReturnType<TestDynamo['client']>;
let tableName = '';
const secret = generateServerSecret();

beforeAll(async () => {
  dyn = await sharedTestDynamo();
  client = dyn.client();
  tableName = uniqueTableName('action-tokens');
  // What the ActionTokens CDK construct creates: a Tessera table with lookup indexes `lookup1..4`.
  const setup = createDynamoStore({ client, tableName, indexPrefix: 'lookup' });
  await setup.migrate();
});
afterAll(async () => {
  client.destroy();
  await stopSharedTestDynamo();
});

const env = () => ({
  BEESOLVE_ACTION_TOKENS_TABLE_NAME: tableName,
  BEESOLVE_ACTION_TOKENS_INDEX_NAME: 'lookup',
  TESSERA_SECRET: `k1:${secret}`,
});

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('compat: @beesolve/action-tokens/sdk ActionTokensClient', () => {
  it('reads the environment at construction, not at import, with a clear error', () => {
    // This file imported the module with no variables set: importing never throws.
    expect(() => new ActionTokensClient({ env: {} })).toThrow(
      /It seems that ActionTokens has not been set up correctly: BEESOLVE_ACTION_TOKENS_TABLE_NAME and BEESOLVE_ACTION_TOKENS_INDEX_NAME are not set/,
    );
    expect(
      () => new ActionTokensClient({ env: { ...env(), BEESOLVE_ACTION_TOKENS_INDEX_NAME: '' } }),
    ).toThrow(/BEESOLVE_ACTION_TOKENS_INDEX_NAME is not set/);
    const noSecret = () => new ActionTokensClient({ env: { ...env(), TESSERA_SECRET: undefined } });
    expect(noSecret).toThrow(
      /TESSERA_SECRET_ARN is not set \(the server secret's ARN; grantAccess\(\) sets it\), nor TESSERA_SECRET/,
    );
    expect(
      () =>
        new ActionTokensClient({
          env: { ...env(), TESSERA_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:s' },
        }),
    ).toThrow(/TESSERA_SECRET_ARN and TESSERA_SECRET are both set/);
    try {
      noSecret();
    } catch (err) {
      expect((err as { code?: string }).code).toBe('ERR_TESSERA_CONFIG');
    }
  });

  it('uses the table and index prefix the environment names', async () => {
    const tokens = new ActionTokensClient({ env: env(), client });
    expect(tokens.store.tableName).toBe(tableName);
    expect(tokens.store.indexNames).toEqual(['lookup1', 'lookup2', 'lookup3', 'lookup4']);
    await tokens.store.close();
  });

  it('creates, peeks, uses and drains tokens with the seed messages', async () => {
    const clock = createFakeClock();
    const tokens = new ActionTokensClient({ env: env(), client, clock });
    const owner = `u-${Math.random()}`;
    const expiresAt = new Date(clock.now() + 600_000);
    const t = await tokens.createNew({
      owner,
      action: 'verify-email',
      value: '123456',
      remainingUses: 3,
      expiresAt,
      data: { email: 'a@example.com' },
      overwrite: false,
    });
    expect(t).toMatchObject({ owner, action: 'verify-email', remainingUses: 3, expiresAt });
    const dup = await caught(
      tokens.createNew({
        owner,
        action: 'verify-email',
        value: '1',
        remainingUses: 1,
        expiresAt,
        overwrite: false,
      }),
    );
    expect(dup).toBeInstanceOf(TokenAlreadyExistsError);
    expect(dup.message).toBe('Token already exists.');
    expect((await tokens.peek({ owner, action: 'verify-email' })).remainingUses).toBe(3);
    const wrong = await caught(tokens.use({ owner, action: 'verify-email', value: '000000' }));
    expect(wrong).toBeInstanceOf(TokenInvalidError);
    expect(wrong.message).toBe('Token is invalid.');
    const used = await tokens.use({ owner, action: 'verify-email', value: '123456' });
    expect(used.data).toEqual({ email: 'a@example.com' });
    expect(used.remainingUses).toBe(1);
    await tokens.drain({ owner, action: 'verify-email' });
    expect(await caught(tokens.peek({ owner, action: 'verify-email' }))).toBeInstanceOf(
      TokenDoesNotExistError,
    );
    clock.advance(1);
    await tokens.createNew({
      owner,
      action: 'x',
      value: '9',
      remainingUses: 1,
      expiresAt: new Date(clock.now() + 1000),
      overwrite: false,
    });
    clock.advance(1000);
    expect(await caught(tokens.use({ owner, action: 'x', value: '9' }))).toBeInstanceOf(
      ExpiredTokenError,
    );
    await tokens.store.close();
  });

  it('throttles creation in one transaction (TransactWriteItems)', async () => {
    const clock = createFakeClock();
    const tokens = new ActionTokensClient({ env: env(), client, clock });
    const owner = `u-${Math.random()}`;
    const props = {
      owner,
      action: 'login',
      value: '42424242',
      remainingUses: 1,
      expiresAt: new Date(clock.now() + 600_000),
      overwrite: true,
      throttle: { id: owner, windowSeconds: 60 },
    };
    const before = dyn.stats.committed;
    await tokens.createNewWithThrottling(props);
    expect(dyn.stats.committed).toBe(before + 1);
    const err = await caught(tokens.createNewWithThrottling(props));
    expect(err).toBeInstanceOf(TokenThrottledError);
    expect(err.message).toBe('Too many requests. Try again later.');
    clock.advance(60_000);
    await tokens.createNewWithThrottling(props);
    await tokens.store.close();
  });

  it('finds a long value without its owner through the lookup indexes', async () => {
    const tokens = new ActionTokensClient({ env: env(), client });
    const owner = `u-${Math.random()}`;
    const value = generateServerSecret();
    await tokens.createNew({
      owner,
      action: 'magic-link',
      value,
      remainingUses: 1,
      expiresAt: new Date(Date.now() + 600_000),
      overwrite: false,
    });
    const used = await tokens.use({ action: 'magic-link', value, drainWhenValid: true });
    expect(used.owner).toBe(owner);
    await tokens.store.close();
  });

  it('parses TESSERA_SECRET as id:secret pairs (first active) or one bare secret', () => {
    const a = generateServerSecret();
    const b = generateServerSecret();
    expect(keyringFromSecret(`new:${a}, old:${b}`).ids).toEqual(['new', 'old']);
    expect(keyringFromSecret(`new:${a}`).activeId).toBe('new');
    expect(keyringFromSecret(a).ids).toEqual(['k1']);
    expect(() => keyringFromSecret(`${a},${b}`)).toThrow(/id:secret pairs/);
    expect(() => keyringFromSecret('k1:short')).toThrow(/at least 32 bytes/);
    expect(() => keyringFromSecret('')).toThrow(/TESSERA_SECRET is not set/);
  });

  describe('the server secret from Secrets Manager (TESSERA_SECRET_ARN)', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tessera/server-AbCdEf';
    /** A Secrets Manager endpoint on loopback: the JSON protocol of GetSecretValue. */
    let server: Server;
    let endpoint = '';
    const seen: Array<{ target: string; secretId: string }> = [];
    let answer: { status: number; body: Record<string, unknown> } = { status: 200, body: {} };

    beforeAll(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          seen.push({ target: String(req.headers['x-amz-target']), secretId: body.SecretId });
          res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(answer.body));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    const secretsManager = () =>
      new SecretsManagerClient({
        endpoint,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
    const arnEnv = () => ({ ...env(), TESSERA_SECRET: undefined, TESSERA_SECRET_ARN: arn });

    it('reads the secret once, at construction, and every call waits for it', async () => {
      seen.length = 0;
      answer = {
        status: 200,
        body: { ARN: arn, Name: 'tessera/server', SecretString: `k1:${secret}` },
      };
      const sm = secretsManager();
      const tokens = new ActionTokensClient({ env: arnEnv(), client, secretsManager: sm });
      const owner = `sm-${Date.now()}`;
      // No ready() first: the call waits for the read started at construction.
      const created = await tokens.createNew({
        owner,
        action: 'verify-email',
        value: '123456',
        remainingUses: 2,
        expiresAt: new Date(Date.now() + 600_000),
        overwrite: false,
      });
      expect(created.owner).toBe(owner);
      await tokens.ready();
      // The same secret as TESSERA_SECRET holds: a client configured either way uses the token.
      const plain = new ActionTokensClient({ env: env(), client });
      const used = await plain.use({ owner, action: 'verify-email', value: '123456' });
      expect(used.remainingUses).toBe(1);
      expect(seen).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: arn }]);
      sm.destroy();
    });

    it('fails calls with ConfigError while the secret cannot be read, and reads it again on the next call', async () => {
      seen.length = 0;
      answer = {
        status: 400,
        body: {
          __type: 'ResourceNotFoundException',
          message: 'Secrets Manager can not find the specified secret.',
        },
      };
      const sm = secretsManager();
      const tokens = new ActionTokensClient({ env: arnEnv(), client, secretsManager: sm });
      const err = await caught(tokens.ready());
      expect(err.message).toMatch(
        /could not read the server secret arn:aws:secretsmanager:.* from Secrets Manager \(ResourceNotFoundException\); the next call tries again/,
      );
      expect((err as { code?: string }).code).toBe('ERR_TESSERA_CONFIG');
      answer = { status: 200, body: { ARN: arn, Name: 'tessera/server' } };
      expect((await caught(tokens.ready())).message).toMatch(/holds no SecretString/);
      answer = { status: 200, body: { ARN: arn, Name: 'tessera/server', SecretString: 'short' } };
      expect((await caught(tokens.ready())).message).toMatch(/at least 32 bytes/);
      answer = {
        status: 200,
        body: { ARN: arn, Name: 'tessera/server', SecretString: `k1:${secret}` },
      };
      await tokens.ready();
      const owner = `sm-retry-${Date.now()}`;
      const created = await tokens.createNew({
        owner,
        action: 'verify-email',
        value: '654321',
        remainingUses: 1,
        expiresAt: new Date(Date.now() + 600_000),
        overwrite: false,
      });
      expect(created.remainingUses).toBe(1);
      // One read per attempt, none after the secret was known.
      expect(seen).toHaveLength(4);
      sm.destroy();
    });
  });
});
