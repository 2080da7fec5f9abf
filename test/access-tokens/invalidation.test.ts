/**
 * The verify cache's subscription to store events, on the memory store with
 * an events object that fails as told: failures are reported and retried, the
 * cache is not used until the subscription holds, publish failures are
 * reported without failing the change.
 */
import { describe, expect, it } from 'vitest';
import { createAccessTokens } from '../../src/access-tokens/index.js';
import { createFakeClock } from '../../src/core/clock.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { Store, StoreEvents, SubscribeOptions } from '../../src/stores/contract.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';

/** `store` with `events` replaced. */
function withEvents(store: Store, events: StoreEvents): Store {
  return new Proxy(store, {
    get: (target, prop, receiver) =>
      prop === 'events' ? events : Reflect.get(target, prop, receiver),
  });
}

/** Events whose subscriptions fail while `state.down` (and whose publish fails when told). */
function flaky(store: Store, down: boolean, publishFails = false) {
  const state = { subscribes: 0, down };
  const events: StoreEvents = {
    async publish(channel, message) {
      if (publishFails) throw new StoreUnavailableError('events are down');
      await store.events.publish(channel, message);
    },
    async subscribe(channel, listener) {
      state.subscribes++;
      if (state.down) throw new StoreUnavailableError('events are down');
      return store.events.subscribe(channel, listener);
    },
  };
  return { store: withEvents(store, events), state };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('access tokens: the verify cache and store events', () => {
  it('reads the store, not the cache, until a failed subscription succeeds on a retry, reporting each failure', async () => {
    const memory = createMemoryStore();
    const clock = createFakeClock();
    const { store, state } = flaky(memory, true);
    const errors: unknown[] = [];
    const pats = createAccessTokens({
      store,
      clock,
      cache: { ttlMs: 300_000 },
      onError: (err) => errors.push(err),
    });
    const { token, record } = await pats.issue({ owner: 'o' });
    const ref = { collection: 'pat', key: record.tokenId };
    await until(() => errors.length >= 1);
    expect(errors[0]).toBeInstanceOf(StoreUnavailableError);

    // Not subscribed: a change this instance cannot hear of is seen at once.
    expect((await pats.verify(token)).valid).toBe(true);
    await memory.update(ref, { set: { revokedAt: clock.now() } });
    expect((await pats.verify(token)).reason).toBe('revoked');
    await memory.update(ref, { set: { revokedAt: null } });
    expect((await pats.verify(token)).valid).toBe(true);

    state.down = false;
    await pats.ready();
    expect(errors).toHaveLength(state.subscribes - 1);
    // Subscribed: the cache answers again.
    expect((await pats.verify(token)).valid).toBe(true);
    await memory.update(ref, { set: { revokedAt: clock.now() } });
    expect((await pats.verify(token)).valid).toBe(true);
    await memory.update(ref, { set: { revokedAt: clock.now() } });
    await store.events.publish('pat:changed', record.tokenId);
    expect((await pats.verify(token)).reason).toBe('revoked');
    await pats.close();
  });

  it("follows the store's delivery status: reads the store while it is down, starts an empty cache when it is back, also when the first status comes before subscribe resolves", async () => {
    const memory = createMemoryStore();
    const clock = createFakeClock();
    let onStatus: SubscribeOptions['onStatus'];
    const events: StoreEvents = {
      publish: (channel, message) => memory.events.publish(channel, message),
      async subscribe(channel, listener, options) {
        onStatus = options?.onStatus;
        onStatus?.(false); // the connection dropped while the subscription was set up
        return memory.events.subscribe(channel, listener);
      },
    };
    const store = withEvents(memory, events);
    const pats = createAccessTokens({ store, clock, cache: { ttlMs: 300_000 } });
    const { token, record } = await pats.issue({ owner: 'o' });
    const ref = { collection: 'pat', key: record.tokenId };
    await until(() => onStatus !== undefined);
    let ready = false;
    const waiting = pats.ready().then(() => {
      ready = true;
    });

    // Subscribed but not delivering: every verify reads the store.
    expect((await pats.verify(token)).valid).toBe(true);
    await memory.update(ref, { set: { revokedAt: clock.now() } });
    expect((await pats.verify(token)).reason).toBe('revoked');
    await memory.update(ref, { set: { revokedAt: null } });
    expect(ready).toBe(false);

    onStatus?.(true);
    await waiting;
    expect((await pats.verify(token)).valid).toBe(true); // cached now
    await memory.update(ref, { set: { revokedAt: clock.now() } });
    expect((await pats.verify(token)).valid).toBe(true); // from the cache: no event was sent

    // Delivery stops: the stale entry is no longer answered, and not after it resumes either.
    onStatus?.(false);
    expect((await pats.verify(token)).reason).toBe('revoked');
    onStatus?.(true);
    expect((await pats.verify(token)).reason).toBe('revoked');
    await pats.close();
  });

  it('keeps retrying when onError throws, stops once closed, and then reads the store', async () => {
    const memory = createMemoryStore();
    const clock = createFakeClock();
    const { store, state } = flaky(memory, true);
    const pats = createAccessTokens({
      store,
      clock,
      cache: { ttlMs: 300_000 },
      onError: () => {
        throw new Error('a broken handler');
      },
    });
    await until(() => state.subscribes >= 2);
    await pats.close();
    await pats.ready(); // settles once closed
    const after = state.subscribes;
    // The pending retry (at most 500 ms after the second failure) never runs.
    await new Promise((r) => setTimeout(r, 700));
    expect(state.subscribes).toBe(after);
    const { token, record } = await pats.issue({ owner: 'o' });
    expect((await pats.verify(token)).valid).toBe(true);
    await memory.update({ collection: 'pat', key: record.tokenId }, { set: { revokedAt: 1 } });
    expect((await pats.verify(token)).reason).toBe('revoked');
  });

  it('reports a failed publish and still applies the change', async () => {
    const { store } = flaky(createMemoryStore(), false, true);
    const errors: unknown[] = [];
    const pats = createAccessTokens({ store, onError: (err) => errors.push(err) });
    const { token, record } = await pats.issue({ owner: 'o' });
    await pats.revoke(record.tokenId);
    expect((await pats.verify(token)).reason).toBe('revoked');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreUnavailableError);
  });

  it('warns through the process by default', async () => {
    const { store, state } = flaky(createMemoryStore(), true);
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const pats = createAccessTokens({ store, cache: {} });
    const warning = await warned;
    expect(warning.message).toBe('tessera access-tokens: store events: events are down');
    state.down = false;
    await pats.ready();
    await pats.close();
  });

  it('rejects an onError that is not a function', () => {
    expect(() =>
      createAccessTokens({ store: createMemoryStore(), onError: 'log' as unknown as () => void }),
    ).toThrow(new TypeError('options.onError must be a function'));
  });
});
