/**
 * Opened by race worker processes (see `src/testing/race.ts`): a DynamoDB
 * store over the table the test names, on the test's dynalite endpoint.
 */
import { createDynamoStore, type DynamoStore } from '../../../src/stores/dynamodb/index.js';
import { testClient } from '../../support/dynalite.js';

/** What a worker receives as `arg`. */
export interface WorkerArg {
  readonly endpoint: string;
  readonly tableName: string;
}

/** Open (and migrate: idempotent, the table exists) a store over `arg.tableName`. */
export async function createStore(arg: WorkerArg): Promise<DynamoStore> {
  const client = testClient(arg.endpoint);
  const store = createDynamoStore({ client, tableName: arg.tableName });
  await store.migrate();
  const close = store.close.bind(store);
  return Object.assign(store, {
    async close() {
      await close();
      client.destroy();
    },
  });
}
