/**
 * `ActionTokens`: the drop-in for `@beesolve/action-tokens/cdk`.
 *
 * What it creates differs from the seed on purpose. The seed's table held
 * token values in plaintext (PK `owner`, SK `action`, GSI `valueGsi` on the
 * value). Tessera stores values only as HMACs, so this construct creates a
 * Tessera table (see `TesseraTable`): the `ActionTokensClient` of
 * `tessera/compat/action-tokens/sdk` uses it through the DynamoDB store. Tokens
 * are short-lived: deploy the new table beside the old one and remove the old
 * one when its tokens have expired.
 *
 * It also holds the server secret the values are HMAC'd under: a generated
 * Secrets Manager secret unless you pass your own. Functions get only its ARN
 * (`TESSERA_SECRET_ARN`) and the right to read that one secret; the client
 * fetches the value at cold start. The value never enters the template or the
 * function's configuration, so `lambda:GetFunctionConfiguration` reveals
 * nothing secret.
 * @module
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ACTION_TOKENS_ENV, indexNames } from '../stores/dynamodb/table-design.js';
import {
  type GrantAccessOptions,
  type GrantTarget,
  grantTableAccess,
  type TableOptions,
  tableProps,
} from './table-options.js';
import { createTesseraTable } from './tessera-table.js';

/** Props of {@link ActionTokens}: the seed's, plus Tessera's table options. */
export interface ActionTokensProps extends Omit<TableOptions, 'pointInTimeRecovery'> {
  /** Point-in-time recovery (the seed's name; default true). */
  readonly pointInTimeRecoveryEnabled?: boolean;
  /**
   * The Secrets Manager secret holding the server secret (e.g.
   * `Secret.fromSecretNameV2(this, 'S', 'tessera/secret')`): its SecretString
   * is `id:secret[,id:secret...]` (first active, the others still verify) or
   * one bare secret of at least 32 bytes. Default: a generated 64-character
   * secret (encrypted with `encryptionKey` when one is given).
   */
  readonly secret?: secretsmanager.ISecret;
  /** Prefix of the four lookup index names (default `lookup`). */
  readonly indexPrefix?: string;
}

/**
 * The action-tokens table and server secret.
 *
 * @example
 * ```ts
 * import { ActionTokens } from 'tessera/cdk';
 * const tokens = new ActionTokens(this, 'ActionTokens', {
 *   pointInTimeRecoveryEnabled: isProd,
 *   deletionProtection: isProd,
 *   removalPolicy: isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
 * });
 * tokens.grantAccess(myLambdaFunction);
 * ```
 */
export class ActionTokens extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;
  /** The server secret: the one passed in, or the generated one. */
  readonly secret: secretsmanager.ISecret;
  /** The generated secret, when none was passed in. */
  readonly generatedSecret: secretsmanager.Secret | undefined;
  /** Prefix of the lookup indexes (the value of `BEESOLVE_ACTION_TOKENS_INDEX_NAME`). */
  readonly indexPrefix: string;
  readonly #encryptionKey: TableOptions['encryptionKey'];

  constructor(scope: Construct, id: string, props: ActionTokensProps = {}) {
    super(scope, id);
    this.indexPrefix = props.indexPrefix ?? 'lookup';
    const options: TableOptions = {
      ...props,
      pointInTimeRecovery: props.pointInTimeRecoveryEnabled,
    };
    this.#encryptionKey = props.encryptionKey;
    this.table = createTesseraTable(this, 'Table', options, indexNames(this.indexPrefix));
    if (props.secret === undefined) {
      this.generatedSecret = new secretsmanager.Secret(this, 'ServerSecret', {
        description: 'Tessera server secret: action-token values are HMAC-SHA-256 under it',
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy: tableProps(options).removalPolicy,
        ...(props.encryptionKey === undefined ? {} : { encryptionKey: props.encryptionKey }),
      });
      this.secret = this.generatedSecret;
    } else {
      this.generatedSecret = undefined;
      this.secret = props.secret;
    }
  }

  /**
   * Grant `fn` least-privilege access to the table and read access to the
   * server secret alone (`secretsmanager:GetSecretValue` and `DescribeSecret`
   * on that secret, and decryption with its key when it has a customer-managed
   * one), and set the variables `ActionTokensClient` reads:
   * `BEESOLVE_ACTION_TOKENS_TABLE_NAME`, `BEESOLVE_ACTION_TOKENS_INDEX_NAME`
   * (the index prefix) and `TESSERA_SECRET_ARN` (the secret's ARN, never its value).
   */
  grantAccess(fn: GrantTarget, options?: GrantAccessOptions): iam.Grant {
    fn.addEnvironment(ACTION_TOKENS_ENV.tableName, this.table.tableName);
    fn.addEnvironment(ACTION_TOKENS_ENV.indexName, this.indexPrefix);
    fn.addEnvironment(ACTION_TOKENS_ENV.secretArn, this.secret.secretArn);
    this.secret.grantRead(fn);
    return grantTableAccess(this.table, fn, this.#encryptionKey, options);
  }
}
