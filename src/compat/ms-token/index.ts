/**
 * `tessera/compat/ms-token`: a drop-in for ms-token's `TokenManager`
 * (named and default export) on Tessera challenges, over ms-token's Redis
 * connection or any Tessera store.
 * @module
 */
import { TokenManager } from './token-manager.js';

export type { SharedSecret, TokenManagerOptions } from './config.js';
export type { CreatedToken, TokenManagerError, TokenResponse } from './responses.js';
export { ValidationError, type ValidationErrorItem } from './validation.js';
export { TokenManager };
export default TokenManager;
