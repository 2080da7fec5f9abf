/**
 * `tessera/cdk`: AWS CDK constructs for the DynamoDB tables (`aws-cdk-lib`
 * and `constructs` are optional peer dependencies).
 *
 * - `TesseraTable`: the generic table of `tessera/stores/dynamodb`;
 * - `ActionTokens`: the drop-in for `@beesolve/action-tokens/cdk` (a Tessera
 *   table plus the server secret, for `tessera/compat/action-tokens/sdk`);
 * - `AccessTokensTable`: a table in the @access-tokens/core layout.
 *
 * Every construct: on-demand billing, point-in-time recovery, deletion
 * protection and `RETAIN` by default, an optional customer-managed KMS key,
 * and `grantAccess(fn)` for least-privilege IAM plus the environment the
 * clients read.
 * @module
 */
export { AccessTokensTable, type AccessTokensTableProps } from './access-tokens-table.js';
export { ActionTokens, type ActionTokensProps } from './action-tokens.js';
export {
  DATA_ACTIONS,
  type GrantAccessOptions,
  type GrantTarget,
  KMS_ACTIONS,
  type TableOptions,
} from './table-options.js';
export { TesseraTable, type TesseraTableProps } from './tessera-table.js';
