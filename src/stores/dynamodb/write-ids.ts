/**
 * Write ids: how every write of the DynamoDB store applies at most once.
 *
 * An AWS SDK client re-sends a request whose answer was lost (a 5xx, a
 * timeout, a reset connection: by default up to three attempts), and so does
 * the store for its own requests. A conditional write whose first copy was
 * applied would then be applied again whenever its condition still holds:
 * one `use()` would spend two uses. So:
 *
 * - each store call draws one random write id (72 bits); every request it
 *   sends writes it to the item's `w`, moving the ids already there one place
 *   down `w1`..`w3` (see {@link WRITE_ID_ATTRIBUTES}); a request that creates
 *   the record (`update` with `orCreate`) also writes it to `wc`, so a
 *   recognized copy answers `created` as the first application did;
 * - a write whose condition does not pin the item as read (the native
 *   single-request writes) also requires that none of `w`..`w3` holds the
 *   call's id (a flat chain of comparisons, {@link notWrittenBy}), so a copy
 *   arriving after the call was applied is refused; a pinned write
 *   (read-modify-write, transactions) is refused anyway, since its first
 *   application changed what it pins;
 * - after a refused condition the store reads the item (consistently, or
 *   takes the item DynamoDB returns with the failure): when it holds the
 *   call's id, the call was applied, and it answers success from the item.
 *
 * Precisely: a copy of a request is never applied after its call was applied
 * while the item still holds the call's id, that is unless four or more other
 * writes reached the item in between (three are recognized), or the item was
 * deleted in between. In those cases the copy is judged on what is there, as
 * a new request: an `insert` or `upsert` may create the record again, an
 * `update` may apply to a record created since, or find nothing and answer
 * `ok: false`. When no other write came in between, the answer is exactly the
 * first application's; otherwise it is success with the record as it is now
 * (the later writes included). A copy follows a lost answer within the
 * client's retry delays (the SDK's default: under a second or two), so only
 * an item that four other callers write within that window (a hot throttle
 * counter, say) can miss it.
 *
 * Deletes leave no item to hold an id: the store sends them as one-item
 * `TransactWriteItems` with a `ClientRequestToken`, which DynamoDB answers with
 * success, applying nothing, when a copy arrives within ten minutes of the
 * first (see `delete.ts`).
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Item } from './attribute-values.js';
import type { Expr } from './expression-text.js';
import { WRITE_ID_ATTRIBUTES } from './table-design.js';

/** The attribute holding the id of the last call that created the record with `update ... orCreate`. */
export const CREATED_BY_ATTRIBUTE = 'wc';

/** A new random write id for one store call (9 random bytes, base64url: 12 characters). */
export function newWriteId(): string {
  return randomBytes(9).toString('base64url');
}

/** What an item's write ids say about a call. */
export interface Applied {
  /** The call's write is the item's latest (the item is what it wrote). */
  readonly latest: boolean;
  /** The applied request created the record. */
  readonly created: boolean;
}

/** The write ids of a generic-table item, newest first. */
export function itemStamps(item: Item | null): string[] {
  if (item === null) return [];
  const out: string[] = [];
  for (const a of WRITE_ID_ATTRIBUTES) {
    const s = item[a]?.S;
    if (s !== undefined) out.push(s);
  }
  return out;
}

/**
 * Whether a generic-table item holds call `id`'s write.
 * @returns null when it does not
 */
export function appliedIn(item: Item | null, id: string): Applied | null {
  const i = itemStamps(item).indexOf(id);
  if (i < 0) return null;
  return { latest: i === 0, created: item?.[CREATED_BY_ATTRIBUTE]?.S === id };
}

/**
 * The ids a write keeps below its own, given the item's ids before it (newest
 * first): the newest three.
 */
export function keptStamps(before: readonly string[]): string[] {
  return before.slice(0, WRITE_ID_ATTRIBUTES.length - 1);
}

/**
 * `NOT #w = :id AND ... NOT #w3 = :id`: no write of call `id` reached the item
 * (a comparison with a missing attribute is false, so NOT makes it hold). A
 * flat chain without function calls, like the rest of the store's conditions.
 */
export function notWrittenBy(e: Expr, id: string): string {
  const v = e.value({ S: id });
  return WRITE_ID_ATTRIBUTES.map((a) => `NOT ${e.name(a)} = ${v}`).join(' AND ');
}

/**
 * The SET actions that write call `id` to `w` and move the ids there one
 * place down (DynamoDB evaluates every operand on the item before the update;
 * a missing id is filled with `id` itself, which names no other call), and to
 * `wc` when the write creates the record.
 */
export function shiftStamps(e: Expr, id: string, created = false): string[] {
  const v = e.value({ S: id });
  const out = [`${e.name(WRITE_ID_ATTRIBUTES[0])} = ${v}`];
  for (let i = 1; i < WRITE_ID_ATTRIBUTES.length; i++) {
    const prev = e.name(WRITE_ID_ATTRIBUTES[i - 1] as string);
    out.push(`${e.name(WRITE_ID_ATTRIBUTES[i] as string)} = if_not_exists(${prev}, ${v})`);
  }
  if (created) out.push(`${e.name(CREATED_BY_ATTRIBUTE)} = ${v}`);
  return out;
}

/**
 * The write id an existing-table layout stores for a request of call `id`:
 * the id and whether the request creates the record (`c`, else `u`), since a
 * layout keeps no `wc`. Layout writes are all pinned, so no condition compares it.
 * @example `layoutStamp('q3G0bXk1Zt9A', true) // 'q3G0bXk1Zt9Ac'`
 */
export function layoutStamp(id: string, created: boolean): string {
  return `${id}${created ? 'c' : 'u'}`;
}

/**
 * Whether a layout's write ids (newest first, from {@link layoutStamp}) hold
 * call `id`'s write.
 * @returns null when they do not
 */
export function appliedInStamps(stamps: readonly string[], id: string): Applied | null {
  for (let i = 0; i < stamps.length; i++) {
    const s = stamps[i] as string;
    if (s.length === id.length + 1 && s.startsWith(id)) {
      return { latest: i === 0, created: s.endsWith('c') };
    }
  }
  return null;
}
