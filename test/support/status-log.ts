/**
 * Records the delivery statuses a store reports to a subscription
 * (`subscribe`'s `onStatus`), and waits for them by event, not by polling.
 */

/** The statuses seen so far, and a way to wait for the next ones. */
export interface StatusLog {
  /** Pass as `subscribe(channel, listener, { onStatus })`. */
  readonly onStatus: (live: boolean) => void;
  /** Every status reported, in order. */
  readonly seen: readonly boolean[];
  /** Resolve with the `n`th status (1-based) once it is reported; reject after `timeoutMs`. */
  nth(n: number, timeoutMs?: number): Promise<boolean>;
}

/**
 * Create a status log.
 * @example `const log = statusLog(); await events.subscribe('c', fn, { onStatus: log.onStatus }); expect(await log.nth(1)).toBe(false);`
 */
export function statusLog(): StatusLog {
  const seen: boolean[] = [];
  let waiters: Array<() => void> = [];
  return {
    seen,
    onStatus(live) {
      seen.push(live);
      const w = waiters;
      waiters = [];
      for (const wake of w) wake();
    },
    nth(n, timeoutMs = 20_000) {
      return new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`status #${n} not reported in time (seen ${JSON.stringify(seen)})`)),
          timeoutMs,
        );
        const check = () => {
          if (seen.length >= n) {
            clearTimeout(timer);
            resolve(seen[n - 1] as boolean);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}
