/**
 * The list and index entries kept beside the records, in other hash tags than
 * the records themselves: what a write adds before its record step (`pre`),
 * and settles or removes after it. See the design notes in `redis-store.ts`.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { RecordMeta } from './codec.js';
import type { KeyLayout } from './keys.js';
import { memberOf } from './keys.js';
import type { RedisClient } from './options.js';
import { runScript, SCRIPTS } from './scripts.js';

/** A sorted set and its state hash: one list or one index value. */
interface EntrySet {
  readonly tag: string;
  readonly z: string;
  readonly h: string;
}

interface Group {
  readonly keys: string[];
  readonly pos: Map<string, number>;
  readonly ops: unknown[][];
}

/** Entry ops grouped by hash tag: one script call per tag. */
export class EntryBatch {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly keys: KeyLayout) {}

  /** The entry set of a collection's list. */
  list(collection: string): EntrySet {
    return {
      tag: this.keys.collectionTag(collection),
      z: this.keys.listZ(collection),
      h: this.keys.listH(collection),
    };
  }

  /** The entry set of one index value. */
  index(collection: string, name: string, value: string): EntrySet {
    return {
      tag: this.keys.indexTag(collection, name, value),
      z: this.keys.indexZ(collection, name, value),
      h: this.keys.indexH(collection, name, value),
    };
  }

  private group(tag: string): Group {
    let g = this.groups.get(tag);
    if (g === undefined) {
      g = { keys: [], pos: new Map(), ops: [] };
      this.groups.set(tag, g);
    }
    return g;
  }

  private slot(g: Group, key: string): number {
    let i = g.pos.get(key);
    if (i === undefined) {
      g.keys.push(key);
      i = g.keys.length;
      g.pos.set(key, i);
    }
    return i;
  }

  /** Add an entry op (`pre`, `settle`, `rm`, `repair`) on a set. */
  add(set: EntrySet, op: string, member: string, ...rest: Array<string | number>): void {
    const g = this.group(set.tag);
    g.ops.push([op, this.slot(g, set.z), this.slot(g, set.h), member, ...rest]);
  }

  /** Set the expiry hint of a record. */
  xadd(collection: string, member: string, expiresAt: number): void {
    const g = this.group(this.keys.collectionTag(collection));
    g.ops.push(['xadd', this.slot(g, this.keys.expiry(collection)), member, expiresAt]);
  }

  /** Remove the expiry hint of a record. */
  xrem(collection: string, member: string): void {
    const g = this.group(this.keys.collectionTag(collection));
    g.ops.push(['xrem', this.slot(g, this.keys.expiry(collection)), member]);
  }

  /** Whether there is nothing to run. */
  get empty(): boolean {
    return this.groups.size === 0;
  }

  /**
   * Run every group, in parallel. Returns the tags whose call succeeded and the
   * first error (if any).
   */
  async run(client: RedisClient): Promise<{ done: Set<string>; error: unknown }> {
    const done = new Set<string>();
    let error: unknown = null;
    await Promise.all(
      [...this.groups].map(async ([tag, g]) => {
        try {
          await runScript(client, SCRIPTS.entries, g.keys, [JSON.stringify(g.ops)]);
          done.add(tag);
        } catch (err) {
          error ??= err;
        }
      }),
    );
    return { done, error };
  }

  /** A batch with only the groups whose tags are in `tags`. */
  only(tags: ReadonlySet<string>): EntryBatch {
    const b = new EntryBatch(this.keys);
    for (const [tag, g] of this.groups) if (tags.has(tag)) b.groups.set(tag, g);
    return b;
  }
}

/** What a write op may create or index, known before the record step. */
export interface EntryIntent {
  readonly collection: string;
  readonly key: string;
  readonly partition: string;
  /** The op may create the record (so it needs a list entry first). */
  readonly mayCreate: boolean;
  /** Index values the op may give the record. */
  readonly indexValues: ReadonlyArray<readonly [string, string]>;
}

/** Entries a write pre-adds; kept so the same ones can be settled afterwards. */
export interface PreAdds {
  readonly batch: EntryBatch;
  /** The writer's nonce: its `pre` and `settle` ops name it, so a second delivery of either changes nothing. */
  readonly nonce: string;
  readonly items: ReadonlyArray<{
    readonly op: number;
    readonly set: EntrySet;
    readonly member: string;
    readonly indexName: string | null;
    readonly value: string | null;
  }>;
}

/** Plan the `pre` ops of a write (`intents[i]` is op i's, or null when it needs none). */
export function planPre(keys: KeyLayout, intents: ReadonlyArray<EntryIntent | null>): PreAdds {
  const batch = new EntryBatch(keys);
  const items: Array<PreAdds['items'][number]> = [];
  if (intents.every((i) => i === null)) return { batch, nonce: '', items };
  const nonce = randomBytes(8).toString('hex');
  for (const [i, it] of intents.entries()) {
    if (it === null) continue;
    const member = memberOf(it.key, it.partition);
    if (it.mayCreate) {
      const set = batch.list(it.collection);
      batch.add(set, 'pre', member, nonce);
      items.push({ op: i, set, member, indexName: null, value: null });
    }
    const seen = new Set<string>();
    for (const [name, value] of it.indexValues) {
      const id = `${name}\u0000${value}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const set = batch.index(it.collection, name, value);
      batch.add(set, 'pre', member, nonce);
      items.push({ op: i, set, member, indexName: name, value });
    }
  }
  return { batch, nonce, items };
}

/** Settle every pre-add as not committed (the write failed or wrote nothing). */
export function planAbort(keys: KeyLayout, pre: PreAdds, tags?: ReadonlySet<string>): EntryBatch {
  const post = new EntryBatch(keys);
  for (const it of pre.items) {
    if (tags !== undefined && !tags.has(it.set.tag)) continue;
    post.add(it.set, 'settle', it.member, 0, '', 0, pre.nonce);
  }
  return post;
}

/** One op's record before and after a committed write. */
export interface WriteOutcome {
  readonly collection: string;
  readonly member: string;
  /** The record before the write (metadata), or null when there was none. */
  readonly before: RecordMeta | null;
  /** The record after the write, or null when the op deleted it. */
  readonly after: RecordMeta | null;
  /** Whether the op only checked (wrote nothing). */
  readonly checkOnly: boolean;
}

/**
 * Plan what follows a committed write: settle the pre-adds, remove entries of
 * index values the records lost and of deleted records, and move expiry hints.
 */
export function planPost(
  keys: KeyLayout,
  pre: PreAdds,
  outcomes: readonly WriteOutcome[],
): EntryBatch {
  const post = new EntryBatch(keys);
  for (const it of pre.items) {
    const a = outcomes[it.op]?.after ?? null;
    const committed =
      a !== null && (it.indexName === null || a.index[it.indexName] === (it.value as string));
    post.add(
      it.set,
      'settle',
      it.member,
      committed ? 1 : 0,
      a?.incarnation ?? '',
      a?.version ?? 0,
      pre.nonce,
    );
  }
  for (const o of outcomes) {
    if (o.checkOnly) continue;
    const { before: b, after: a, member, collection } = o;
    if (b !== null) {
      const seen = a ?? b;
      for (const [name, value] of Object.entries(b.index)) {
        if (a === null || a.index[name] !== value) {
          post.add(
            post.index(collection, name, value),
            'rm',
            member,
            seen.incarnation,
            seen.version,
          );
        }
      }
      if (a === null) {
        post.add(post.list(collection), 'rm', member, b.incarnation, b.version);
        post.xrem(collection, member);
      }
    }
    if (a !== null && (b === null || a.expiresAt !== b.expiresAt)) {
      if (a.expiresAt !== null) post.xadd(collection, member, a.expiresAt);
      else if (b !== null) post.xrem(collection, member);
    }
  }
  return post;
}
