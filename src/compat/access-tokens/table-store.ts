/**
 * The seed's table mode of `DynamoDBPat`: a Tessera store over an existing
 * @access-tokens/core table (`createAccessTokensSeedLayout`), built on first
 * use. The DynamoDB store module (and with it `@aws-sdk/client-dynamodb`) is
 * imported only then, so `tessera/compat/access-tokens` never needs the AWS
 * SDK when a `store` is passed.
 *
 * Nothing here creates or changes the table (no `migrate()`): as with the
 * seed, it must exist, with partition key `tokenId` (String). A missing table
 * surfaces on the first operation as the store's `StoreError`.
 * @module
 */
import type { Store, StoreEvents } from '../../stores/contract.js';
import type { DynamoDBSendClient } from '../../stores/dynamodb/errors.js';
import { checkTableName } from '../../stores/dynamodb/table-design.js';

/** What the table mode needs from the constructor options. */
export interface TableStoreOptions {
  readonly tableName: unknown;
  readonly ddbClient?: unknown;
  readonly docClient?: unknown;
  readonly ownerIndexName?: unknown;
  readonly collection: string;
}

/** A store built on first use, and whether this facade must close it. */
export interface TableStore {
  readonly store: Store;
  /** Close the store if it was built (and the client, if the store created it). */
  close(): Promise<void>;
}

function checkClient(client: unknown, name: string): DynamoDBSendClient | undefined {
  if (client === undefined) return undefined;
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof (client as { send?: unknown }).send !== 'function'
  ) {
    throw new TypeError(
      `${name} must be a ${name === 'docClient' ? 'DynamoDBDocumentClient' : 'DynamoDBClient'}`,
    );
  }
  return client as DynamoDBSendClient;
}

/**
 * A store over the seed's table, created (with its client) on first use.
 * `docClient` wins over `ddbClient`, which wins over a client the store
 * creates itself from the environment (region, credentials) and destroys on
 * `close()`; a client you pass stays yours.
 *
 * @throws TypeError for a bad table name, client or owner index name
 */
export function createTableStore(options: TableStoreOptions): TableStore {
  checkTableName(options.tableName);
  const tableName = options.tableName;
  const client =
    checkClient(options.docClient, 'docClient') ?? checkClient(options.ddbClient, 'ddbClient');
  const gsiName = options.ownerIndexName;
  if (gsiName !== undefined) checkTableName(gsiName, 'ownerIndexName');
  const { collection } = options;

  let pending: Promise<Store> | undefined;
  const open = (): Promise<Store> => {
    pending ??= (async () => {
      let dynamo: typeof import('../../stores/dynamodb/index.js');
      try {
        dynamo = await import('../../stores/dynamodb/index.js');
      } catch (err) {
        pending = undefined;
        throw new Error(
          'DynamoDBPat without `store` uses the DynamoDB table: install @aws-sdk/client-dynamodb ' +
            '(or pass a Tessera `store`)',
          { cause: err },
        );
      }
      return dynamo.createDynamoStore({
        ...(client === undefined ? {} : { client }),
        tableName: null,
        layouts: {
          [collection]: dynamo.createAccessTokensSeedLayout({
            tableName,
            indexes: {
              owner: { field: 'owner', ...(gsiName === undefined ? {} : { gsiName }) },
            },
          }),
        },
      });
    })();
    return pending;
  };

  const events: StoreEvents = {
    publish: async (channel, message) => (await open()).events.publish(channel, message),
    subscribe: async (channel, listener) => (await open()).events.subscribe(channel, listener),
  };
  const store: Store = {
    kind: 'dynamodb',
    events,
    // The seed's table exists already; it is never created or changed here.
    migrate: async () => {},
    get: async (ref) => (await open()).get(ref),
    getMany: async (refs) => (await open()).getMany(refs),
    put: async (record, o) => (await open()).put(record, o),
    update: async (ref, mutation, o) => (await open()).update(ref, mutation, o),
    delete: async (ref, where) => (await open()).delete(ref, where),
    transact: async (ops, now) => (await open()).transact(ops, now),
    list: async (collection, o) => (await open()).list(collection, o),
    findByIndex: async (collection, name, value, o) =>
      (await open()).findByIndex(collection, name, value, o),
    sweep: async (now, o) => (await open()).sweep(now, o),
    close: async () => {
      const opened = pending;
      if (opened === undefined) return;
      const s = await opened.catch(() => undefined);
      await s?.close();
    },
  };
  return Object.freeze({ store, close: () => store.close() });
}
