/**
 * `AccessTokensTable`: a table in the @access-tokens/core layout, for
 * deployments that keep that package's format (and, through the
 * `createAccessTokensSeedLayout` store layout, share the table with it).
 * @module
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  ACCESS_TOKENS_SEED_KEY,
  ACCESS_TOKENS_SEED_TTL,
  ACCESS_TOKENS_TABLE_ENV,
} from '../stores/dynamodb/table-design.js';
import {
  type GrantAccessOptions,
  type GrantTarget,
  grantTableAccess,
  type TableOptions,
  tableProps,
} from './table-options.js';

/** Props of {@link AccessTokensTable}. */
export interface AccessTokensTableProps extends TableOptions {
  /**
   * Add the GSI `owner-index` (partition key `owner`, KEYS_ONLY) that the
   * seed's README recommends, so lookups by owner query instead of scanning
   * (default false).
   */
  readonly ownerIndex?: boolean;
}

/**
 * The @access-tokens/core table: partition key `tokenId` (string), TTL on
 * `expiresAt` (epoch seconds), on-demand billing.
 *
 * @example
 * ```ts
 * const pats = new AccessTokensTable(this, 'Pats', { ownerIndex: true });
 * pats.grantAccess(apiFunction, { scan: true }); // list() scans this layout
 * ```
 */
export class AccessTokensTable extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;
  /** The owner index name, when created. */
  readonly ownerIndexName: string | undefined;
  readonly #encryptionKey: TableOptions['encryptionKey'];

  constructor(scope: Construct, id: string, props: AccessTokensTableProps = {}) {
    super(scope, id);
    this.#encryptionKey = props.encryptionKey;
    this.table = new dynamodb.Table(this, 'Table', {
      ...tableProps(props),
      partitionKey: { name: ACCESS_TOKENS_SEED_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: ACCESS_TOKENS_SEED_TTL,
    });
    if (props.ownerIndex === true) {
      this.ownerIndexName = 'owner-index';
      this.table.addGlobalSecondaryIndex({
        indexName: this.ownerIndexName,
        partitionKey: { name: 'owner', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
    } else {
      this.ownerIndexName = undefined;
    }
  }

  /**
   * Grant `fn` least-privilege access and set `TESSERA_ACCESS_TOKENS_TABLE`.
   * Listing tokens scans this layout: pass `{ scan: true }` where `list` is used.
   */
  grantAccess(fn: GrantTarget, options?: GrantAccessOptions): iam.Grant {
    fn.addEnvironment(ACCESS_TOKENS_TABLE_ENV.tableName, this.table.tableName);
    return grantTableAccess(this.table, fn, this.#encryptionKey, options);
  }
}
