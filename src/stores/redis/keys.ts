/**
 * Key names of the Redis store. Every name starts with a hash tag that the
 * store controls, so keys that one script touches always share a cluster slot:
 *
 * | what                          | key                                   |
 * | ----------------------------- | ------------------------------------- |
 * | a record (hash)               | `{P:part}:r:<collection>:<key>`       |
 * | answer of one write (string)  | `{P:part}:w:<write id>` (short PX)    |
 * | entries of a collection       | `{P:c}:lz` (zset), `{P:c}:lh` (hash)  |
 * | expiry hints of a collection  | `{P:c}:x` (zset, score = expiresAt)   |
 * | entries of one index value    | `{P:c:i:name:value}:iz`, `...:ih`     |
 * | known collections, layout     | `{P}:cols` (set), `{P}:meta` (hash)   |
 * | event channel                 | `P:ev:<channel>` (pub/sub)            |
 *
 * `P` is the prefix with `%`, `{` and `}` percent-encoded; in `part` and
 * `value` `:` is percent-encoded as well, so a name parses back
 * uniquely from the right and no tag can end early. Record keys, partitions
 * and index values never hold secrets (the contract requires hashing them
 * first), so nothing here is secret either.
 * @module
 */

const PREFIX_ESCAPES: Record<string, string> = { '%': '%25', '{': '%7B', '}': '%7D' };
const PART_ESCAPES: Record<string, string> = { ...PREFIX_ESCAPES, ':': '%3A' };

function escapeWith(s: string, table: Record<string, string>, re: RegExp): string {
  return s.replace(re, (c) => table[c] ?? c);
}

/** Percent-encode what would let a value end a hash tag or a name component. */
export function escapePart(s: string): string {
  return escapeWith(s, PART_ESCAPES, /[%{}:]/g);
}

/** The separator between a record's key and its partition in entry members. */
const MEMBER_SEP = '\u0000';

/** An entry member names one record of a collection: `key NUL partition`. */
export function memberOf(key: string, partition: string): string {
  return `${key}${MEMBER_SEP}${partition}`;
}

/** Split a member back into key and partition (`null` for a malformed one). */
export function parseMember(member: string): { key: string; partition: string } | null {
  const i = member.indexOf(MEMBER_SEP);
  if (i <= 0 || i === member.length - 1) return null;
  return { key: member.slice(0, i), partition: member.slice(i + 1) };
}

/** The key names of one store (one prefix). */
export interface KeyLayout {
  /** The escaped prefix, as it appears in names. */
  readonly prefix: string;
  /** Hash tag of a partition's records (of every collection). */
  recordTag(partition: string): string;
  /** The hash holding one record. */
  record(collection: string, partition: string, key: string): string;
  /** The answer of one applied write to a partition, kept a short while (see `write-once.ts`). */
  written(partition: string, writeId: string): string;
  /** Hash tag of a collection's entry set and expiry hints. */
  collectionTag(collection: string): string;
  /** Sorted set (all scores 0) of every record of a collection, by member. */
  listZ(collection: string): string;
  /** Hash member → entry state, beside {@link listZ}. */
  listH(collection: string): string;
  /** Sorted set member → expiresAt (a hint for `sweep`). */
  expiry(collection: string): string;
  /** Hash tag of one index value. */
  indexTag(collection: string, name: string, value: string): string;
  /** Sorted set (all scores 0) of the records carrying one index value. */
  indexZ(collection: string, name: string, value: string): string;
  /** Hash member → entry state, beside {@link indexZ}. */
  indexH(collection: string, name: string, value: string): string;
  /** Set of collection names that ever held a record (for `sweep`). */
  collections(): string;
  /** Hash with the layout version (written by `migrate`). */
  meta(): string;
  /** Pub/sub channel name of an event channel. */
  channel(channel: string): string;
  /** Glob that matches every key of this prefix (for tests and tooling). */
  pattern(): string;
}

/**
 * Build the key layout of a prefix.
 * @param prefix - the deployment prefix (1..64 characters, no control characters)
 * @example `keyLayout('tessera').record('pats', 'p1', 'k1') // '{tessera:p1}:r:pats:k1'`
 */
export function keyLayout(prefix: string): KeyLayout {
  const P = escapeWith(prefix, PREFIX_ESCAPES, /[%{}]/g);
  const recordTag = (part: string) => `{${P}:${escapePart(part)}}`;
  const collectionTag = (c: string) => `{${P}:${c}}`;
  const indexTag = (c: string, name: string, value: string) =>
    `{${P}:${c}:i:${name}:${escapePart(value)}}`;
  return {
    prefix: P,
    recordTag,
    record: (c, part, key) => `${recordTag(part)}:r:${c}:${key}`,
    written: (part, id) => `${recordTag(part)}:w:${id}`,
    collectionTag,
    listZ: (c) => `${collectionTag(c)}:lz`,
    listH: (c) => `${collectionTag(c)}:lh`,
    expiry: (c) => `${collectionTag(c)}:x`,
    indexTag,
    indexZ: (c, n, v) => `${indexTag(c, n, v)}:iz`,
    indexH: (c, n, v) => `${indexTag(c, n, v)}:ih`,
    collections: () => `{${P}}:cols`,
    meta: () => `{${P}}:meta`,
    channel: (ch) => `${P}:ev:${ch}`,
    pattern: () => `{${P.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}[:}]*`,
  };
}
