/**
 * Opened by race worker processes (see `src/testing/race.ts`): a PostgreSQL
 * store over the server and schema the test names, plus custom racer bodies.
 */
import type { Store } from '../../../src/stores/contract.js';
import { createPostgresStore, type PostgresStore } from '../../../src/stores/postgres/index.js';

/** What a worker receives as `arg`. */
export interface WorkerArg {
  readonly url: string;
  readonly schema: string;
  /** Migrate before handing the store over (default true). */
  readonly migrate?: boolean;
}

/** Open (and by default migrate) a store over `arg.url` and `arg.schema`. */
export async function createStore(arg: WorkerArg): Promise<PostgresStore> {
  const store = createPostgresStore(
    { url: arg.url },
    { schema: arg.schema, poolConfig: { max: 4 } },
  );
  if (arg.migrate !== false) await store.migrate();
  return store;
}

/** A custom racer: run `migrate()` and report success. */
export async function migrateRacer(store: Store): Promise<boolean> {
  await store.migrate();
  return true;
}

/**
 * A custom racer: subscribe to `arg.channel`, print `subscribed`, and wait for
 * `arg.count` messages; report the latency of each (ms since the `sentAt` it carries).
 */
export async function listenRacer(
  store: Store,
  arg: { channel: string; count: number; timeoutMs: number },
): Promise<boolean> {
  const latencies: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`got ${latencies.length} of ${arg.count} messages`)),
      arg.timeoutMs,
    );
    store.events
      .subscribe(arg.channel, (message) => {
        const { sentAt } = JSON.parse(message) as { sentAt: number };
        latencies.push(Date.now() - sentAt);
        if (latencies.length === arg.count) {
          clearTimeout(timer);
          resolve();
        }
      })
      .then(() => process.stderr.write(`subscribed ${arg.channel}\n`), reject);
  });
  process.stderr.write(`latencies ${JSON.stringify(latencies)}\n`);
  return latencies.every((ms) => ms < 1000);
}
