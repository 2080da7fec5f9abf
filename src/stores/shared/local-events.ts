/**
 * In-process {@link StoreEvents}: for stores that live in one process (memory),
 * and as the local fan-out of stores with a cross-process channel.
 * @module
 */
import { InvalidInputError } from '../../core/errors.js';
import type { StoreEvents } from '../contract.js';

const CHANNEL_RE = /^[a-z][a-z0-9:_-]{0,63}$/;

/** Check a channel name and message size. */
export function checkEvent(channel: string, message?: string): void {
  if (typeof channel !== 'string' || !CHANNEL_RE.test(channel)) {
    throw new InvalidInputError('channel must match /^[a-z][a-z0-9:_-]{0,63}$/', 'channel');
  }
  if (message !== undefined && (typeof message !== 'string' || Buffer.byteLength(message) > 1024)) {
    throw new InvalidInputError('message must be a string of at most 1 KiB', 'message');
  }
}

/** Local events plus a hook to deliver messages that arrive from elsewhere. */
export interface LocalEvents extends StoreEvents {
  /** Deliver a message to local subscribers only. */
  deliver(channel: string, message: string): void;
  /** Channels with at least one local subscriber. */
  channels(): string[];
}

/**
 * Create an in-process event hub. Listener errors are reported to `onError`
 * (default: ignored) and never reach the publisher.
 * @example `const events = createLocalEvents(); await events.publish('pat:revoked', id);`
 */
export function createLocalEvents(onError: (err: unknown) => void = () => {}): LocalEvents {
  const listeners = new Map<string, Set<(m: string) => void>>();
  const deliver = (channel: string, message: string) => {
    for (const l of listeners.get(channel) ?? []) {
      try {
        l(message);
      } catch (err) {
        onError(err);
      }
    }
  };
  return {
    deliver,
    channels: () => [...listeners.keys()],
    async publish(channel, message) {
      checkEvent(channel, message);
      deliver(channel, message);
    },
    async subscribe(channel, listener) {
      checkEvent(channel);
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      const fn = (m: string) => listener(m);
      set.add(fn);
      return async () => {
        set.delete(fn);
        if (set.size === 0) listeners.delete(channel);
      };
    },
  };
}
