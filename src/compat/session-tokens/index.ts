/**
 * `tessera/compat/session-tokens`: a drop-in for session_tokens' `TokenTables`
 * and its `DB` interface, backed by a Tessera store, with the seed's bugs fixed.
 * @module
 */

export type { TokenCreator, TokenTablesOptions } from './options.js';
export { createSeedDb, type DB } from './seed-db.js';
export { TokenTables } from './token-tables.js';
