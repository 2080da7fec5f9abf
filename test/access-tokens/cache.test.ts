import { describe, expect, it } from 'vitest';
import { type CacheEntry, createVerifyCache } from '../../src/access-tokens/cache.js';

const entry = (n: number) =>
  ({ record: { version: n }, token: {}, verified: [] }) as unknown as CacheEntry;

describe('verify cache', () => {
  it('keeps an entry for ttlMs on the caller clock', () => {
    const cache = createVerifyCache(1000, 10);
    const t = cache.begin('a');
    cache.end(t, entry(1), 5000);
    expect(cache.get('a', 5999)?.record.version).toBe(1);
    expect(cache.get('a', 6000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops the oldest entries past maxEntries', () => {
    const cache = createVerifyCache(1000, 2);
    for (const id of ['a', 'b', 'c']) cache.end(cache.begin(id), entry(1), 0);
    expect(cache.get('a', 1)).toBeUndefined();
    expect(cache.get('b', 1)).toBeDefined();
    expect(cache.get('c', 1)).toBeDefined();
  });

  it('never caches a read that an invalidation overtook', () => {
    const cache = createVerifyCache(1000, 10);
    const slow = cache.begin('a');
    cache.invalidate('a');
    cache.end(slow, entry(1), 0);
    expect(cache.get('a', 1)).toBeUndefined();
    const after = cache.begin('a');
    cache.end(after, entry(2), 0);
    expect(cache.get('a', 1)?.record.version).toBe(2);
    const pending = cache.begin('a');
    cache.clear();
    cache.end(pending, entry(3), 0);
    expect(cache.get('a', 1)).toBeUndefined();
  });

  it('replaces an entry only if it is still the cached one', () => {
    const cache = createVerifyCache(1000, 10);
    const first = entry(1);
    cache.end(cache.begin('a'), first, 0);
    cache.replace('a', first, entry(2));
    expect(cache.get('a', 1)?.record.version).toBe(2);
    cache.replace('a', first, entry(3));
    expect(cache.get('a', 1)?.record.version).toBe(2);
    cache.invalidate('a');
    cache.replace('a', first, entry(4));
    expect(cache.get('a', 1)).toBeUndefined();
  });
});
