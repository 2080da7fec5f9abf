/**
 * `TesseraTable`: the generic Tessera table for `tessera/stores/dynamodb`.
 * @module
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  DEFAULT_INDEX_PREFIX,
  INDEX_SLOT_ATTRIBUTES,
  indexNames,
  PARTITION_KEY,
  SORT_KEY,
  TESSERA_TABLE_ENV,
  TTL_ATTRIBUTE,
} from '../stores/dynamodb/table-design.js';
import {
  type GrantAccessOptions,
  type GrantTarget,
  grantTableAccess,
  type TableOptions,
  tableProps,
} from './table-options.js';

/** Props of {@link TesseraTable}. */
export interface TesseraTableProps extends TableOptions {
  /** Prefix of the four lookup index names (default `gsi`: `gsi1`..`gsi4`). */
  readonly indexPrefix?: string;
}

/**
 * Create the DynamoDB table the Tessera store uses: partition key `pk`, sort
 * key `sk` (strings), four sparse KEYS_ONLY lookup indexes, TTL on `ttl`,
 * on-demand billing; point-in-time recovery, deletion protection and
 * retention on by default.
 *
 * @example
 * ```ts
 * const tessera = new TesseraTable(this, 'Tessera', { removalPolicy: RemovalPolicy.DESTROY });
 * tessera.grantAccess(handler); // sets TESSERA_DYNAMODB_TABLE, TESSERA_DYNAMODB_INDEX_PREFIX
 * // in the handler: const store = createDynamoStoreFromEnv();
 * ```
 */
export class TesseraTable extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;
  /** Names of the four lookup indexes. */
  readonly indexNames: readonly string[];
  /** Their prefix. */
  readonly indexPrefix: string;
  readonly #encryptionKey: TableOptions['encryptionKey'];

  /**
   * @throws TypeError for an index prefix that is not 1..250 characters of `A-Za-z0-9_.-`
   */
  constructor(scope: Construct, id: string, props: TesseraTableProps = {}) {
    super(scope, id);
    this.indexPrefix = props.indexPrefix ?? DEFAULT_INDEX_PREFIX;
    this.indexNames = indexNames(this.indexPrefix);
    this.#encryptionKey = props.encryptionKey;
    this.table = createTesseraTable(this, 'Table', props, this.indexNames);
  }

  /**
   * Grant `fn` least-privilege access (the item actions the store uses, on
   * the table and its indexes; the KMS key's use when there is one) and set
   * `TESSERA_DYNAMODB_TABLE` and `TESSERA_DYNAMODB_INDEX_PREFIX`.
   */
  grantAccess(fn: GrantTarget, options?: GrantAccessOptions): iam.Grant {
    fn.addEnvironment(TESSERA_TABLE_ENV.tableName, this.table.tableName);
    fn.addEnvironment(TESSERA_TABLE_ENV.indexPrefix, this.indexPrefix);
    return grantTableAccess(this.table, fn, this.#encryptionKey, options);
  }
}

/** The generic table (shared with the `ActionTokens` construct). */
export function createTesseraTable(
  scope: Construct,
  id: string,
  options: TableOptions,
  names: readonly string[],
): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    ...tableProps(options),
    partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
    sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: TTL_ATTRIBUTE,
  });
  INDEX_SLOT_ATTRIBUTES.forEach((slot, i) => {
    table.addGlobalSecondaryIndex({
      indexName: names[i] as string,
      partitionKey: { name: slot, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
  });
  return table;
}
