/**
 * At most once per write call, whatever the client does. A client may deliver
 * one command twice: ioredis resends unanswered commands after a reconnect
 * (`autoResendUnfulfilledCommands`, on by default), and a Cluster client
 * retries a command whose connection closed. So every write call carries a
 * write id and a deadline, and the write script (see `lua/write-once.ts`):
 *
 * - answers with the stored answer of the write when a delivery with its id was
 *   already applied (kept under `{P:part}:w:<id>` for {@link WriteOnce.keepMs}),
 *   without applying it again;
 * - refuses to run (`late`) when it reaches Redis after its deadline: more
 *   than `maxWriteDelayMs` after the store sent it, on Redis's clock.
 *
 * Once the answer has arrived the client resends nothing, so the store unlinks
 * the kept copy at once ({@link createAnswerRelease}): it lives a round trip,
 * and {@link WriteOnce.keepMs} only when the answer was lost.
 *
 * Answers are kept longer than deadlines last (by {@link CLOCK_SLACK_MS}, for
 * the error of the clock estimate), so a delivery either finds the answer of an
 * earlier one, or applies the write for the first time, or is refused.
 *
 * Deadlines are in Redis's time: the store estimates it from `TIME` (read
 * before the first write, then again every minute in the background) and a
 * monotonic clock, so the caller's wall clock plays no part. The estimate errs
 * early (by at most the round trip of `TIME`), which only shortens deadlines.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** How much longer an answer is kept than a deadline lasts, ms (clock estimate errors, node clock differences). */
export const CLOCK_SLACK_MS = 10_000;
/** How often the estimate of Redis's clock is read again, ms. */
const RESYNC_MS = 60_000;

/**
 * Write ids only need to be unique (across processes and time): a random
 * 64-bit per-process prefix and a counter.
 */
const ID_PREFIX = randomBytes(8).toString('hex');
let idCounter = 0;

/** A fresh write id. */
export function newWriteId(): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${ID_PREFIX}${idCounter.toString(36)}`;
}

/** What one write call sends besides its ops. */
export interface WriteStamp {
  /** The write id. */
  readonly id: string;
  /** Redis time (ms) after which the write must not run. */
  readonly deadline: number;
}

/** Write ids and deadlines of one store. */
export interface WriteOnce {
  /** How long the script keeps the answer of an applied write, ms. */
  readonly keepMs: number;
  /**
   * A stamp for a write sent now (a promise only while Redis's clock is
   * unknown: before the first write).
   * @throws (the promise) whatever reading Redis's clock threw
   */
  stamp(): WriteStamp | Promise<WriteStamp>;
  /** Learn from a Redis time a `late` answer reported. */
  sawServerTime(serverMs: number): void;
}

/**
 * Create the write ids and deadlines of a store.
 * @param readServerTime - Redis's time, ms (`TIME`)
 * @param options - `maxDelayMs`: how long after it is sent a write may still
 *   run; `onError` receives failures of background clock reads; `monotonic`
 *   (tests) replaces `performance.now`
 * @example `const once = createWriteOnce(async () => serverMs(await client.time()), { maxDelayMs: 10_000 });`
 */
export function createWriteOnce(
  readServerTime: () => Promise<number>,
  options: {
    maxDelayMs: number;
    onError?: (err: unknown) => void;
    monotonic?: () => number;
  },
): WriteOnce {
  const { maxDelayMs } = options;
  const monotonic = options.monotonic ?? (() => performance.now());
  const onError = options.onError ?? (() => {});
  /** Redis time minus monotonic time, ms (null: not read yet). */
  let offset: number | null = null;
  let syncedAt = 0;
  let syncing: Promise<void> | null = null;

  const sync = (): Promise<void> => {
    syncing ??= (async () => {
      try {
        const server = await readServerTime();
        // Read after the answer arrived: the estimate errs early, never late.
        const at = monotonic();
        offset = server - at;
        syncedAt = at;
      } finally {
        syncing = null;
      }
    })();
    return syncing;
  };

  const make = (at: number, off: number): WriteStamp => ({
    id: newWriteId(),
    deadline: Math.floor(at + off + maxDelayMs),
  });

  return {
    keepMs: maxDelayMs + CLOCK_SLACK_MS,
    stamp() {
      const at = monotonic();
      if (offset === null) {
        return sync().then(() => make(monotonic(), offset as number));
      }
      if (at - syncedAt > RESYNC_MS && syncing === null) sync().catch(onError);
      return make(at, offset);
    },
    sawServerTime(serverMs) {
      const seen = serverMs - monotonic();
      if (offset === null || seen > offset) offset = seen;
    },
  };
}

/** Redis's `TIME` answer in ms. */
export function timeToMs(reply: ReadonlyArray<string | number>): number {
  return Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
}

/**
 * Drops kept answers once their write's answer has arrived. A kept answer only
 * serves a second delivery of a write whose answer was lost; once the store
 * holds the answer the client resends nothing, so the copy (which holds the
 * records' data, application data an erasing write was meant to remove) is
 * unlinked at once instead of living {@link WriteOnce.keepMs}. Keys released
 * in one turn of the event loop go in one `UNLINK` per hash tag (one for all
 * on a single server that does not enforce slots).
 */
export interface AnswerRelease {
  /** Unlink this kept answer soon (batched). */
  release(key: string): void;
  /** Send what is pending now. */
  flush(): Promise<void>;
}

/** The part of a client that {@link createAnswerRelease} uses. */
export interface UnlinkClient {
  unlink(...keys: string[]): Promise<unknown>;
}

/**
 * Create the releaser of kept answers.
 * @param client - the store's client
 * @param oneCommand - whether all keys may go in one command (a single server that does not enforce slots)
 * @param onError - receives failed unlinks (the answers then expire on their own)
 */
export function createAnswerRelease(
  client: UnlinkClient,
  oneCommand: () => boolean,
  onError: (err: unknown) => void,
): AnswerRelease {
  let pending: string[] = [];
  let scheduled = false;

  const send = (batch: string[]): Promise<void> => {
    if (batch.length === 0) return Promise.resolve();
    if (oneCommand()) return client.unlink(...batch).then(() => undefined, onError);
    const byTag = new Map<string, string[]>();
    for (const key of batch) {
      const tag = key.slice(0, key.indexOf('}') + 1);
      const list = byTag.get(tag);
      if (list === undefined) byTag.set(tag, [key]);
      else list.push(key);
    }
    return Promise.all(
      [...byTag.values()].map((group) => client.unlink(...group).then(() => undefined, onError)),
    ).then(() => undefined);
  };

  const flush = (): Promise<void> => {
    scheduled = false;
    const batch = pending;
    pending = [];
    return send(batch);
  };

  return {
    release(key) {
      pending.push(key);
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          if (scheduled) void flush();
        });
      }
    },
    flush,
  };
}
