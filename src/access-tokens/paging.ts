/**
 * Paging over store pages: exact page sizes, a cursor that resumes even in the
 * middle of a store page, and `afterTokenId`. A cursor is the store's own
 * (opaque) cursor of the page to read next plus the last token id returned;
 * records at or before that id are skipped, which keeps the order stable
 * because every store lists in ascending key order.
 * @module
 */
import { InvalidInputError } from '../core/errors.js';
import type { Page, StoredRecord } from '../stores/contract.js';
import { isTokenId } from './format.js';

/** Where a listing resumes. */
export interface ListPosition {
  /** The store cursor of the page to read (null: the first page). */
  readonly storeCursor: string | null;
  /** Skip records whose key is at or before this id. */
  readonly after: string | null;
}

/** Encode a position as an opaque cursor. */
export function encodeListCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.storeCursor, position.after]), 'utf8').toString(
    'base64url',
  );
}

/**
 * Decode a cursor made by {@link encodeListCursor}.
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for any other string
 */
export function decodeListCursor(cursor: unknown): ListPosition {
  const bad = () => new InvalidInputError('cursor is not one this module returned', 'cursor');
  if (typeof cursor !== 'string' || cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw bad();
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(value) || value.length !== 2) throw bad();
  const [storeCursor, after] = value as [unknown, unknown];
  if (storeCursor !== null && (typeof storeCursor !== 'string' || storeCursor.length === 0)) {
    throw bad();
  }
  if (after !== null && !isTokenId(after)) throw bad();
  const position = { storeCursor: storeCursor as string | null, after: after as string | null };
  if (encodeListCursor(position) !== cursor) throw bad();
  return position;
}

/**
 * Collect up to `limit` accepted records, reading store pages from `start`.
 *
 * @param fetch - reads one store page
 * @param start - where to begin
 * @param limit - how many items to return, 1..1000
 * @param accept - maps a record to an item, or `undefined` to skip it
 * @returns the items and the cursor of what follows (`null` at the end)
 */
export async function collectPage<T>(
  fetch: (storeCursor: string | null, limit: number) => Promise<Page>,
  start: ListPosition,
  limit: number,
  accept: (record: StoredRecord) => T | undefined,
): Promise<{ items: T[]; cursor: string | null }> {
  const items: T[] = [];
  const after = start.after;
  let storeCursor = start.storeCursor;
  for (;;) {
    const want = limit - items.length;
    const page = await fetch(storeCursor, Math.min(1000, after === null ? want : want + 100));
    const records = page.records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (after !== null && record.key <= after) continue;
      const item = accept(record);
      if (item === undefined) continue;
      items.push(item);
      if (items.length === limit) {
        const lastOfPage = i === records.length - 1;
        if (lastOfPage) {
          return {
            items,
            cursor:
              page.cursor === null
                ? null
                : encodeListCursor({ storeCursor: page.cursor, after: record.key }),
          };
        }
        return { items, cursor: encodeListCursor({ storeCursor, after: record.key }) };
      }
    }
    if (page.cursor === null) return { items, cursor: null };
    storeCursor = page.cursor;
  }
}
