import { describe, expect, it } from 'vitest';
import { generateTokenId } from '../../src/access-tokens/format.js';
import { collectPage, decodeListCursor, encodeListCursor } from '../../src/access-tokens/paging.js';
import type { Page, StoredRecord } from '../../src/stores/contract.js';

const rec = (key: string) => ({ key }) as StoredRecord;

/** A fake store listing `keys` in pages of `size` (cursor = index as text). */
function pages(keys: string[], size: number) {
  const calls: Array<[string | null, number]> = [];
  const fetch = async (cursor: string | null, limit: number): Promise<Page> => {
    calls.push([cursor, limit]);
    const start = cursor === null ? 0 : Number(cursor);
    const n = Math.min(size, limit);
    const records = keys.slice(start, start + n).map(rec);
    return { records, cursor: start + n < keys.length ? String(start + n) : null };
  };
  return { fetch, calls };
}

describe('list cursors', () => {
  it('round-trip and reject anything else', () => {
    const id = generateTokenId();
    for (const pos of [
      { storeCursor: null, after: null },
      { storeCursor: 'abc', after: id },
    ]) {
      expect(decodeListCursor(encodeListCursor(pos))).toEqual(pos);
    }
    for (const bad of ['', 'x', '!!', encodeListCursor({ storeCursor: '', after: null }), 7]) {
      expect(() => decodeListCursor(bad)).toThrow(/cursor/);
    }
    const notAnId = Buffer.from(JSON.stringify([null, 'nope'])).toString('base64url');
    expect(() => decodeListCursor(notAnId)).toThrow(/cursor/);
  });

  it('resumes in the middle of a store page without losing or repeating records', async () => {
    const keys = Array.from({ length: 10 }, () => generateTokenId()).sort();
    const { fetch } = pages(keys, 4);
    const seen: string[] = [];
    let position = { storeCursor: null as string | null, after: null as string | null };
    for (;;) {
      const { items, cursor } = await collectPage(fetch, position, 3, (r) =>
        r.key === keys[5] ? undefined : r.key,
      );
      seen.push(...items);
      if (cursor === null) break;
      position = decodeListCursor(cursor);
    }
    expect(seen).toEqual(keys.filter((k) => k !== keys[5]));
  });

  it('returns a null cursor when the last item ends the last page', async () => {
    const { fetch } = pages(['a', 'b'], 10);
    expect(await collectPage(fetch, { storeCursor: null, after: null }, 2, (r) => r.key)).toEqual({
      items: ['a', 'b'],
      cursor: null,
    });
  });

  it('skips records at or before `after`', async () => {
    const { fetch } = pages(['a', 'b', 'c', 'd'], 2);
    const r = await collectPage(fetch, { storeCursor: null, after: 'b' }, 5, (x) => x.key);
    expect(r).toEqual({ items: ['c', 'd'], cursor: null });
  });
});
