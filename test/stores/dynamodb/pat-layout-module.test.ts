/**
 * The whole access-tokens conformance suite (the real `tessera/access-tokens`
 * module) with its collection stored in @access-tokens/core tables, in that
 * package's item format, through `createAccessTokensSeedLayout`.
 *
 * The suite picks a fresh collection name per test; this store gives each
 * new collection its own seed-layout table (created on first use), so every
 * test runs on an empty table as it does on the other backends.
 */
import { afterAll, describe, it } from 'vitest';
import type { Store } from '../../../src/stores/contract.js';
import {
  createAccessTokensSeedLayout,
  createDynamoStore,
} from '../../../src/stores/dynamodb/index.js';
import { createLocalEvents } from '../../../src/stores/shared/local-events.js';
import { defineAccessTokensSuite } from '../../../src/testing/index.js';
import {
  createSeedAccessTokensTable,
  sharedTestDynamo,
  stopSharedTestDynamo,
  uniqueTableName,
} from '../../support/dynalite.js';

afterAll(() => stopSharedTestDynamo());

/** A store whose every collection is a fresh seed-layout table. */
async function seedTablePerCollection(): Promise<Store> {
  const dyn = await sharedTestDynamo();
  const client = dyn.client();
  const stores = new Map<string, Promise<Store>>();
  const storeFor = (collection: string): Promise<Store> => {
    let s = stores.get(collection);
    if (s === undefined) {
      s = (async () => {
        const tableName = uniqueTableName('seed-pat');
        await createSeedAccessTokensTable(client, tableName);
        const store = createDynamoStore({
          client,
          tableName: null,
          layouts: {
            [collection]: createAccessTokensSeedLayout({
              tableName,
              indexes: { owner: { field: 'owner' } },
            }),
          },
        });
        await store.migrate();
        return store;
      })();
      stores.set(collection, s);
    }
    return s;
  };
  const events = createLocalEvents();
  return {
    kind: 'dynamodb',
    events,
    async migrate() {},
    get: async (ref) => (await storeFor(ref.collection)).get(ref),
    getMany: async (refs) =>
      Promise.all(refs.map(async (r) => (await storeFor(r.collection)).get(r))),
    put: async (record, o) => (await storeFor(record.collection)).put(record, o),
    update: async (ref, m, o) => (await storeFor(ref.collection)).update(ref, m, o),
    delete: async (ref, w) => (await storeFor(ref.collection)).delete(ref, w),
    transact: async (ops, now) => {
      const first = ops[0];
      const c =
        first === undefined
          ? 'x'
          : first.type === 'put'
            ? first.record.collection
            : first.ref.collection;
      return (await storeFor(c)).transact(ops, now);
    },
    list: async (c, o) => (await storeFor(c)).list(c, o),
    findByIndex: async (c, n, v, o) => (await storeFor(c)).findByIndex(c, n, v, o),
    sweep: async (now, o) => {
      let n = 0;
      for (const s of stores.values()) n += await (await s).sweep(now, o);
      return n;
    },
    async close() {
      for (const s of stores.values()) await (await s).close();
      client.destroy();
    },
  };
}

defineAccessTokensSuite({
  name: 'dynamodb, @access-tokens/core table layout',
  runner: { describe, it },
  createStore: () => seedTablePerCollection(),
});
