import { InvalidInputError, StoreUnavailableError } from '../../core/errors.js';
import type {
  DeleteResult,
  PutResult,
  StoredRecord,
  TransactResult,
  UpdateResult,
} from '../contract.js';
import { isLive } from '../shared/semantics.js';
import {
  checkMutation,
  checkNow,
  checkRecordInput,
  checkRef,
  checkWhere,
} from '../shared/validate.js';
import { parseFlat, parseWriteReply, type RecordMeta, recordFromHash, toRecord } from './codec.js';
import { planAbort, planPost, planPre, type WriteOutcome } from './entries.js';
import { isCrossSlot, isOutcomeUnknown, toStoreError } from './errors.js';
import { closeConnection, createRedisEvents, waitReady } from './events.js';
import { keyLayout, memberOf } from './keys.js';
import {
  checkCommonOptions,
  openClient,
  type RedisStore,
  type RedisStoreOptions,
} from './options.js';
import { createPages } from './pages.js';
import {
  addressed,
  checkMode,
  checkUpdateOptions,
  type PlannedOp,
  planDeleteOp,
  planPutOp,
  planTransact,
  planUpdateOp,
} from './plan.js';
import { runWrite } from './scripts.js';
import { headArgs, lostEntries, type OnceArgs, singleCall } from './single.js';
import { startSweeperLoop } from './sweeper.js';
import { createAnswerRelease, createWriteOnce, timeToMs } from './write-once.js';

/** Layout version written by `migrate()`; a store refuses data of another layout. */
export const LAYOUT_VERSION = '1';

/** What the write script reported for one op. */
interface OpReply {
  readonly after: StoredRecord | null;
  readonly before: RecordMeta | null;
  readonly beforeRecord: StoredRecord | null;
}

type WriteReply =
  | { readonly ok: true; readonly ops: readonly OpReply[] }
  | { readonly ok: false; readonly failedIndex: number; readonly current: StoredRecord | null };

/**
 * Create a Redis store over an ioredis connection (`{ client }`) or a URL
 * (`{ url }`). No I/O happens here; `migrate()` records the key layout
 * version under the prefix (idempotent).
 *
 * Every primitive is atomic at Redis: one Lua script per write, on the node
 * that owns the partition's hash tag, so it runs unchanged on Redis Cluster.
 * Each write call is applied at most once, even when the client delivers it
 * twice (ioredis resends unanswered commands after a reconnect by default):
 * the script keeps the answer of an applied write for a short while and gives
 * it back to a second delivery (see `maxWriteDelayMs`).
 * Failures reach the caller as `StoreUnavailableError` (Redis unreachable,
 * loading, cluster down, timeouts) or `StoreError` (any other reply, with the
 * reply as `cause`); bad input throws `InvalidInputError` before anything is sent.
 *
 * @param options - `{ client }` (an ioredis `Redis` or `Cluster`, never closed
 *   by the store) or `{ url }` (see {@link RedisStoreUrlOptions}), plus
 *   `prefix` (default `'tessera'`), `gcGraceMs` (default 600000),
 *   `maxWriteDelayMs` (default 10000) and `onError`
 * @throws TypeError when options are missing, both, or malformed;
 *   RangeError for bad numeric options
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisStore } from 'tessera/stores/redis';
 * const store = createRedisStore({
 *   client: new Redis({ enableOfflineQueue: false, autoResendUnfulfilledCommands: false }),
 *   prefix: 'myapp',
 * });
 * await store.migrate();
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const { prefix, gcGraceMs, maxWriteDelayMs } = checkCommonOptions(options ?? {});
  const onError = options.onError ?? (() => {});
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new TypeError('onError must be a function');
  }
  const { client, owned, readyTimeoutMs } = openClient(options);
  let singleNode = options.singleNode ?? !client.isCluster;
  const compile = options.compileScripts ?? true;
  const keys = keyLayout(prefix);
  const events = createRedisEvents(client, keys.channel, { readyTimeoutMs, onError });
  const once = createWriteOnce(async () => timeToMs(await client.time()), {
    maxDelayMs: maxWriteDelayMs,
    onError,
  });
  const answers = createAnswerRelease(client, () => singleNode, onError);
  const registered = new Set<string>();
  const sweepers = new Set<() => void>();
  let closed = false;
  let everReady = !owned || client.status === 'ready';

  /** Whether a call may go straight to the connection (no await needed). */
  const open = (): boolean => !closed && everReady;

  /** Fail closed after `close()`; wait for the first connection of an owned client. */
  const enter = async (): Promise<void> => {
    if (closed) throw new StoreUnavailableError('the Redis store is closed');
    if (!everReady) {
      if (client.status === 'ready') everReady = true;
      else if (client.status === 'connecting' || client.status === 'connect') {
        await waitReady(client, readyTimeoutMs);
        everReady = true;
      }
      // Otherwise (reconnecting): send anyway; the connection fails fast.
    }
  };

  const guard = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    await enter();
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, operation);
    }
  };

  /** Best-effort follow-up work whose failure never changes an outcome. */
  const background = async (fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      onError(err);
    }
  };

  const readRecord = async (ref: {
    collection: string;
    key: string;
    partition: string;
  }): Promise<StoredRecord | null> => {
    const hash = await client.hgetall(keys.record(ref.collection, ref.partition, ref.key));
    return recordFromHash(hash, ref.collection, ref.key, ref.partition);
  };

  /** Record collections that hold records, for `sweep` (once per process). */
  const register = async (planned: readonly PlannedOp[]): Promise<void> => {
    const fresh = new Set<string>();
    for (const p of planned) {
      if (p.intent?.mayCreate && !registered.has(p.ref.collection)) fresh.add(p.ref.collection);
    }
    if (fresh.size === 0) return;
    await client.sadd(keys.collections(), ...fresh);
    for (const c of fresh) registered.add(c);
  };

  /** Parse the committed ops of a write reply; `meta` also parses what a follow-up needs. */
  const committed = (
    planned: readonly PlannedOp[],
    ops: ReadonlyArray<{ before: string[]; after: string[] }>,
    meta: boolean,
  ): { replies: OpReply[]; outcomes: WriteOutcome[] } => {
    const replies: OpReply[] = [];
    const outcomes: WriteOutcome[] = [];
    for (const [i, p] of planned.entries()) {
      const { after: afterFlat, before: beforeFlat } = ops[i] as {
        after: string[];
        before: string[];
      };
      const { collection, key, partition } = p.ref;
      const after = toRecord(afterFlat, collection, key, partition);
      const deletes = p.type === 'delete' || p.type === 'expire';
      const before = meta || p.intent?.mayCreate ? parseFlat(beforeFlat, true) : null;
      replies.push({
        after,
        before,
        beforeRecord: deletes ? toRecord(beforeFlat, collection, key, partition) : null,
      });
      if (meta) {
        outcomes.push({
          collection,
          member: memberOf(key, partition),
          before,
          after:
            after === null
              ? null
              : {
                  version: after.version,
                  expiresAt: after.expiresAt,
                  index: after.index,
                  incarnation: (parseFlat(afterFlat, true) as RecordMeta).incarnation,
                },
          checkOnly: p.type === 'check',
        });
      }
    }
    return { replies, outcomes };
  };

  /** The error of a write that reached Redis after its deadline (it did not run then). */
  const late = (operation: string, serverMs: number, o: OnceArgs): StoreUnavailableError => {
    once.sawServerTime(serverMs);
    return new StoreUnavailableError(
      `Redis ${operation} not applied: it reached Redis ${serverMs - o.deadline + maxWriteDelayMs} ms after it was sent (maxWriteDelayMs is ${maxWriteDelayMs}); an earlier delivery may have applied it`,
    );
  };

  const failed = (
    planned: readonly PlannedOp[],
    reply: { index: number; current: string[] },
  ): WriteReply => {
    const p = (planned[reply.index] ?? planned[0]) as PlannedOp;
    return {
      ok: false,
      failedIndex: reply.index,
      current: toRecord(reply.current, p.ref.collection, p.ref.key, p.ref.partition),
    };
  };

  /**
   * Single server: records and entries in one script. Resolves to `null` when
   * the server refuses keys of several slots (a Cluster node, or a proxy that
   * enforces slots): the script did not run.
   */
  const writeSingle = async (
    operation: string,
    planned: readonly PlannedOp[],
    now: number,
    o: OnceArgs,
  ): Promise<WriteReply | null> => {
    const call = singleCall(keys, planned, now, gcGraceMs, o);
    let reply: ReturnType<typeof parseWriteReply>;
    try {
      reply = parseWriteReply(await runWrite(client, call.keys, call.args, true, compile));
    } catch (err) {
      if (isCrossSlot(err)) return null;
      throw toStoreError(err, operation);
    }
    if (reply.ok === 'late') throw late(operation, reply.serverMs, o);
    if (!reply.ok) return failed(planned, reply);
    answers.release(o.key);
    const { replies } = committed(planned, reply.ops, false);
    if (reply.lost.length > 0) {
      const lost = lostEntries(keys, planned, reply.lost);
      await background(async () => {
        const r = await lost.run(client);
        if (r.error !== null) throw r.error;
      });
    }
    return { ok: true, ops: replies };
  };

  /** Cluster: pre-add entries, the record script, then settle and clean up. */
  const writeTagged = async (
    operation: string,
    planned: readonly PlannedOp[],
    now: number,
    o: OnceArgs,
  ): Promise<WriteReply> => {
    const pre = planPre(
      keys,
      planned.map((p) => p.intent),
    );
    if (!pre.batch.empty) {
      const [, preRun] = await Promise.all([
        register(planned).catch((err: unknown) => {
          throw toStoreError(err, operation);
        }),
        pre.batch.run(client),
      ]);
      if (preRun.error !== null) {
        // Only entries whose call surely ran may be settled: the write never happened.
        await background(() => planAbort(keys, pre, preRun.done).run(client));
        throw toStoreError(preRun.error, operation);
      }
    }
    const followUp = !pre.batch.empty || planned.some((p) => p.followUp);
    const recordKeys: string[] = [];
    const args = headArgs(now, gcGraceMs, o);
    for (const [i, p] of planned.entries()) {
      recordKeys.push(keys.record(p.ref.collection, p.ref.partition, p.ref.key));
      args.push(p.type, String(i + 1));
      for (const t of p.tokens) args.push(t);
    }
    recordKeys.push(o.key);
    let reply: ReturnType<typeof parseWriteReply>;
    try {
      reply = parseWriteReply(await runWrite(client, recordKeys, args, false, compile));
      // Late: not run now, but an earlier delivery may have run it, so the
      // pre-added entries stay pending (as for any unknown outcome).
      if (reply.ok === 'late') throw late(operation, reply.serverMs, o);
    } catch (err) {
      if (!isOutcomeUnknown(err) && !pre.batch.empty) {
        await background(async () => planAbort(keys, pre).run(client));
      }
      throw toStoreError(err, operation);
    }
    if (!reply.ok) {
      if (!pre.batch.empty) await background(async () => planAbort(keys, pre).run(client));
      return failed(planned, reply);
    }
    answers.release(o.key);
    const { replies, outcomes } = committed(planned, reply.ops, followUp);
    if (followUp) {
      const post = planPost(keys, pre, outcomes);
      if (!post.empty) {
        await background(async () => {
          const r = await post.run(client);
          if (r.error !== null) throw r.error;
        });
      }
    }
    return { ok: true, ops: replies };
  };

  /**
   * Run planned ops (all of one partition), in one script on a single server,
   * around entry scripts on a Cluster; at most once (see `write-once.ts`).
   */
  const write = async (
    operation: string,
    planned: readonly PlannedOp[],
    now: number,
  ): Promise<WriteReply> => {
    if (!open()) await enter();
    let stamp = once.stamp();
    if (stamp instanceof Promise) {
      try {
        stamp = await stamp;
      } catch (err) {
        throw toStoreError(err, operation);
      }
    }
    const o: OnceArgs = {
      key: keys.written((planned[0] as PlannedOp).ref.partition, stamp.id),
      deadline: stamp.deadline,
      keepMs: once.keepMs,
    };
    if (singleNode) {
      const r = await writeSingle(operation, planned, now, o);
      if (r !== null) return r;
      // The server enforces slots: keep entries under their own tags from now on.
      singleNode = false;
    }
    return writeTagged(operation, planned, now, o);
  };

  const pages = createPages({ client, keys, enter, readRecord, background });

  const store: RedisStore = {
    kind: 'redis',
    client,
    keys,
    events,

    async migrate() {
      await guard('migrate', async () => {
        await client.hsetnx(keys.meta(), 'layout', LAYOUT_VERSION);
        const layout = await client.hget(keys.meta(), 'layout');
        if (layout !== LAYOUT_VERSION) {
          throw new InvalidInputError(
            `prefix ${prefix} holds data of key layout ${String(layout)}, this store writes layout ${LAYOUT_VERSION}`,
            'prefix',
          );
        }
      });
    },

    async get(ref) {
      const partition = checkRef(ref);
      if (!open()) await enter();
      let hash: Record<string, string>;
      try {
        hash = await client.hgetall(keys.record(ref.collection, partition, ref.key));
      } catch (err) {
        throw toStoreError(err, 'get');
      }
      return recordFromHash(hash, ref.collection, ref.key, partition);
    },

    async getMany(refs) {
      if (!Array.isArray(refs)) throw new InvalidInputError('refs must be an array', 'refs');
      const addrs = refs.map((r) => addressed(r, checkRef(r)));
      if (addrs.length === 0) return [];
      return guard('getMany', () => Promise.all(addrs.map(readRecord)));
    },

    async put(record, options) {
      checkRecordInput(record);
      if (typeof options !== 'object' || options === null) {
        throw new InvalidInputError('put options must be an object', 'options');
      }
      checkNow(options.now);
      checkWhere(options.where);
      checkMode(options.mode);
      const r = await write('put', [planPutOp(record, options.mode, options.where)], options.now);
      if (!r.ok) return { ok: false, current: r.current } satisfies PutResult;
      return { ok: true, record: r.ops[0]?.after as StoredRecord } satisfies PutResult;
    },

    async update(ref, mutation, options = {}) {
      const partition = checkRef(ref);
      checkMutation(mutation);
      checkUpdateOptions(options);
      const now = options.now ?? 0;
      const r = await write(
        'update',
        [planUpdateOp(ref, partition, mutation, options.where, options.orCreate)],
        now,
      );
      if (!r.ok) return { ok: false, current: r.current } satisfies UpdateResult;
      const op = r.ops[0] as OpReply;
      const created =
        options.orCreate !== undefined && (op.before === null || !isLive(op.before, now));
      return { ok: true, record: op.after as StoredRecord, created } satisfies UpdateResult;
    },

    async delete(ref, where) {
      const partition = checkRef(ref);
      checkWhere(where);
      const r = await write('delete', [planDeleteOp(ref, partition, where)], 0);
      if (!r.ok) return { ok: false, current: r.current } satisfies DeleteResult;
      return { ok: true, previous: r.ops[0]?.beforeRecord as StoredRecord } satisfies DeleteResult;
    },

    async transact(ops, now) {
      checkNow(now);
      const planned = planTransact(ops);
      const r = await write('transact', planned, now);
      if (!r.ok) return r satisfies TransactResult;
      return { ok: true, records: r.ops.map((o) => o.after) } satisfies TransactResult;
    },

    list: pages.list,
    findByIndex: pages.findByIndex,

    async sweep(now, sweepOptions = {}) {
      checkNow(now);
      return pages.sweep(now, sweepOptions, async (ref, cutoff) => {
        const op: PlannedOp = {
          ref,
          type: 'expire',
          tokens: [String(cutoff)],
          intent: null,
          followUp: true,
        };
        return write('sweep', [op], now);
      });
    },

    startSweeper(sweeperOptions) {
      if (closed) throw new StoreUnavailableError('the Redis store is closed');
      const stop = startSweeperLoop((now, o) => store.sweep(now, o), sweeperOptions, 'redis');
      const tracked = () => {
        stop();
        sweepers.delete(tracked);
      };
      sweepers.add(tracked);
      return tracked;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const stop of [...sweepers]) stop();
      // Sent ahead of anything the close sends, never awaited: a client the user
      // closed or that is reconnecting must not hold up close().
      void answers.flush();
      await events.close();
      if (owned) await closeConnection(client);
    },
  };
  return store;
}
