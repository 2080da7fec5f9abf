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
 * Each subscription's `onStatus` is told so: `false` when the subscriber
 * connection closes, `true` once it is back and every channel's `SUBSCRIBE`
 * is confirmed. On a Redis Cluster the subscriber is a connection to one
 * master (not the Cluster's own subscriber, which changes nodes silently).
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../../core/errors.js';
import type { StoreEvents } from '../contract.js';
import { createDeliveryStatus } from '../shared/delivery-status.js';
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

/** First delay before a subscriber connection that ended is replaced, ms (doubling). */
const REOPEN_FIRST_MS = 250;
/** Longest delay between attempts to replace it, ms. */
const REOPEN_MAX_MS = 30_000;
/** Attempts to reconnect to a Cluster node before its connection ends and another master is chosen. */
const NODE_ATTEMPTS = 10;

/** Reconnection delays of the subscriber connection to a Cluster node, ms. */
const nodeRetry = (times: number): number | null =>
  times > NODE_ATTEMPTS ? null : Math.min(50 * 2 ** Math.min(times, 6), 2000);

/**
 * Open a subscriber connection: a duplicate of a single-node client; for a
 * Cluster, a duplicate of one master's connection (a `PUBLISH` reaches every
 * node), kept to that node with reconnection, because the Cluster's own
 * subscriber moves between nodes without telling anyone.
 */
async function openSubscriber(
  client: Redis | Cluster,
  timeoutMs: number,
): Promise<Redis | Cluster> {
  if (!client.isCluster) return client.duplicate();
  const cluster = client as Cluster;
  if (cluster.status !== 'ready') await waitReady(cluster, timeoutMs);
  const masters = cluster.nodes('master');
  const node = masters[randomInt(Math.max(masters.length, 1))];
  if (node === undefined) throw new StoreUnavailableError('the Redis Cluster has no known master');
  return node.duplicate({ lazyConnect: false, readOnly: false, retryStrategy: nodeRetry });
}

/**
 * Create the events of a Redis store.
 *
 * Delivery status (`subscribe`'s `onStatus`): `false` when the subscriber
 * connection closes (it then reconnects and ioredis resubscribes), `true`
 * once it is ready again and Redis has confirmed a `SUBSCRIBE` of every
 * channel this store listens to. A connection that ends for good (a
 * `retryStrategy` that gave up; on a Cluster, ten failed reconnections to its
 * node) is replaced by a new one (on a Cluster, to a master chosen again),
 * tried after 250 ms and then at doubling intervals up to 30 s; `true` once it
 * has subscribed every channel.
 * @param client - the store's connection (used to publish and to duplicate)
 * @param channelName - maps an event channel to its pub/sub channel name
 * @param options - `readyTimeoutMs` for the subscriber connection; `onError`
 *   receives listener errors, subscriber connection errors and errors thrown
 *   by an `onStatus`
 */
export function createRedisEvents(
  client: Redis | Cluster,
  channelName: (channel: string) => string,
  options: { readyTimeoutMs: number; onError: (err: unknown) => void },
): RedisEvents {
  const local = createLocalEvents(options.onError);
  const sender = randomBytes(8).toString('hex');
  const byName = new Map<string, string>();
  const status = createDeliveryStatus(options.onError);
  let sub: Redis | Cluster | null = null;
  let opening: Promise<Redis | Cluster> | null = null;
  let closed = false;
  /** Counts connection losses, so a confirmation that raced one is ignored. */
  let losses = 0;

  const onMessage = (name: string, payload: string) => {
    const channel = byName.get(name);
    if (channel === undefined) return;
    const space = payload.indexOf(' ');
    if (space < 0 || payload.slice(0, space) === sender) return;
    local.deliver(channel, payload.slice(space + 1));
  };

  /** The connection is ready after a loss: confirm every channel, then report. */
  const confirm = (s: Redis | Cluster): void => {
    const at = losses;
    // After ioredis's own resubscription (sent in the same turn), never before it.
    setImmediate(() => {
      const names = [...byName.keys()];
      const subscribed = names.length === 0 ? Promise.resolve() : s.subscribe(...names);
      subscribed.then(
        () => {
          if (!closed && sub === s && at === losses) status.set(true);
        },
        (err: unknown) => {
          // Still not delivering; the next reconnection tries again.
          if (!closed && sub === s) options.onError(toStoreError(err, 'subscribe'));
        },
      );
    });
  };

  /** Follow a ready connection's losses and recoveries. */
  const watch = (s: Redis | Cluster): void => {
    s.on('close', () => {
      if (closed || sub !== s) return;
      losses++;
      if (status.delivering) status.set(false);
    });
    s.on('ready', () => {
      if (!closed && sub === s) confirm(s);
    });
    s.on('end', () => {
      if (closed || sub !== s) return;
      // Ended for good (its retry strategy gave up, or a Cluster node it was
      // kept to is gone): open a new connection for the channels listened to.
      sub = null;
      opening = null;
      options.onError(new StoreUnavailableError('the Redis subscriber connection ended'));
      if (byName.size > 0) reopen(REOPEN_FIRST_MS);
    });
  };

  /** Open a new subscriber connection after `delayMs`, backing off while it fails. */
  const reopen = (delayMs: number): void => {
    const timer = setTimeout(() => {
      if (closed || sub !== null || opening !== null || byName.size === 0) return;
      subscriber().catch((err: unknown) => {
        if (closed) return;
        options.onError(toStoreError(err, 'subscribe'));
        reopen(Math.min(delayMs * 2, REOPEN_MAX_MS));
      });
    }, delayMs);
    timer.unref?.();
  };

  const subscriber = (): Promise<Redis | Cluster> => {
    if (sub !== null) return Promise.resolve(sub);
    opening ??= (async () => {
      let s: Redis | Cluster | undefined;
      try {
        s = await openSubscriber(client, options.readyTimeoutMs);
        s.on('error', (err: unknown) => options.onError(err));
        s.on('message', onMessage);
        await waitReady(s, options.readyTimeoutMs);
        // A connection that replaces one that ended picks up its channels.
        const names = [...byName.keys()];
        if (names.length > 0) await s.subscribe(...names);
      } catch (err) {
        s?.disconnect();
        opening = null;
        throw err;
      }
      if (closed) {
        s.disconnect();
        throw new StoreUnavailableError('the Redis store is closed');
      }
      sub = s;
      watch(s);
      if (!status.delivering) status.set(true);
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

    async subscribe(channel, listener, subscribeOptions) {
      checkEvent(channel);
      if (closed) throw new StoreUnavailableError('the Redis store is closed');
      const onStatus = subscribeOptions?.onStatus;
      const watcher = status.add(onStatus);
      const name = channelName(channel);
      const first = !local.channels().includes(channel);
      const off = await local.subscribe(channel, listener);
      try {
        const s = await subscriber();
        if (first) {
          byName.set(name, channel);
          await s.subscribe(name);
        }
      } catch (err) {
        status.remove(watcher);
        await off();
        throw toStoreError(err, 'subscribe');
      }
      // Set up while the connection is between a loss and its confirmation.
      status.catchUp(watcher);
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        status.remove(watcher);
        await off();
        if (local.channels().includes(channel)) return;
        byName.delete(name);
        if (sub !== null && !closed) {
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
      // Nothing is delivered any more.
      status.close();
      const s = sub ?? (opening ? await opening.catch(() => null) : null);
      sub = null;
      opening = null;
      if (s !== null) await closeConnection(s);
    },
  };
}
