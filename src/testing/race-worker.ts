/**
 * Entry point of a racing worker process (see `race.ts`). Reads its job from
 * argv, opens the store, prints `ready`, waits for `go` on stdin, runs its
 * racers concurrently and prints one JSON line with the outcome.
 * @module
 */
import { pathToFileURL } from 'node:url';
import type { Store } from '../stores/contract.js';
import type { RaceResult, RaceTask, WorkerStoreSpec } from './race.js';

function toUrl(m: string): string {
  return m.startsWith('file:') ? m : pathToFileURL(m).href;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as {
    spec: WorkerStoreSpec;
    task: RaceTask;
    racers: number;
  };
  const mod = (await import(toUrl(job.spec.module))) as Record<string, unknown>;
  const factory = mod[job.spec.exportName ?? 'createStore'] as (arg: unknown) => Promise<Store>;
  const store = await factory(job.spec.arg);
  let custom: ((s: Store, arg: unknown, i: number) => Promise<unknown>) | undefined;
  if (job.task.kind === 'custom') {
    const cm = (await import(toUrl(job.task.module))) as Record<string, unknown>;
    custom = cm[job.task.exportName] as typeof custom;
  }
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    let buf = '';
    process.stdin.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      if (buf.includes('go')) resolve();
    });
  });
  const task = job.task;
  const one = async (i: number): Promise<boolean> => {
    if (task.kind === 'decrement') {
      const r = await store.update(
        { collection: task.collection, key: task.key },
        { inc: { uses: -1 } },
        { where: { liveAt: task.now, fields: [{ field: 'uses', op: 'gt', value: 0 }] } },
      );
      return r.ok;
    }
    if (task.kind === 'insert') {
      const r = await store.put(
        {
          collection: task.collection,
          key: task.key,
          data: { by: process.pid, i },
          expiresAt: null,
        },
        { mode: 'insert', now: task.now },
      );
      return r.ok;
    }
    return Boolean(await custom?.(store, task.arg, i));
  };
  const outcomes = await Promise.allSettled(Array.from({ length: job.racers }, (_, i) => one(i)));
  const result: RaceResult = {
    successes: outcomes.filter((o) => o.status === 'fulfilled' && o.value).length,
    failures: outcomes.filter((o) => o.status === 'fulfilled' && !o.value).length,
    errors: outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => String((o.reason as Error)?.stack ?? o.reason)),
  };
  await store.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
