/**
 * Cross-process {@link StoreEvents} over PostgreSQL `LISTEN`/`NOTIFY`.
 *
 * Every store of one schema shares one PostgreSQL channel
 * (`tessera_events_<schema>`); the payload carries the sending instance, the
 * Tessera channel and the message. Local subscribers get a message at once,
 * when it is published, and the listener skips the copy that comes back from
 * the server. The listening connection is opened on the first subscription,
 * closed after the last one, and reopened with backoff after a connection
 * loss. Messages sent while it is down are not replayed: each subscription's
 * `onStatus` is told `false` when the loss is seen and `true` once `LISTEN`
 * succeeded on a new connection (`onReconnect`, the older form, is called
 * then too).
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Notification } from 'pg';
import type { StoreEvents } from '../contract.js';
import { createDeliveryStatus } from '../shared/delivery-status.js';
import { checkEvent, createLocalEvents } from '../shared/local-events.js';
import type { Db, Dedicated } from './db.js';
import { toStoreError } from './errors.js';

/** Options of {@link createPostgresEvents}. */
export interface PostgresEventsOptions {
  readonly db: () => Db;
  /** The PostgreSQL channel (an identifier). */
  readonly channel: string;
  /** Errors of the background listener and of local listeners. */
  readonly onError: (err: unknown) => void;
  /**
   * Called after the listener reconnected (messages may have been missed
   * meanwhile). The older form of `subscribe`'s `onStatus`, which also tells
   * when the loss begins.
   */
  readonly onReconnect?: () => void;
  /** First reconnection delay, ms (doubles up to 5 s). */
  readonly reconnectDelayMs?: number;
}

/** {@link StoreEvents} plus lifecycle hooks for the store. */
export interface PostgresEvents extends StoreEvents {
  /** Whether the listening connection is up. */
  readonly listening: boolean;
  /** Stop listening and release the connection. */
  close(): Promise<void>;
}

/**
 * Create the events of a PostgreSQL store.
 * @example `const events = createPostgresEvents({ db: () => db, channel: 'tessera_events_tessera', onError });`
 */
export function createPostgresEvents(options: PostgresEventsOptions): PostgresEvents {
  const local = createLocalEvents(options.onError);
  const instance = randomBytes(8).toString('hex');
  const channel = options.channel;
  const baseDelay = options.reconnectDelayMs ?? 100;
  let conn: Dedicated | null = null;
  let connecting: Promise<void> | null = null;
  let closed = false;
  let wanted = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = baseDelay;
  const status = createDeliveryStatus(options.onError);

  const onNotification = (msg: Notification): void => {
    if (msg.channel !== channel || msg.payload === undefined) return;
    const a = msg.payload.indexOf(' ');
    const b = msg.payload.indexOf(' ', a + 1);
    if (a < 0 || b < 0) return;
    if (msg.payload.slice(0, a) === instance) return;
    local.deliver(msg.payload.slice(a + 1, b), msg.payload.slice(b + 1));
  };

  const detach = (c: Dedicated): void => {
    c.client.removeListener('notification', onNotification);
    c.client.removeListener('error', onLost);
    c.client.removeListener('end', onEnd);
  };

  function onLost(err: unknown): void {
    const c = conn;
    if (c === null) return;
    conn = null;
    detach(c);
    c.release(err instanceof Error ? err : new Error(String(err)));
    if (closed || !wanted) return;
    status.set(false);
    report(err);
    scheduleReconnect();
  }
  function onEnd(): void {
    onLost(new Error('the listening connection ended'));
  }

  const report = (err: unknown): void => {
    try {
      options.onError(toStoreError(err, 'listen'));
    } catch {
      // A failing error handler must not stop the listener.
    }
  };

  const connect = async (): Promise<void> => {
    const c = await options.db().dedicated();
    c.client.on('notification', onNotification);
    c.client.on('error', onLost);
    if (!c.shared) c.client.on('end', onEnd);
    try {
      await c.run(`LISTEN "${channel}"`);
    } catch (err) {
      detach(c);
      c.release(err as Error);
      throw err;
    }
    if (closed || !wanted) {
      detach(c);
      await c.run(`UNLISTEN "${channel}"`).catch(() => {});
      c.release();
      return;
    }
    conn = c;
    delay = baseDelay;
    if (!status.delivering) status.set(true);
  };

  const ensure = (): Promise<void> => {
    if (conn !== null) return Promise.resolve();
    connecting ??= connect().finally(() => {
      connecting = null;
    });
    return connecting;
  };

  function scheduleReconnect(): void {
    if (retryTimer !== undefined || closed || !wanted) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed || !wanted) return;
      ensure().then(
        () => {
          if (conn !== null) options.onReconnect?.();
        },
        (err: unknown) => {
          report(err);
          delay = Math.min(delay * 2, 5000);
          scheduleReconnect();
        },
      );
    }, delay);
    retryTimer.unref();
  }

  /**
   * Stop listening. The connection is detached synchronously, so a subscription
   * that arrives while the UNLISTEN is in flight opens a fresh one; a connect
   * already in flight sees `wanted` false and gives its connection back.
   */
  const stop = async (): Promise<void> => {
    wanted = false;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    const c = conn;
    conn = null;
    if (c === null) return;
    detach(c);
    try {
      await c.run(`UNLISTEN "${channel}"`);
      c.release();
    } catch (err) {
      c.release(err as Error);
    }
  };

  return {
    get listening() {
      return conn !== null;
    },
    async publish(ch, message) {
      checkEvent(ch, message);
      local.deliver(ch, message);
      try {
        await options.db().query({
          text: 'SELECT pg_notify($1::text, $2::text)',
          values: [channel, `${instance} ${ch} ${message}`],
        });
      } catch (err) {
        throw toStoreError(err, 'publish');
      }
    },
    async subscribe(ch, listener, subscribeOptions) {
      checkEvent(ch);
      const onStatus = subscribeOptions?.onStatus;
      const watcher = status.add(onStatus);
      const off = await local.subscribe(ch, listener);
      wanted = true;
      try {
        await ensure();
      } catch (err) {
        status.remove(watcher);
        await off();
        if (local.channels().length === 0) wanted = false;
        throw toStoreError(err, 'subscribe');
      }
      // Set up while the connection is lost and not yet back.
      status.catchUp(watcher);
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        status.remove(watcher);
        await off();
        if (local.channels().length === 0) await stop();
      };
    },
    async close() {
      closed = true;
      // Nothing is delivered any more.
      status.close();
      await stop();
      await connecting?.catch(() => {});
    },
  };
}
