/**
 * Write ids and deadlines (no server needed): Redis's clock is read once
 * before the first write and again in the background after a minute; the
 * estimate errs early; a `late` answer can only move it forward.
 */
import { describe, expect, it } from 'vitest';
import {
  CLOCK_SLACK_MS,
  createWriteOnce,
  newWriteId,
  timeToMs,
} from '../../../src/stores/redis/write-once.js';

/** A monotonic clock the test moves, and a Redis clock `skew` ms ahead of it. */
function clocks(skew: number) {
  let mono = 1000;
  let reads = 0;
  return {
    monotonic: () => mono,
    advance: (ms: number) => {
      mono += ms;
    },
    get reads() {
      return reads;
    },
    readServerTime: async () => {
      reads++;
      return mono + skew;
    },
  };
}

describe('write ids and deadlines', () => {
  it('makes ids unique within a process, from a random per-process prefix', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newWriteId()));
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}[0-9a-z]+$/);
  });

  it('reads Redis time before the first stamp and puts deadlines in Redis time', async () => {
    const c = clocks(5_000_000);
    const once = createWriteOnce(c.readServerTime, { maxDelayMs: 2000, monotonic: c.monotonic });
    expect(once.keepMs).toBe(2000 + CLOCK_SLACK_MS);
    const first = once.stamp();
    expect(first).toBeInstanceOf(Promise);
    expect((await first).deadline).toBe(1000 + 5_000_000 + 2000);
    c.advance(30_000);
    const second = once.stamp();
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as { deadline: number }).deadline).toBe(31_000 + 5_000_000 + 2000);
    expect(c.reads).toBe(1);
  });

  it('shares one clock read between concurrent first stamps and reads again after a minute', async () => {
    const c = clocks(-700);
    const once = createWriteOnce(c.readServerTime, { maxDelayMs: 100, monotonic: c.monotonic });
    await Promise.all([once.stamp(), once.stamp(), once.stamp()]);
    expect(c.reads).toBe(1);
    c.advance(60_001);
    once.stamp();
    expect(c.reads).toBe(2);
  });

  it('fails a stamp while Redis time cannot be read, and reads again on the next one', async () => {
    let fail = true;
    const once = createWriteOnce(
      async () => {
        if (fail) throw new Error('Connection is closed.');
        return 42_000;
      },
      { maxDelayMs: 10, monotonic: () => 0 },
    );
    await expect(once.stamp()).rejects.toThrow('Connection is closed.');
    fail = false;
    expect((await once.stamp()).deadline).toBe(42_010);
  });

  it('moves the estimate forward, never back, on a late answer', async () => {
    const c = clocks(0);
    const once = createWriteOnce(c.readServerTime, { maxDelayMs: 10, monotonic: c.monotonic });
    await once.stamp();
    once.sawServerTime(1000 + 5000);
    expect((once.stamp() as { deadline: number }).deadline).toBe(1000 + 5000 + 10);
    once.sawServerTime(0);
    expect((once.stamp() as { deadline: number }).deadline).toBe(1000 + 5000 + 10);
  });

  it('converts a TIME answer to ms', () => {
    expect(timeToMs(['1700000000', '123456'])).toBe(1_700_000_000_123);
  });
});
