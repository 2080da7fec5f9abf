/**
 * `tessera/compat/action-tokens`: a drop-in for @beesolve/action-tokens.
 * @module
 */
export {
  ActionTokens,
  type ActionTokensProps,
  type CreateNewProps,
  type Token,
} from './action-tokens.js';
export {
  BaseTokenError,
  ExpiredTokenError,
  MalformedTokenError,
  TokenAlreadyExistsError,
  TokenAlreadyUsedUpError,
  TokenDoesNotExistError,
  TokenInvalidError,
  TokenThrottledError,
  UnexpectedError,
} from './errors.js';
