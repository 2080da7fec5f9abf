/** Shared wiring of the DynamoDB tests. */
import { fileURLToPath } from 'node:url';
import { createDynamoStore, type DynamoStore } from '../../../src/stores/dynamodb/index.js';
import { sharedTestDynamo, uniqueTableName } from '../../support/dynalite.js';

/** Absolute path of the module race workers import to open a store. */
export const WORKER_MODULE = fileURLToPath(new URL('./worker-store.ts', import.meta.url));

/** A migrated store over a fresh table on the shared dynalite; closing it destroys its client. */
export async function freshStore(
  extra: Partial<Parameters<typeof createDynamoStore>[0]> = {},
): Promise<DynamoStore & { endpoint: string; tableName: string }> {
  const dyn = await sharedTestDynamo();
  const client = dyn.client();
  const store = createDynamoStore({
    client,
    tableName: uniqueTableName(),
    ...extra,
  } as Parameters<typeof createDynamoStore>[0]);
  await store.migrate();
  const close = store.close.bind(store);
  return Object.assign(store as DynamoStore & { tableName: string }, {
    endpoint: dyn.endpoint,
    async close() {
      await close();
      client.destroy();
    },
  });
}
