/**
 * Finding a challenge by uid or by (action, id), and removing it.
 * @module
 */
import { ConflictError, ExpiredError, InvalidInputError, NotFoundError } from '../core/errors.js';
import type { Store, StoredRecord, TransactOp } from '../stores/contract.js';
import { type ChallengeData, isLive, readChallenge, refsFor, toChallenge } from './records.js';
import type { Challenge, ChallengeLookup } from './types.js';
import { checkName, checkObject } from './validate.js';

const MAX_LOOPS = 8;

/** Lookups over one store collection. */
export interface Lookups {
  /** The record a lookup names, live or not, or `null`. */
  read(lookup: ChallengeLookup): Promise<StoredRecord | null>;
  /**
   * The live record a lookup names.
   * @throws NotFoundError, ExpiredError, InvalidInputError
   */
  findRecord(lookup: ChallengeLookup, now: number): Promise<StoredRecord>;
  /** {@link Lookups.findRecord} as a public challenge. */
  find(lookup: ChallengeLookup, now: number): Promise<Challenge>;
  /**
   * Delete the live challenge a lookup names, and end its throttle window, in
   * one atomic step. `guard` may refuse a challenge (resolves to false).
   * @throws ConflictError when `generation` is given and no longer matches
   */
  remove(
    lookup: ChallengeLookup,
    now: number,
    options?: { generation?: number; guard?: (d: ChallengeData) => boolean },
  ): Promise<boolean>;
}

/** Check a lookup: `{ uid }` or `{ action, id }`. */
export function checkLookup(lookup: unknown): asserts lookup is ChallengeLookup {
  checkObject(lookup, 'input');
  const l = lookup as Record<string, unknown>;
  if (l.uid !== undefined) {
    if (l.action !== undefined || l.id !== undefined) {
      throw new InvalidInputError('give uid, or action and id, not both', 'uid');
    }
    checkName(l.uid, 'uid');
    return;
  }
  checkName(l.action, 'action');
  checkName(l.id, 'id');
}

/**
 * Lookups over `collection` of `store`.
 * @example `const lookups = createLookups(store, 'challenge'); await lookups.find({ uid }, Date.now());`
 */
export function createLookups(store: Store, collection: string): Lookups {
  async function read(lookup: ChallengeLookup): Promise<StoredRecord | null> {
    checkLookup(lookup);
    if ('uid' in lookup && lookup.uid !== undefined) {
      const page = await store.findByIndex(collection, 'uid', lookup.uid, { limit: 10 });
      return page.records.find((r) => r.data.uid === lookup.uid) ?? null;
    }
    const { action, id } = lookup as { action: string; id: string };
    return store.get(refsFor(collection, action, id).challenge);
  }

  async function findRecord(lookup: ChallengeLookup, now: number): Promise<StoredRecord> {
    const record = await read(lookup);
    if (record === null) throw new NotFoundError('Challenge not found.');
    if (!isLive(record, now)) throw new ExpiredError('Challenge has expired.');
    return record;
  }

  async function find(lookup: ChallengeLookup, now: number): Promise<Challenge> {
    return toChallenge(await findRecord(lookup, now));
  }

  async function remove(
    lookup: ChallengeLookup,
    now: number,
    options: { generation?: number; guard?: (d: ChallengeData) => boolean } = {},
  ): Promise<boolean> {
    for (let loop = 0; loop < MAX_LOOPS; loop++) {
      const record = await read(lookup);
      if (record === null || !isLive(record, now)) return false;
      const d = readChallenge(record);
      if (options.guard !== undefined && !options.guard(d)) return false;
      if (options.generation !== undefined && d.generation !== options.generation) {
        throw new ConflictError('The challenge changed meanwhile (it was regenerated).');
      }
      const refs = refsFor(collection, d.action, d.id);
      const ops: TransactOp[] = [
        {
          type: 'delete',
          ref: refs.challenge,
          where: {
            liveAt: now,
            fields: [
              { field: 'instance', op: 'eq', value: d.instance },
              { field: 'generation', op: 'eq', value: d.generation },
            ],
          },
        },
      ];
      if (d.throttleUntil > now) {
        ops.push({
          type: 'update',
          ref: refs.throttle,
          mutation: { expiresAt: now },
          orCreate: { data: { until: 0 }, expiresAt: now },
        });
      }
      const r = await store.transact(ops, now);
      if (r.ok) return true;
    }
    throw new ConflictError('The challenge kept changing; retry.');
  }

  return Object.freeze({ read, findRecord, find, remove });
}
