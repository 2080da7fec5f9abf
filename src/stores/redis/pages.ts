/**
 * `list`, `findByIndex` and `sweep` of the Redis store: pages of entries read
 * from a sorted set, every hit confirmed against its record, stale entries
 * repaired on the way (see the design notes in `redis-store.ts`).
 * @module
 */
import { InvalidInputError } from '../../core/errors.js';
import type { FieldCondition, ListOptions, Page, StoredRecord } from '../contract.js';
import { matchesField } from '../shared/semantics.js';
import {
  checkCollection,
  checkFieldConditions,
  checkIndexName,
  checkIndexValue,
  checkLimit,
  checkSweepOptions,
} from '../shared/validate.js';
import { EntryBatch } from './entries.js';
import { toStoreError } from './errors.js';
import { type KeyLayout, parseMember } from './keys.js';
import type { RedisClient } from './options.js';
import { runScript, SCRIPTS } from './scripts.js';

/** Entries scanned at most by one `list`/`findByIndex` call before it returns a partial page. */
const SCAN_BUDGET = 5000;
/** Expiry hints read per sweep round. */
const SWEEP_BATCH = 200;

type Address = { collection: string; key: string; partition: string };

/** A sweep step's view of one record: deleted, or what is there instead. */
export type ExpireResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly current: StoredRecord | null };

/** What the pages need from the store. */
export interface PageDeps {
  readonly client: RedisClient;
  readonly keys: KeyLayout;
  readonly enter: () => Promise<void>;
  readonly readRecord: (a: Address) => Promise<StoredRecord | null>;
  readonly background: (fn: () => Promise<unknown>) => Promise<void>;
}

/** Encode a page cursor: the last member read. */
export function encodeMemberCursor(member: string): string {
  return Buffer.from(member, 'utf8').toString('base64url');
}

/**
 * Decode a page cursor.
 * @throws InvalidInputError for a cursor this store did not produce
 */
export function decodeMemberCursor(cursor: string | null | undefined): string | null {
  if (cursor === undefined || cursor === null) return null;
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,8192}$/.test(cursor)) {
    throw new InvalidInputError('invalid cursor', 'cursor');
  }
  const member = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeMemberCursor(member) !== cursor || parseMember(member) === null) {
    throw new InvalidInputError('invalid cursor', 'cursor');
  }
  return member;
}

function matchesAll(r: StoredRecord, fields: readonly FieldCondition[]): boolean {
  for (const c of fields) if (!matchesField(r.data, c)) return false;
  return true;
}

/** Build `list`, `findByIndex` and `sweep` over the store's connection. */
export function createPages(deps: PageDeps) {
  const { client, keys, enter, readRecord, background } = deps;

  async function readPage(
    z: string,
    h: string,
    mode: 'lex' | 'score',
    from: string | number,
    count: number,
  ): Promise<{ members: string[]; states: string[] }> {
    const [members, states] = (await runScript(
      client,
      SCRIPTS.page,
      [z, h],
      [mode, from, count],
    )) as [string[], string[]];
    return { members, states };
  }

  /**
   * One page of a set in member order: read entries after the cursor, confirm
   * each against its record, filter, repair stale entries, stop at `limit`
   * records or the scan budget.
   */
  async function page(
    operation: string,
    collection: string,
    set: { tag: string; z: string; h: string },
    options: ListOptions,
    confirm: (r: StoredRecord) => boolean,
  ): Promise<Page> {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidInputError('options must be an object', 'options');
    }
    const limit = checkLimit(options.limit);
    checkFieldConditions(options.fields);
    const fields = options.fields ?? [];
    const after = decodeMemberCursor(options.cursor);
    await enter();
    try {
      const batch = fields.length === 0 ? limit + 1 : Math.max(limit + 1, 256);
      let from = after === null ? '-' : `(${after}`;
      const records: StoredRecord[] = [];
      let scanned = 0;
      for (;;) {
        const { members, states } = await readPage(set.z, set.h, 'lex', from, batch);
        const found = await Promise.all(
          members.map((m) => {
            const a = parseMember(m);
            return a === null ? null : readRecord({ collection, ...a });
          }),
        );
        const repairs = new EntryBatch(keys);
        let last = '';
        let stop = false;
        let more = false;
        for (const [j, m] of members.entries()) {
          scanned++;
          last = m;
          const r = found[j] ?? null;
          if (r !== null && confirm(r)) {
            if (matchesAll(r, fields)) records.push(r);
          } else {
            repairs.add(set, 'repair', m, states[j] ?? '');
          }
          if (records.length === limit || scanned >= SCAN_BUDGET) {
            stop = true;
            more = j < members.length - 1;
            break;
          }
        }
        if (!repairs.empty) {
          await background(async () => {
            const res = await repairs.run(client);
            if (res.error !== null) throw res.error;
          });
        }
        if (stop) {
          if (!more && members.length === batch) {
            more = (await readPage(set.z, set.h, 'lex', `(${last}`, 1)).members.length > 0;
          }
          return { records, cursor: more ? encodeMemberCursor(last) : null };
        }
        if (members.length < batch) return { records, cursor: null };
        from = `(${last}`;
      }
    } catch (err) {
      throw toStoreError(err, operation);
    }
  }

  return {
    async list(collection: string, options: ListOptions = {}): Promise<Page> {
      checkCollection(collection);
      const set = {
        tag: keys.collectionTag(collection),
        z: keys.listZ(collection),
        h: keys.listH(collection),
      };
      return page('list', collection, set, options, () => true);
    },

    async findByIndex(
      collection: string,
      name: string,
      value: string,
      options: ListOptions = {},
    ): Promise<Page> {
      checkCollection(collection);
      checkIndexName(name);
      checkIndexValue(value);
      const set = {
        tag: keys.indexTag(collection, name, value),
        z: keys.indexZ(collection, name, value),
        h: keys.indexH(collection, name, value),
      };
      return page('findByIndex', collection, set, options, (r) => r.index[name] === value);
    },

    /**
     * Delete records expired at or before `now - graceMs`, at most `limit`.
     * `expireOne` deletes one record if it is still expired at the cutoff
     * (atomically, and cleaning its entries), or reports what is there.
     */
    async sweep(
      now: number,
      options: { limit?: number; graceMs?: number },
      expireOne: (a: Address, cutoff: number) => Promise<ExpireResult>,
    ): Promise<number> {
      const [limit, graceMs] = checkSweepOptions(options);
      const cutoff = now - graceMs;
      await enter();
      let collections: string[];
      try {
        collections = (await client.smembers(keys.collections())).sort();
      } catch (err) {
        throw toStoreError(err, 'sweep');
      }
      let total = 0;
      for (const c of collections) {
        const seen = new Set<string>();
        while (total < limit) {
          const want = Math.min(SWEEP_BATCH, limit - total);
          let hints: { members: string[]; states: string[] };
          try {
            hints = await readPage(keys.expiry(c), keys.listH(c), 'score', cutoff, want);
          } catch (err) {
            throw toStoreError(err, 'sweep');
          }
          const fresh = hints.members.filter((m) => !seen.has(m));
          if (fresh.length === 0) break;
          for (const m of fresh) seen.add(m);
          const fixes = new EntryBatch(keys);
          const list = fixes.list(c);
          const deleted = await Promise.all(
            hints.members.map(async (m, j) => {
              const a = parseMember(m);
              if (a === null) {
                fixes.xrem(c, m);
                return 0;
              }
              const r = await expireOne({ collection: c, ...a }, cutoff);
              if (r.ok) return 1;
              if (r.current === null) {
                // Collected by PXAT (or deleted without cleanup): drop the hint and the entry.
                fixes.xrem(c, m);
                fixes.add(list, 'repair', m, hints.states[j] ?? '');
              } else if (r.current.expiresAt === null) {
                fixes.xrem(c, m);
              } else {
                fixes.xadd(c, m, r.current.expiresAt);
              }
              return 0;
            }),
          );
          total += deleted.reduce<number>((s, n) => s + n, 0);
          if (!fixes.empty) {
            await background(async () => {
              const res = await fixes.run(client);
              if (res.error !== null) throw res.error;
            });
          }
          if (hints.members.length < want) break;
        }
        if (total >= limit) break;
      }
      return total;
    },
  };
}
