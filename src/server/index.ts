/**
 * `tessera/server`: the standalone service, embeddable.
 * @module
 */
export {
  ADMIN_PREFIX,
  type AdminVerifier,
  createAdminVerifier,
  ensureAdminCredential,
  rotateAdminCredential,
} from './admin.js';
export {
  createServiceApp,
  type ServiceApp,
  type ServiceAppOptions,
  verifyCacheFits,
} from './app.js';
export {
  type Authenticator,
  type AuthOutcome,
  createAuthenticator,
  type JwtPrincipalVerifier,
} from './auth.js';
export {
  LOG_LEVELS,
  type LogLevel,
  MAX_JWT_TTL_SECONDS,
  type OptionDoc,
  parseServeConfig,
  type RateLimitSetting,
  SERVE_OPTIONS,
  type ServiceConfig,
} from './config.js';
export {
  type ErrorAnswer,
  errorAnswer,
  HTTP_ERROR_STATUS,
  HttpError,
  InsufficientScopeError,
} from './http-errors.js';
export { instrumentStore } from './instrumented-store.js';
export { createServiceLogger, REDACT_PATHS, REDACTED_FIELDS } from './logger.js';
export { type MaintenanceResult, runMaintenance } from './maintenance.js';
export { createServiceMetrics, type ServiceMetrics } from './metrics.js';
export {
  denylistRevoker,
  type MintedJwtRevoker,
  signerRevoker,
  updateRevokesMinted,
} from './minted-jwts.js';
export { createStoreFromUrl, openStore, redactUrl, STORE_SCHEMES } from './open-store.js';
export { createRateLimiter, RATE_LIMIT_COLLECTION, type RateLimiter } from './rate-limit.js';
export { hasAnyRole, type Principal, SERVICE_ROLES, type ServiceRole } from './roles.js';
export { type LoadedKeyring, loadKeyring, SECRET_FILE } from './secrets.js';
export { type RunningService, type StartServiceOptions, startService } from './serve.js';
