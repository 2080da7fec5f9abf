import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../../src/stores/redis/index.js';
import { randomSuffix } from '../../../src/testing/index.js';
import { gateBackend, REDIS_URL, redisAvailable, redisHostPort } from '../../support/backends.js';
import { statusLog } from '../../support/status-log.js';
import { startFaultProxy } from './fault-proxy.js';
import { deleteKeys, killSubscriber, openClient, runPrefix } from './helpers.js';

const CHILD = fileURLToPath(new URL('./events-child.ts', import.meta.url));

/** Start the child and resolve with a function that waits for a line starting with a prefix. */
function child(args: string[]): {
  proc: ChildProcessWithoutNullStreams;
  line: (startsWith: string, timeoutMs?: number) => Promise<{ text: string; at: number }>;
} {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const seen: Array<{ text: string; at: number }> = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      seen.push({ text: buf.slice(0, i), at: performance.now() });
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  const line = (startsWith: string, timeoutMs = 20_000) =>
    new Promise<{ text: string; at: number }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${startsWith}" line from the child; stderr: ${err}`)),
        timeoutMs,
      );
      const check = () => {
        const hit = seen.find((l) => l.text.startsWith(startsWith));
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else waiters.push(check);
      };
      check();
    });
  return { proc, line };
}

function exited(proc: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

const available = await redisAvailable();

if (gateBackend(`Redis at ${REDIS_URL}`, available, ['redis store: cross-process events'])) {
  const prefix = runPrefix('events');
  const otherPrefix = runPrefix('events-other');
  const stores: RedisStore[] = [];
  const open = async (p = prefix) => {
    const s = createRedisStore({ url: REDIS_URL, prefix: p });
    await s.migrate();
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
    const client = await openClient(REDIS_URL);
    await deleteKeys(client, prefix);
    await deleteKeys(client, otherPrefix);
    await client.quit();
  });

  describe('redis store: cross-process events', () => {
    it('delivers a revoke published here to another OS process within 1 s', async () => {
      const store = await open();
      const channel = `pat:revoked:${randomSuffix(3)}`;
      const c = child([REDIS_URL, prefix, channel, 'receive']);
      try {
        await c.line('subscribed');
        const t0 = performance.now();
        await store.events.publish(channel, 'pat_123');
        const got = await c.line('got ', 5000);
        expect(got.text).toBe('got pat_123');
        expect(got.at - t0).toBeLessThan(1000);
        expect(await exited(c.proc)).toBe(0);
      } finally {
        c.proc.kill('SIGKILL');
      }
    }, 60_000);

    it('delivers a message another OS process publishes to subscribers here within 1 s', async () => {
      const store = await open();
      const channel = `session:destroyed:${randomSuffix(3)}`;
      const got: Array<{ message: string; at: number }> = [];
      let resolveGot: () => void = () => {};
      const arrived = new Promise<void>((r) => {
        resolveGot = r;
      });
      const off = await store.events.subscribe(channel, (message) => {
        got.push({ message, at: performance.now() });
        resolveGot();
      });
      const c = child([REDIS_URL, prefix, channel, 'send', 'sess_9']);
      try {
        await c.line('ready');
        const t0 = performance.now();
        c.proc.stdin.end('go\n');
        await Promise.race([
          arrived,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('no message in 5 s')), 5000),
          ),
        ]);
        expect(got.map((g) => g.message)).toEqual(['sess_9']);
        expect((got[0]?.at ?? Number.POSITIVE_INFINITY) - t0).toBeLessThan(1000);
        expect(await exited(c.proc)).toBe(0);
      } finally {
        c.proc.kill('SIGKILL');
        await off();
      }
    }, 60_000);

    it('delivers each message once to a local subscriber and to another store of the prefix', async () => {
      const a = await open();
      const b = await open();
      const other = await open(otherPrefix);
      const channel = 'cache:flush';
      const seen: string[] = [];
      const offA = await a.events.subscribe(channel, (m) => seen.push(`a:${m}`));
      const offB = await b.events.subscribe(channel, (m) => seen.push(`b:${m}`));
      const offOther = await other.events.subscribe(channel, (m) => seen.push(`other:${m}`));
      await a.events.publish(channel, 'one');
      for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.sort()).toEqual(['a:one', 'b:one']);
      await offB();
      await b.events.publish(channel, 'two');
      for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.sort()).toEqual(['a:one', 'a:two', 'b:one']);
      await offA();
      await offOther();
    });

    it('tells a subscription its delivery stopped when the subscriber connection is killed, and resumed once resubscribed; what was published between is lost', async () => {
      // The store's connections pass a proxy that holds the subscriber's
      // reconnection, so the gap lasts until the test ends it.
      const proxy = await startFaultProxy(redisHostPort());
      const name = `tessera-test-sub-${randomSuffix(4)}`;
      const client = await openClient(proxy.url, { connectionName: name });
      const store = createRedisStore({ client, prefix });
      const publisher = await open();
      const admin = await openClient(REDIS_URL);
      const channel = `pat:changed:${randomSuffix(3)}`;
      const got: string[] = [];
      const status = statusLog();
      const silent = statusLog();
      try {
        await store.migrate();
        const off = await store.events.subscribe(channel, (m) => got.push(m), {
          onStatus: status.onStatus,
        });
        const offSilent = await store.events.subscribe('other', () => {}, {
          onStatus: silent.onStatus,
        });
        await offSilent(); // unsubscribed: told nothing more
        await publisher.events.publish(channel, 'before');
        for (let i = 0; i < 300 && !got.includes('before'); i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(got).toEqual(['before']);
        expect(status.seen).toEqual([]);

        proxy.hold();
        expect(await killSubscriber(admin, name)).toBe(1);
        expect(await status.nth(1)).toBe(false);
        await publisher.events.publish(channel, 'lost');
        proxy.release();
        expect(await status.nth(2)).toBe(true);
        // Redis confirmed the subscription before `true`: what is published now arrives.
        await publisher.events.publish(channel, 'after');
        for (let i = 0; i < 300 && !got.includes('after'); i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(got).toEqual(['before', 'after']);
        expect(status.seen).toEqual([false, true]);
        expect(silent.seen).toEqual([]);
        await off();
      } finally {
        proxy.release();
        await store.close();
        await client.quit().catch(() => client.disconnect());
        await admin.quit();
        await proxy.close();
      }
    }, 60_000);

    it('replaces a subscriber connection that ended for good, and tells its subscriptions when delivery is back', async () => {
      // A client whose retry strategy gives up at once: its subscriber's
      // connection ends when killed; the store opens a new one, resubscribes
      // every channel, and reports `true`.
      const name = `tessera-test-end-${randomSuffix(4)}`;
      const client = await openClient(REDIS_URL, {
        connectionName: name,
        retryStrategy: () => null,
      });
      const errors: unknown[] = [];
      const store = createRedisStore({ client, prefix, onError: (e) => errors.push(e) });
      const publisher = await open();
      const admin = await openClient(REDIS_URL);
      const channel = `pat:changed:${randomSuffix(3)}`;
      const got: string[] = [];
      let arrived: () => void = () => {};
      const after = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const status = statusLog();
      try {
        await store.migrate();
        await store.events.subscribe(
          channel,
          (m) => {
            got.push(m);
            if (m === 'after') arrived();
          },
          { onStatus: status.onStatus },
        );
        expect(await killSubscriber(admin, name)).toBe(1);
        expect(await status.nth(1)).toBe(false);
        expect(await status.nth(2)).toBe(true);
        expect(String((errors[0] as Error).message)).toMatch(/subscriber connection ended/);
        // The new connection is the subscriber: what is published now arrives.
        await publisher.events.publish(channel, 'after');
        await after;
        expect(got).toEqual(['after']);
        expect(status.seen).toEqual([false, true]);
        const subscribers = String(await admin.client('LIST'))
          .split('\n')
          .filter((l: string) => l.includes(`name=${name}`) && /\bsub=[1-9]/.test(l));
        expect(subscribers).toHaveLength(1);
      } finally {
        await store.close();
        client.disconnect();
        await admin.quit();
      }
    }, 60_000);

    it('tells its subscriptions delivery stopped when the store is closed', async () => {
      const store = createRedisStore({ url: REDIS_URL, prefix });
      await store.migrate();
      const status = statusLog();
      await store.events.subscribe('c', () => {}, { onStatus: status.onStatus });
      await store.close();
      expect(status.seen).toEqual([false]);
    });
  });
}
