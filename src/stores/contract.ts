/**
 * The store contract: a small set of atomic primitives over records. No store
 * knows what a PAT, a session or an action token is; domain modules build on
 * these primitives, and one conformance suite (`tessera/testing`) checks every
 * backend against them.
 *
 * Rules every backend follows:
 * - Every primitive is one atomic operation at the backend (a Lua script, one
 *   SQL statement or transaction, a conditional write, a synchronous critical
 *   section). Conditions are evaluated and mutations applied in that one step.
 * - `expiresAt` is an absolute time in ms since epoch. The store never decides
 *   validity by its own clock: it evaluates `where.liveAt`/`now` against the
 *   time the caller passes. Native TTLs and sweepers only collect garbage, and
 *   only after `expiresAt` has passed.
 * - Failures reach the caller as `StoreUnavailableError` or `StoreError`
 *   (fail closed), never as a silent success.
 * - Schema creation is explicit (`migrate()`), never async work in a factory.
 *
 * @module
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object: the data part of a record. */
export type JsonObject = { [key: string]: Json };

/**
 * Addresses one record. `collection` and `key` identify it; `partition` groups
 * records that may be changed together in one {@link Store.transact} (a Redis
 * Cluster hash tag, a DynamoDB item collection). It defaults to `key`, and it
 * must be derivable from what a reader knows, because it is part of the address.
 *
 * Constraints (checked by every store, violations throw `InvalidInputError`):
 * `collection` matches `/^[a-z][a-z0-9_-]{0,31}$/`; `key` and `partition` are
 * 1..512 characters, with no control characters. Keys must never contain a
 * secret: hash it first.
 */
export interface RecordRef {
  readonly collection: string;
  readonly key: string;
  readonly partition?: string;
}

/**
 * Secondary index values of a record: index name → value. Names match
 * `/^[a-z][a-z0-9_]{0,31}$/`, at most {@link MAX_INDEXES} per record; values are
 * 1..512 characters. Indexes are non-unique. A lookup returns only records
 * whose current index value equals the one asked for.
 */
export type IndexValues = Readonly<Record<string, string>>;

/** The most secondary index values one record may carry. */
export const MAX_INDEXES = 4;

/** What a caller writes. */
export interface RecordInput extends RecordRef {
  /** Top-level fields. Field names match `/^[A-Za-z_][A-Za-z0-9_]{0,63}$/`. */
  readonly data: JsonObject;
  /** Absolute expiry, ms since epoch; `null` for none. */
  readonly expiresAt: number | null;
  /** Secondary index values. */
  readonly index?: IndexValues;
}

/** A record as read back from a store. */
export interface StoredRecord extends RecordInput {
  /** Starts at 1 on create, +1 on every successful write. */
  readonly version: number;
  readonly index: IndexValues;
  readonly partition: string;
}

/** Comparison operators on a top-level data field. */
export type FieldOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte';

/**
 * One condition on a top-level field of `data`.
 * - `eq`/`ne` compare any scalar (string, number, boolean, null) by type and
 *   value; a missing field equals `null`.
 * - `gt`/`gte`/`lt`/`lte` compare numbers only; a missing or non-number field
 *   fails the condition.
 * - `exists`/`absent`: the field is present (not null) / missing or null.
 * - `contains`: the field is an array of strings containing `value`.
 */
export type FieldCondition =
  | {
      readonly field: string;
      readonly op: FieldOp;
      readonly value: string | number | boolean | null;
    }
  | { readonly field: string; readonly op: 'exists' | 'absent' }
  | { readonly field: string; readonly op: 'contains'; readonly value: string };

/** Conditions that must all hold (logical AND) for a write to apply. */
export interface Where {
  /** The record's version must equal this. */
  readonly version?: number;
  /** The record must be live at this time: `expiresAt` null or `> liveAt`. */
  readonly liveAt?: number;
  /** Field conditions. */
  readonly fields?: readonly FieldCondition[];
}

/**
 * Changes to one record, applied in order: `set`, `inc`, `unset`, `add`,
 * `remove`, then `expiresAt` and `index`. A field may appear in only one of
 * them.
 */
export interface Mutation {
  /** Replace top-level fields. */
  readonly set?: JsonObject;
  /** Add a number to numeric fields (a missing field counts as 0). */
  readonly inc?: Readonly<Record<string, number>>;
  /** Remove top-level fields. */
  readonly unset?: readonly string[];
  /** Set-union into string-array fields (created when missing; order kept, new items appended). */
  readonly add?: Readonly<Record<string, readonly string[]>>;
  /** Remove items from string-array fields. */
  readonly remove?: Readonly<Record<string, readonly string[]>>;
  /** New absolute expiry (ms since epoch) or `null` for none. */
  readonly expiresAt?: number | null;
  /** Index values to set (`null` removes that index value). */
  readonly index?: Readonly<Record<string, string | null>>;
}

/** How {@link Store.put} treats an existing record. */
export type PutMode =
  /** Create only if no record is live at `now`; an expired one is replaced. */
  | 'insert'
  /** Create, or replace whatever is there (version continues from the old one). */
  | 'upsert'
  /** Replace only a record that is live at `now` and matches `where`. */
  | 'replace';

/** Options of {@link Store.put}. */
export interface PutOptions {
  readonly mode: PutMode;
  /** The caller's clock, ms since epoch: decides whether an existing record is live. */
  readonly now: number;
  /** Extra conditions on the existing record (`replace` mode only). */
  readonly where?: Where;
}

/** Result of {@link Store.put}. */
export type PutResult =
  | { readonly ok: true; readonly record: StoredRecord }
  | { readonly ok: false; readonly current: StoredRecord | null };

/** Options of {@link Store.update}. */
export interface UpdateOptions {
  /** Conditions; the update applies only when all hold (and the record exists). */
  readonly where?: Where;
  /**
   * When the record is absent or not live at `now`, create it from this input
   * and then apply the mutation (`where` is not checked then). Requires `now`.
   */
  readonly orCreate?: Omit<RecordInput, keyof RecordRef>;
  /** The caller's clock, ms since epoch; required with `orCreate`. */
  readonly now?: number;
}

/** Result of {@link Store.update}: the new record, or what was there instead. */
export type UpdateResult =
  | { readonly ok: true; readonly record: StoredRecord; readonly created: boolean }
  | { readonly ok: false; readonly current: StoredRecord | null };

/** Result of {@link Store.delete}. */
export type DeleteResult =
  | { readonly ok: true; readonly previous: StoredRecord }
  | { readonly ok: false; readonly current: StoredRecord | null };

/** One step of a {@link Store.transact}. */
export type TransactOp =
  | {
      readonly type: 'put';
      readonly record: RecordInput;
      readonly mode: PutMode;
      readonly where?: Where;
    }
  | {
      readonly type: 'update';
      readonly ref: RecordRef;
      readonly mutation: Mutation;
      readonly where?: Where;
      readonly orCreate?: Omit<RecordInput, keyof RecordRef>;
    }
  | { readonly type: 'delete'; readonly ref: RecordRef; readonly where?: Where }
  /** Only a condition: the record must exist and match `where` (or, with `absent`, must not be live). */
  | {
      readonly type: 'check';
      readonly ref: RecordRef;
      readonly where?: Where;
      readonly absent?: boolean;
    };

/** Result of {@link Store.transact}. */
export type TransactResult =
  | { readonly ok: true; readonly records: ReadonlyArray<StoredRecord | null> }
  | {
      readonly ok: false;
      /** Index of the first op whose condition failed. */
      readonly failedIndex: number;
      /** That op's record as it is (null when absent). */
      readonly current: StoredRecord | null;
    };

/** A page of records. */
export interface Page {
  readonly records: readonly StoredRecord[];
  /** Opaque cursor for the next page; `null` when this is the last page. */
  readonly cursor: string | null;
}

/** Options of {@link Store.list} and {@link Store.findByIndex}. */
export interface ListOptions {
  /** Page size, 1..1000 (default 100). */
  readonly limit?: number;
  /** Cursor from a previous page. */
  readonly cursor?: string | null;
  /** Field conditions filtered by the store (a page may then hold fewer than `limit`). */
  readonly fields?: readonly FieldCondition[];
}

/**
 * A message published to every process sharing a store (cache invalidation).
 * Channels match `/^[a-z][a-z0-9:_-]{0,63}$/`; payloads are at most 1 KiB and
 * never contain a secret.
 */
export interface StoreEvents {
  /** Deliver `message` to every subscriber of `channel`, this process included. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Subscribe; returns an unsubscribe function. The subscription delivers from
   * the moment the returned promise resolves, unless `options.onStatus` says
   * otherwise (see {@link SubscribeOptions}).
   * @throws StoreUnavailableError (`ERR_TESSERA_STORE_UNAVAILABLE`) when it cannot be set up
   * @example `const off = await store.events.subscribe('pat:changed', drop, { onStatus: (live) => (useCache = live) });`
   */
  subscribe(
    channel: string,
    listener: (message: string) => void,
    options?: SubscribeOptions,
  ): Promise<() => Promise<void>>;
}

/**
 * Options of {@link StoreEvents.subscribe}.
 *
 * Delivery status: a store whose events cross a connection (Redis pub/sub,
 * PostgreSQL `LISTEN`) calls `onStatus(false)` as soon as it knows that
 * messages may no longer arrive (the connection closed, errored or is
 * reconnecting: what is published meanwhile is lost, never replayed), and
 * `onStatus(true)` once the subscription delivers again (the connection is
 * back and the server confirmed the subscription). Calls alternate, the
 * first one being `false`; `false` may come before `subscribe` resolves (the
 * connection dropped while it was being set up), and comes when the store is
 * closed. Nothing is called after unsubscribing. A cache fed by the
 * subscription stops answering on `false` and starts empty on `true`.
 *
 * Stores whose events never leave the process (memory, SQLite, DynamoDB) or
 * that would poll have no gap in delivery and need not call it; they call it
 * only as their own semantics give. A throwing `onStatus` is reported to the
 * store's `onError`, never to the publisher.
 */
export interface SubscribeOptions {
  /** Told whether the subscription delivers (`true`) or may be missing messages (`false`). */
  readonly onStatus?: (live: boolean) => void;
}

/** The contract every backend implements. */
export interface Store {
  /** Backend name, for logs and metrics (`memory`, `sqlite`, ...). */
  readonly kind: string;

  /** Create or upgrade the schema. Idempotent; safe from several processes. */
  migrate(): Promise<void>;

  /** Read one record, live or not (the caller decides validity). */
  get(ref: RecordRef): Promise<StoredRecord | null>;

  /** Read many records in one round trip where the backend allows; same order as `refs`. */
  getMany(refs: readonly RecordRef[]): Promise<Array<StoredRecord | null>>;

  /** Write a whole record, as {@link PutMode} says. */
  put(record: RecordInput, options: PutOptions): Promise<PutResult>;

  /** Apply a mutation atomically, if `where` holds. */
  update(ref: RecordRef, mutation: Mutation, options?: UpdateOptions): Promise<UpdateResult>;

  /** Delete a record, if it exists and `where` holds. */
  delete(ref: RecordRef, where?: Where): Promise<DeleteResult>;

  /**
   * Apply up to 25 ops all-or-nothing. All ops must address the same
   * partition, or the store throws `InvalidInputError` (some backends lift this
   * rule; portable code keeps it). `put` ops use `now` for liveness.
   */
  transact(ops: readonly TransactOp[], now: number): Promise<TransactResult>;

  /** Records of a collection in ascending key order, filtered by `fields`. */
  list(collection: string, options?: ListOptions): Promise<Page>;

  /**
   * Records whose index `name` currently equals `value`, in ascending key
   * order. Strongly consistent: a hit is confirmed against the base record.
   */
  findByIndex(
    collection: string,
    name: string,
    value: string,
    options?: ListOptions,
  ): Promise<Page>;

  /**
   * Delete records whose `expiresAt` is at or before `now - graceMs`.
   * Bounded: at most `limit` (default 1000) per call. Returns how many it deleted.
   */
  sweep(now: number, options?: { limit?: number; graceMs?: number }): Promise<number>;

  /** Cross-process messages (cache invalidation). */
  readonly events: StoreEvents;

  /** Release what the store opened itself (not a client the caller passed in). */
  close(): Promise<void>;
}
