/**
 * The memory store's get answers a hit before checking the ref (a stored
 * collection and key were checked when written): every ref the full check
 * refuses must still be refused, hit or miss.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/core/errors.js';
import type { RecordRef } from '../../../src/stores/contract.js';
import { createMemoryStore } from '../../../src/stores/memory/index.js';

const NOW = 1_000_000;

async function withRecord() {
  const store = createMemoryStore();
  await store.put(
    { collection: 'c', key: 'k', data: { n: 1 }, expiresAt: null },
    { mode: 'insert', now: NOW },
  );
  return store;
}

describe('memory store: get checks its ref', () => {
  it('returns a stored record, and null for a valid ref with nothing stored', async () => {
    const store = await withRecord();
    expect(await store.get({ collection: 'c', key: 'k' })).toMatchObject({
      collection: 'c',
      key: 'k',
      data: { n: 1 },
      version: 1,
    });
    expect(await store.get({ collection: 'c', key: 'other' })).toBeNull();
    expect(await store.get({ collection: 'other', key: 'k' })).toBeNull();
  });

  it('refuses a malformed partition even when the collection and key hold a record', async () => {
    const store = await withRecord();
    for (const partition of ['', 'a\u0000b', '\ud800', 'x'.repeat(513)]) {
      await expect(store.get({ collection: 'c', key: 'k', partition })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    }
    expect(await store.get({ collection: 'c', key: 'k', partition: 'k' })).not.toBeNull();
  });

  it('refuses malformed refs, collections and keys (none of which can be stored)', async () => {
    const store = await withRecord();
    const bad: unknown[] = [
      null,
      'c/k',
      { collection: 'C', key: 'k' },
      { collection: '', key: 'k' },
      { collection: 1, key: 'k' },
      { collection: 'c', key: '' },
      { collection: 'c', key: 'k\u0001' },
      { collection: 'c', key: '\udc00' },
      { collection: 'c', key: 7 },
      { collection: 'c' },
    ];
    for (const ref of bad) {
      await expect(store.get(ref as RecordRef)).rejects.toMatchObject({
        code: 'ERR_TESSERA_INVALID_INPUT',
      });
    }
  });
});
