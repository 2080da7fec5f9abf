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
export { createServiceApp, type ServiceAppOptions } from './app.js';
export { type OptionDoc, parseServeConfig, SERVE_OPTIONS, type ServiceConfig } from './config.js';
export { openStore, STORE_SCHEMES } from './open-store.js';
export { type LoadedKeyring, loadKeyring, SECRET_FILE } from './secrets.js';
export { type RunningService, startService } from './serve.js';
