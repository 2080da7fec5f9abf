import { describe, expect, it } from 'vitest';
import { createActionTokens } from '../../src/action-tokens/index.js';
import { createTokenAddresses } from '../../src/action-tokens/records.js';
import { createValueHasher } from '../../src/action-tokens/value-hash.js';
import { createFakeClock } from '../../src/core/clock.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { testKeyring } from '../../src/testing/action-tokens-suite.js';

describe('action token records', () => {
  it('keep owner and action in the key only, and give them back on every read', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock();
    const tokens = createActionTokens({ store, keyring: testKeyring(), clock });
    const owner = 'a:b%c/é@example.com';
    const { value } = await tokens.create({
      owner,
      action: 're:set',
      generate: { kind: 'secret' },
    });
    const { records } = await store.list('action');
    expect(records).toHaveLength(1);
    expect(records[0]?.key).toBe(`k:re%3Aset:${encodeURIComponent(owner)}`);
    expect(records[0]?.partition).toBe('a:re%3Aset');
    expect(Object.keys(records[0]?.data ?? {}).sort()).toEqual([
      'createdAt',
      'failures',
      'kid',
      'lockedUntil',
      'lookup',
      'remainingUses',
      'valueHash',
    ]);
    expect(await tokens.peek({ owner, action: 're:set' })).toMatchObject({
      owner,
      action: 're:set',
    });
    // Use by value alone recovers the owner from the key.
    const used = await tokens.use({ action: 're:set', value });
    expect(used).toMatchObject({ owner, action: 're:set', remainingUses: 0 });
  });

  it('still read records that carry owner and action as fields', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock();
    const keyring = testKeyring();
    const tokens = createActionTokens({ store, keyring, clock });
    const hasher = createValueHasher(keyring, 'action-tokens');
    const lookup = hasher.digest(['action-token-lookup', 'login', 'v'.repeat(43)]);
    await store.put(
      {
        collection: 'action',
        key: 'k:login:u1',
        partition: 'a:login',
        data: {
          owner: 'u1',
          action: 'login',
          valueHash: hasher.digest(['action-token', 'u1', 'login', 'v'.repeat(43)]),
          kid: 'k1',
          remainingUses: 2,
          createdAt: clock.now(),
          lookup: true,
          failures: 0,
          lockedUntil: 0,
        },
        expiresAt: clock.now() + 60_000,
        index: { lookup },
      },
      { mode: 'insert', now: clock.now() },
    );
    expect((await tokens.peek({ owner: 'u1', action: 'login' })).remainingUses).toBe(2);
    const r = await tokens.tryUse({
      action: 'login',
      value: 'v'.repeat(43),
      drainWhenValid: false,
    });
    expect(r).toMatchObject({
      valid: true,
      token: { owner: 'u1', action: 'login', remainingUses: 1 },
    });
  });

  it('tell the owner of a key only for keys of the same action', () => {
    const at = createTokenAddresses('action');
    const login = at.names('login');
    expect(at.ownerOf(login, at.tokenRef(login, 'x:y').key)).toBe('x:y');
    expect(at.ownerOf(login, at.tokenRef(at.names('login2'), 'x').key)).toBeNull();
    expect(at.ownerOf(login, 'k:login:%E0%A4%A')).toBeNull();
    expect(at.ownerOf(login, at.throttleRef(login, 'x').key)).toBeNull();
  });

  it('escape each part of a key exactly as encodeURIComponent does, character by character', () => {
    const at = createTokenAddresses('action');
    const login = at.names('login');
    const chars = Array.from({ length: 0x250 }, (_, c) => String.fromCharCode(c));
    for (const owner of [...chars.map((c) => `u${c}v`), 'plain-Owner_1.x!~*()', '𝄞', '€']) {
      expect(at.tokenRef(login, owner).key).toBe(`k:login:${encodeURIComponent(owner)}`);
    }
  });

  it('refuse a bad action name even after many good ones were cached', () => {
    const at = createTokenAddresses('action');
    for (let i = 0; i < 2000; i++) at.names(`a${i}`);
    expect(() => at.names('bad\u0000name')).toThrow(
      expect.objectContaining({ code: 'ERR_TESSERA_INVALID_INPUT' }),
    );
    expect(() => at.names(42)).toThrow(
      expect.objectContaining({ code: 'ERR_TESSERA_INVALID_INPUT' }),
    );
    expect(at.names('a1999').partition).toBe('a:a1999');
  });
});
