/**
 * Cross-process {@link StoreEvents} over Redis pub/sub. Messages go to local
 * subscribers at once and to every other process through `PUBLISH` on the
 * prefixed channel; a subscriber connection (`client.duplicate()`, opened on
 * the first `subscribe`) receives them. Each store tags what it publishes with
 * a random sender id and skips its own messages when they come back, so a
 * local subscriber sees each message once.
 *
 * Pub/sub is fire-and-forget: a process whose subscriber connection is down
 * misses what is published meanwhile (ioredis resubscribes on reconnect).
 * Caches fed by these events should also bound entry lifetimes.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../../core/errors.js';
import type { StoreEvents } from '../contract.js';
import { checkEvent, createLocalEvents } from '../shared/local-events.js';
import { toStoreError } from './errors.js';

/** What {@link createRedisEvents} returns: events plus a way to close the subscriber. */
export interface RedisEvents extends StoreEvents {
  /** Close the subscriber connection (if one was opened). */
  close(): Promise<void>;
}

/**
 * Wait until an ioredis connection that is still making its first connection
 * is ready, at most `timeoutMs`. Gives up at once when the attempt fails
 * (`reconnecting`) or the connection ends, so callers fail fast while Redis is
 * unreachable instead of waiting for every retry.
 * @throws StoreUnavailableError when the connection is not ready in time
 */
export async function waitReady(client: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end' || client.status === 'close') {
    throw new StoreUnavailableError('Redis connection is closed');
  }
  if (client.status === 'reconnecting') {
    throw new StoreUnavailableError('Redis is not reachable (reconnecting)');
  }
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      client.off('reconnecting', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new StoreUnavailableError('Redis is not reachable'));
    const timer = setTimeout(
      () => done(new StoreUnavailableError(`Redis was not ready within ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.once('ready', onReady);
    client.once('end', onEnd);
    client.once('reconnecting', onEnd);
  });
}

/**
 * Close a connection gracefully (QUIT) and wait until it has ended, at most
 * `timeoutMs`; disconnect it when that fails.
 */
export async function closeConnection(client: Redis | Cluster, timeoutMs = 2000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    // Not connected (connecting, reconnecting): nothing to flush, and no 'end' would come.
    client.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.disconnect();
      resolve();
    }, timeoutMs);
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
  await ended;
}

/**
 * Create the events of a Redis store.
 * @param client - the store's connection (used to publish and to duplicate)
 * @param channelName - maps an event channel to its pub/sub channel name
 * @param options - `readyTimeoutMs` for the subscriber connection; `onError`
 *   receives listener errors and subscriber connection errors
 */
export function createRedisEvents(
  client: Redis | Cluster,
  channelName: (channel: string) => string,
  options: { readyTimeoutMs: number; onError: (err: unknown) => void },
): RedisEvents {
  const local = createLocalEvents(options.onError);
  const sender = randomBytes(8).toString('hex');
  const byName = new Map<string, string>();
  let sub: Redis | Cluster | null = null;
  let opening: Promise<Redis | Cluster> | null = null;
  let closed = false;

  const onMessage = (name: string, payload: string) => {
    const channel = byName.get(name);
    if (channel === undefined) return;
    const space = payload.indexOf(' ');
    if (space < 0 || payload.slice(0, space) === sender) return;
    local.deliver(channel, payload.slice(space + 1));
  };

  const subscriber = (): Promise<Redis | Cluster> => {
    if (sub !== null) return Promise.resolve(sub);
    opening ??= (async () => {
      const s = client.duplicate();
      s.on('error', (err: unknown) => options.onError(err));
      s.on('message', onMessage);
      try {
        await waitReady(s, options.readyTimeoutMs);
      } catch (err) {
        s.disconnect();
        opening = null;
        throw err;
      }
      sub = s;
      return s;
    })();
    return opening;
  };

  return {
    async publish(channel, message) {
      checkEvent(channel, message);
      if (closed) throw new StoreUnavailableError('the Redis store is closed');
      local.deliver(channel, message);
      try {
        await client.publish(channelName(channel), `${sender} ${message}`);
      } catch (err) {
        throw toStoreError(err, 'publish');
      }
    },

    async subscribe(channel, listener) {
      checkEvent(channel);
      if (closed) throw new StoreUnavailableError('the Redis store is closed');
      const name = channelName(channel);
      const first = !local.channels().includes(channel);
      const off = await local.subscribe(channel, listener);
      if (first) {
        try {
          const s = await subscriber();
          byName.set(name, channel);
          await s.subscribe(name);
        } catch (err) {
          await off();
          throw toStoreError(err, 'subscribe');
        }
      }
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        await off();
        if (!local.channels().includes(channel) && sub !== null && !closed) {
          byName.delete(name);
          try {
            await sub.unsubscribe(name);
          } catch (err) {
            throw toStoreError(err, 'unsubscribe');
          }
        }
      };
    },

    async close() {
      closed = true;
      const s = sub ?? (opening ? await opening.catch(() => null) : null);
      sub = null;
      opening = null;
      if (s !== null) await closeConnection(s);
    },
  };
}
