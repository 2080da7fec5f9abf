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
    expect(noSecret).toThrow(/TESSERA_SECRET is not set/);
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
});
