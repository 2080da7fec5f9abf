/**
 * `tessera/action-tokens`: one-time action tokens (email codes, magic links,
 * password resets, OTPs) on any Tessera store.
 * @module
 */
export { type ActionTokens, createActionTokens, DEFAULT_FAILURE_BUDGET } from './action-tokens.js';
export { estimateEntropyBits, MIN_LOOKUP_BITS } from './entropy.js';
export {
  type ActionToken,
  type ActionTokensOptions,
  type CreateInput,
  type CreateThrottle,
  type FailureBudget,
  type GenerateOptions,
  MIN_LOOKUP_VALUE_LENGTH,
  type UseInput,
  type UseResult,
} from './types.js';
