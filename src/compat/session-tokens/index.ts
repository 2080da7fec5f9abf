/**
 * `tessera/compat/session-tokens`: a drop-in for session_tokens' `TokenTables`
 * and its `DB` interface, backed by a Tessera store, with the seed's bugs fixed.
 * Session timeouts keep the seed's meaning (a lifetime counted from creation,
 * never extended by activity); `slidingSessions: true` opts into idle
 * timeouts. The deliberate changes are listed in `token-tables.ts`.
 * @module
 */

export type { TokenCreator, TokenTablesOptions } from './options.js';
export { createSeedDb, type DB } from './seed-db.js';
export { TokenTables } from './token-tables.js';
