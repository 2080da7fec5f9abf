/**
 * The access-tokens case for stores whose events cross processes (Redis,
 * Redis Cluster, PostgreSQL): a revoke or a delete made in one OS process
 * stops a token verifying from another process's verify cache within 1
 * second, although that cache would otherwise keep the token for minutes.
 * @module
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createAccessTokens } from '../access-tokens/access-tokens.js';
import type { CacheWorkerJob } from './access-tokens-suite-worker.js';
import { randomSuffix } from './runner.js';
import type { StoreSuiteOptions } from './store-suite.js';

/** Longest time a change may take to reach another process's verify cache, ms. */
export const CROSS_PROCESS_INVALIDATION_MS = 1000;
/** Lifetime of the verify caches in this case: far longer than the bound above. */
const CACHE_TTL_MS = 300_000;

type Reply = Record<string, unknown>;

/** A cache worker process (see `access-tokens-suite-worker.ts`). */
interface CacheWorker {
  /** Send one command. */
  send(command: Reply): void;
  /** The next reply line. */
  next(timeoutMs?: number): Promise<Reply>;
  /** Ask it to close, and kill it if it has not exited within 10 s. */
  stop(): Promise<void>;
}

function startCacheWorker(job: CacheWorkerJob): CacheWorker {
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const file = fileURLToPath(new URL(`./access-tokens-suite-worker.${ts ? 'ts' : 'js'}`, here));
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [...(ts ? ['--import', 'tsx'] : []), file, JSON.stringify(job)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const replies: Reply[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  let stderr = '';
  let exited = false;
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('{')) replies.push(JSON.parse(line) as Reply);
    }
    wake();
  });
  const gone = new Promise<void>((resolve) => {
    child.on('exit', () => {
      exited = true;
      wake();
      resolve();
    });
  });
  return {
    send(command) {
      child.stdin.write(`${JSON.stringify(command)}\n`);
    },
    next(timeoutMs = 30_000) {
      return new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no reply from the cache worker in ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const check = () => {
          const reply = replies.shift();
          if (reply !== undefined) {
            clearTimeout(timer);
            resolve(reply);
          } else if (exited) {
            clearTimeout(timer);
            reject(new Error(`the cache worker exited; stderr: ${stderr}`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    async stop() {
      if (!exited) child.stdin.end(`${JSON.stringify({ op: 'close' })}\n`);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

const wallClock = () => performance.timeOrigin + performance.now();

/**
 * Define the cross-process invalidation case for a store whose events reach
 * other processes. Needs `multiProcess.createSharedStore` (the worker process
 * opens the same data through its spec). Each run logs the measured delays.
 *
 * @example
 * ```ts
 * defineAccessTokensEventsSuite({ name: 'redis', runner: { describe, it }, createStore, multiProcess });
 * ```
 * @throws TypeError when `options.multiProcess` is missing
 */
export function defineAccessTokensEventsSuite(options: StoreSuiteOptions): void {
  const mp = options.multiProcess;
  if (mp === undefined) {
    throw new TypeError('defineAccessTokensEventsSuite needs options.multiProcess');
  }
  const { describe, it } = options.runner;

  describe(`access tokens across processes: ${options.name}`, () => {
    it(`stops a token verifying from another process's cache within ${CROSS_PROCESS_INVALIDATION_MS} ms of a revoke or a delete`, async () => {
      const { store, spec } = await mp.createSharedStore();
      const collection = `pat-${randomSuffix(4)}`;
      const worker = startCacheWorker({ spec, collection, ttlMs: CACHE_TTL_MS });
      const a = createAccessTokens({ store, collection, cache: { ttlMs: CACHE_TTL_MS } });
      try {
        assert.deepEqual(await worker.next(60_000), { ready: true });
        await a.ready();
        const { token, record } = await a.issue({ owner: 'cross-process@example.com' });

        /** B polls `token` in real time while `change` runs here; the delay until B sees it. */
        const measure = async (
          steady: string | null,
          change: () => Promise<unknown>,
          expected: string,
        ) => {
          worker.send({ op: 'verify', token });
          const before = await worker.next();
          assert.equal(before.reason, steady);
          worker.send({ op: 'watch', token, while: steady, timeoutMs: 10_000, everyMs: 2 });
          const watching = await worker.next();
          assert.deepEqual(
            watching,
            { watching: true, reads: before.reads },
            'the other process serves the token from its cache',
          );
          const start = wallClock();
          await change();
          const changed = wallClock();
          const seen = await worker.next(15_000);
          assert.equal(seen.reason, expected);
          assert.equal(seen.cachedPolls, (seen.polls as number) - 1, 'only the last verify read');
          const delayMs = (seen.at as number) - start;
          process.stdout.write(
            `[${options.name}] ${expected} seen by the other process ${delayMs.toFixed(1)} ms ` +
              `after the call started (the call took ${(changed - start).toFixed(1)} ms, ` +
              `${seen.polls} polls)\n`,
          );
          assert.ok(
            delayMs < CROSS_PROCESS_INVALIDATION_MS,
            `${expected} took ${delayMs.toFixed(1)} ms to reach the other process`,
          );
        };

        await measure(null, () => a.revoke(record.tokenId), 'revoked');
        await measure('revoked', () => a.delete(record.tokenId), 'not_found');
      } finally {
        await worker.stop();
        await a.close();
        await store.close();
      }
    }, 120_000);
  });
}
