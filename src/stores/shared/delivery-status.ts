/**
 * The delivery status of a store's cross-process events, as each
 * subscription's `onStatus` hears it (see `SubscribeOptions` in the
 * contract): one flag for the connection, and per subscription what it was
 * told last, so calls alternate and start with `false`.
 * @module
 */

/** One subscription's view: pass it back to {@link DeliveryStatus} methods. */
export interface StatusWatcher {
  readonly onStatus: (live: boolean) => void;
  /** What it was told last (it starts live). */
  live: boolean;
}

/** The delivery status of one events connection and its subscriptions. */
export interface DeliveryStatus {
  /** Whether the connection delivers every subscribed channel. */
  readonly delivering: boolean;
  /** Tell every subscription (a change only) and remember it. */
  set(live: boolean): void;
  /** Follow a subscription's `onStatus` (none: `undefined`, nothing to follow). */
  add(onStatus: ((live: boolean) => void) | undefined): StatusWatcher | undefined;
  /** Stop following it. */
  remove(watcher: StatusWatcher | undefined): void;
  /** A subscription set up during a gap hears `false` now. */
  catchUp(watcher: StatusWatcher | undefined): void;
  /** The store closed: every subscription hears `false`, none is followed any more. */
  close(): void;
}

/**
 * Create the delivery status of an events connection (delivering at first).
 * @param onError - receives what an `onStatus` throws (the connection's handling goes on)
 * @example `const status = createDeliveryStatus(onError); socket.on('close', () => status.set(false));`
 */
export function createDeliveryStatus(onError: (err: unknown) => void): DeliveryStatus {
  const watchers = new Set<StatusWatcher>();
  let delivering = true;

  const tell = (w: StatusWatcher, live: boolean): void => {
    if (w.live === live) return;
    w.live = live;
    try {
      w.onStatus(live);
    } catch (err) {
      try {
        onError(err);
      } catch {
        // A failing error handler must not break the connection's event handling.
      }
    }
  };

  return {
    get delivering() {
      return delivering;
    },
    set(live) {
      delivering = live;
      for (const w of [...watchers]) tell(w, live);
    },
    add(onStatus) {
      if (onStatus === undefined) return undefined;
      const w: StatusWatcher = { onStatus, live: true };
      watchers.add(w);
      return w;
    },
    remove(watcher) {
      if (watcher !== undefined) watchers.delete(watcher);
    },
    catchUp(watcher) {
      if (watcher !== undefined && !delivering) tell(watcher, false);
    },
    close() {
      for (const w of [...watchers]) tell(w, false);
      watchers.clear();
    },
  };
}
