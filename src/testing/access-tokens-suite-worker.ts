/**
 * Entry point of the second OS process of the access-token cache
 * invalidation case (see `access-tokens-suite-events.ts`). Reads its job from
 * argv (`{ spec, collection, ttlMs }`), opens the store through the spec,
 * creates an access-tokens instance with a verify cache on the system clock,
 * prints `{"ready":true}` once it listens to invalidations, then answers one
 * JSON command per stdin line with one JSON line on stdout:
 *
 * - `{ "op": "verify", "token" }` → `{ valid, reason, reads }`;
 * - `{ "op": "watch", "token", "while", "timeoutMs", "everyMs" }`: verify
 *   every `everyMs` while the outcome is `while` (a reason, or `null` for a
 *   valid token), at most `timeoutMs`; answers `{ watching: true, reads }`
 *   after the first verify, then `{ valid, reason, reads, polls, cachedPolls,
 *   at }`, where `at` is the wall-clock time (ms, sub-ms precision) of the
 *   verify that saw another outcome, and `cachedPolls` counts the verifies
 *   answered without a store read;
 * - `{ "op": "close" }`: close everything and exit.
 *
 * `reads` counts the store reads (`get`) made so far by this process.
 * @module
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createAccessTokens } from '../access-tokens/access-tokens.js';
import type { Store } from '../stores/contract.js';
import type { WorkerStoreSpec } from './race.js';

/** The job of a cache worker (argv[2], JSON). */
export interface CacheWorkerJob {
  readonly spec: WorkerStoreSpec;
  readonly collection: string;
  /** Verify cache lifetime, ms. */
  readonly ttlMs: number;
}

function toUrl(m: string): string {
  return m.startsWith('file:') ? m : pathToFileURL(m).href;
}

const wallClock = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as CacheWorkerJob;
  const mod = (await import(toUrl(job.spec.module))) as Record<string, unknown>;
  const factory = mod[job.spec.exportName ?? 'createStore'] as (arg: unknown) => Promise<Store>;
  const store = await factory(job.spec.arg);
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'get') return Reflect.get(target, prop, receiver);
      return (ref: Parameters<Store['get']>[0]) => {
        reads++;
        return target.get(ref);
      };
    },
  });
  const pats = createAccessTokens({
    store: counted,
    collection: job.collection,
    cache: { ttlMs: job.ttlMs },
  });
  await pats.ready();
  const send = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  send({ ready: true });

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line) as {
      op: 'verify' | 'watch' | 'close';
      token?: string;
      while?: string | null;
      timeoutMs?: number;
      everyMs?: number;
    };
    if (cmd.op === 'close') break;
    if (cmd.op === 'verify') {
      const r = await pats.verify(cmd.token ?? '');
      send({ valid: r.valid, reason: r.reason ?? null, reads });
      continue;
    }
    const deadline = wallClock() + (cmd.timeoutMs ?? 5000);
    let polls = 0;
    let cachedPolls = 0;
    for (;;) {
      const before = reads;
      const r = await pats.verify(cmd.token ?? '');
      const at = wallClock();
      polls++;
      if (reads === before) cachedPolls++;
      const reason = r.reason ?? null;
      if (reason !== (cmd.while ?? null) || at >= deadline) {
        send({ valid: r.valid, reason, reads, polls, cachedPolls, at });
        break;
      }
      if (polls === 1) send({ watching: true, reads });
      await new Promise((resolve) => setTimeout(resolve, cmd.everyMs ?? 2));
    }
  }
  await pats.close();
  await store.close();
}

main().catch((err) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
