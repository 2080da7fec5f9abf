import { describe, expect, it } from 'vitest';
import {
  ActionTokens,
  BaseTokenError,
  ExpiredTokenError,
  MalformedTokenError,
  TokenAlreadyExistsError,
  TokenAlreadyUsedUpError,
  TokenDoesNotExistError,
  TokenInvalidError,
  TokenThrottledError,
} from '../../src/compat/action-tokens/index.js';
import { createFakeClock } from '../../src/core/clock.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { testKeyring } from '../../src/testing/action-tokens-suite.js';

function setup() {
  const clock = createFakeClock();
  const store = createMemoryStore();
  const tokens = new ActionTokens({ store, keyring: testKeyring(), clock });
  const inTenMinutes = new Date(clock.now() + 600_000);
  return { clock, store, tokens, inTenMinutes };
}

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('compat: @beesolve/action-tokens ActionTokens', () => {
  it('creates a token and returns the seed shape with Date fields', async () => {
    const { tokens, inTenMinutes, clock } = setup();
    const t = await tokens.createNew({
      owner: 'user-123',
      action: 'verify-email',
      value: '123456',
      remainingUses: 5,
      expiresAt: inTenMinutes,
      data: { emailAddress: 'a@example.com' },
      overwrite: false,
    });
    expect(t).toEqual({
      owner: 'user-123',
      action: 'verify-email',
      value: '123456',
      remainingUses: 5,
      createdAt: new Date(clock.now()),
      expiresAt: inTenMinutes,
      data: { emailAddress: 'a@example.com' },
    });
  });

  it('throws TokenAlreadyExistsError with the seed message, and overwrite replaces', async () => {
    const { tokens, inTenMinutes } = setup();
    const props = {
      owner: 'u',
      action: 'a',
      value: '1',
      remainingUses: 2,
      expiresAt: inTenMinutes,
      overwrite: false,
    };
    await tokens.createNew(props);
    const err = await caught(tokens.createNew(props));
    expect(err).toBeInstanceOf(TokenAlreadyExistsError);
    expect(err).toBeInstanceOf(BaseTokenError);
    expect(err.message).toBe('Token already exists.');
    expect(err.name).toBe('TokenAlreadyExistsError');
    const t = await tokens.createNew({ ...props, value: '2', overwrite: true });
    expect(t.remainingUses).toBe(2);
  });

  it('uses a token, charging wrong values, with the seed messages', async () => {
    const { tokens, inTenMinutes } = setup();
    await tokens.createNew({
      owner: 'u',
      action: 'a',
      value: '42',
      remainingUses: 2,
      expiresAt: inTenMinutes,
      overwrite: false,
    });
    const wrong = await caught(tokens.use({ owner: 'u', action: 'a', value: '41' }));
    expect(wrong).toBeInstanceOf(TokenInvalidError);
    expect(wrong.message).toBe('Token is invalid.');
    const ok = await tokens.use({ owner: 'u', action: 'a', value: '42', drainWhenValid: false });
    expect(ok.remainingUses).toBe(0);
    expect(ok.value).toBe('42');
    const used = await caught(tokens.use({ owner: 'u', action: 'a', value: '42' }));
    expect(used).toBeInstanceOf(TokenAlreadyUsedUpError);
    expect(used.message).toBe('Token cannot be used anymore.');
  });

  it('keeps uses by default and drains with drainWhenValid', async () => {
    const { tokens, inTenMinutes } = setup();
    await tokens.createNew({
      owner: 'u',
      action: 'a',
      value: 'v',
      remainingUses: 3,
      expiresAt: inTenMinutes,
      overwrite: false,
    });
    expect((await tokens.use({ owner: 'u', action: 'a', value: 'v' })).remainingUses).toBe(2);
    expect(
      (await tokens.use({ owner: 'u', action: 'a', value: 'v', drainWhenValid: true }))
        .remainingUses,
    ).toBe(0);
  });

  it('reports missing and expired tokens with the seed classes', async () => {
    const { tokens, clock, inTenMinutes } = setup();
    const missing = await caught(tokens.use({ owner: 'u', action: 'a', value: 'v' }));
    expect(missing).toBeInstanceOf(TokenDoesNotExistError);
    expect(missing.message).toBe('Token not found.');
    await tokens.createNew({
      owner: 'u',
      action: 'a',
      value: 'v',
      remainingUses: 1,
      expiresAt: inTenMinutes,
      overwrite: false,
    });
    clock.advance(600_000);
    const expired = await caught(tokens.use({ owner: 'u', action: 'a', value: 'v' }));
    expect(expired).toBeInstanceOf(ExpiredTokenError);
    expect(expired.message).toBe('Token has expired.');
    const peeked = await caught(tokens.peek({ owner: 'u', action: 'a' }));
    expect(peeked).toBeInstanceOf(ExpiredTokenError);
  });

  it('peeks without using and drains silently', async () => {
    const { tokens, inTenMinutes } = setup();
    await tokens.createNew({
      owner: 'u',
      action: 'a',
      value: 'v',
      remainingUses: 2,
      expiresAt: inTenMinutes,
      overwrite: false,
    });
    expect((await tokens.peek({ owner: 'u', action: 'a' })).remainingUses).toBe(2);
    expect(await tokens.drain({ owner: 'u', action: 'a' })).toBeUndefined();
    expect(await tokens.drain({ owner: 'u', action: 'a' })).toBeUndefined();
    expect(await caught(tokens.peek({ owner: 'u', action: 'a' }))).toBeInstanceOf(
      TokenDoesNotExistError,
    );
  });

  it('uses long values without the owner, but never short codes', async () => {
    const { tokens, inTenMinutes } = setup();
    const link = 'Zx8r1vQ0pLk2m9N3b7C4d6E5f';
    await tokens.createNew({
      owner: 'u',
      action: 'magic',
      value: link,
      remainingUses: 1,
      expiresAt: inTenMinutes,
      overwrite: false,
    });
    expect((await tokens.use({ action: 'magic', value: link })).owner).toBe('u');
    await tokens.createNew({
      owner: 'u',
      action: 'otp',
      value: '123456',
      remainingUses: 5,
      expiresAt: inTenMinutes,
      overwrite: false,
    });
    expect(
      await caught(tokens.use({ owner: null, action: 'otp', value: '123456' })),
    ).toBeInstanceOf(TokenDoesNotExistError);
  });

  it('throttles creation with the seed message, and a second key in the same step', async () => {
    const { tokens, clock, inTenMinutes } = setup();
    const props = {
      owner: 'u',
      action: 'a',
      value: 'v',
      remainingUses: 1,
      expiresAt: inTenMinutes,
      overwrite: true,
    };
    await tokens.createNewWithThrottling({ ...props, throttle: { id: 'u', windowSeconds: 60 } });
    const err = await caught(
      tokens.createNewWithThrottling({ ...props, throttle: { id: 'u', windowSeconds: 60 } }),
    );
    expect(err).toBeInstanceOf(TokenThrottledError);
    expect(err.message).toBe('Too many requests. Try again later.');
    expect((err as TokenThrottledError).retryAfterSeconds).toBe(60);
    clock.advance(60_000);
    const ip = { id: 'ip:198.51.100.7', windowSeconds: 3600 };
    await tokens.createNewWithThrottling({
      ...props,
      throttle: { id: 'u', windowSeconds: 60, also: [ip] },
    });
    const byIp = await caught(
      tokens.createNewWithThrottling({
        ...props,
        owner: 'other',
        throttle: { id: 'other', windowSeconds: 60, also: [ip] },
      }),
    );
    expect(byIp).toBeInstanceOf(TokenThrottledError);
  });

  it('turns bad create input into MalformedTokenError with the seed message', async () => {
    const { tokens, inTenMinutes } = setup();
    const base = {
      owner: 'u',
      action: 'a',
      value: 'v',
      remainingUses: 1,
      expiresAt: inTenMinutes,
      overwrite: false,
    };
    for (const bad of [
      { ...base, owner: '' },
      { ...base, remainingUses: -1 },
      { ...base, expiresAt: 'tomorrow' as unknown as Date },
      { ...base, expiresAt: new Date(Number.NaN) },
      { ...base, expiresAt: new Date(0) },
    ]) {
      const err = await caught(tokens.createNew(bad));
      expect(err).toBeInstanceOf(MalformedTokenError);
      expect(err.message).toBe(
        'Unexpected error occurred while creating token. Token has not been created.',
      );
    }
  });

  it('locks guessing across resends with TokenThrottledError', async () => {
    const { tokens, inTenMinutes } = setup();
    const props = {
      owner: 'u',
      action: 'otp',
      value: '999999',
      remainingUses: 5,
      expiresAt: inTenMinutes,
      overwrite: true,
    };
    for (let round = 0; round < 2; round++) {
      await tokens.createNew(props);
      for (let i = 0; i < 5; i++)
        await caught(tokens.use({ owner: 'u', action: 'otp', value: `00000${i}` }));
    }
    await tokens.createNew(props);
    expect(await caught(tokens.use({ owner: 'u', action: 'otp', value: '999999' }))).toBeInstanceOf(
      TokenThrottledError,
    );
  });

  it('keeps the seed base error behaviour for non-string messages', () => {
    const err = new TokenInvalidError({ why: 'x' });
    expect(err.message).toBe('{"why":"x"}');
    expect(err.stringified).toBe(true);
    expect(new TokenInvalidError('m').stringified).toBe(false);
  });
});
