import { describe, expect, it } from 'vitest';
import { createSeedDb, TokenTables } from '../../src/compat/session-tokens/index.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';

// What the facade does without touching a store. Every behaviour on data runs
// on every store through the conformance suite (src/testing/session-tokens-compat-suite.ts).
describe('compat: session_tokens TokenTables (construction)', () => {
  it('makes CSPRNG tokens with a prefix, and takes a custom creator (falsy resets it)', () => {
    const tables = new TokenTables(createMemoryStore());
    expect(tables.create_token()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tables.create_token('p-')).toMatch(/^p-[A-Za-z0-9_-]{43}$/);
    expect(tables.create_token()).not.toBe(tables.create_token());
    tables.set_token_creator((p) => `${p ?? ''}fixed-token-0123456789abcdef`);
    expect(tables.create_token('x')).toBe('xfixed-token-0123456789abcdef');
    tables.set_token_creator(null);
    expect(tables.create_token()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('takes the creator as the second constructor argument', () => {
    const tables = new TokenTables(createMemoryStore(), () => 'made-by-the-app-0123456789abc');
    expect(tables.create_token()).toBe('made-by-the-app-0123456789abc');
  });

  it('refuses a plain seed DB, which cannot make writes atomic', () => {
    const seedDb = {
      set_session_key_value: async () => 'h',
      del_session_key_value: async () => true,
      set_key_value: () => {},
      get_key_value: async () => false,
      del_key_value: () => {},
      check_hash: async () => true,
    };
    expect(() => new TokenTables(seedDb as never)).toThrow(TypeError);
  });

  it('refuses option timeouts out of range, and Infinity where never is impossible', () => {
    const store = createMemoryStore();
    const bad = [
      { sessionTimeoutMs: 0 },
      { tokenTimeoutMs: 1.5 },
      { detachTimeoutMs: 3651 * 24 * 3_600_000 },
      { disownmentTimeoutMs: Number.POSITIVE_INFINITY },
      { activityIntervalMs: Number.POSITIVE_INFINITY },
    ];
    for (const options of bad) {
      expect(() => new TokenTables(store, null, options)).toThrow(RangeError);
      expect(() => createSeedDb(store, options)).toThrow(RangeError);
    }
    expect(
      () => new TokenTables(store, null, { sessionTimeoutMs: Number.POSITIVE_INFINITY }),
    ).not.toThrow();
  });

  it('has no timers: shutdown and decrement_timers do nothing', () => {
    const tables = new TokenTables(createMemoryStore());
    expect(tables.shutdown()).toBeUndefined();
    expect(tables.decrement_timers()).toBeUndefined();
  });
});
