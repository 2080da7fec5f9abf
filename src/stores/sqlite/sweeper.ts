/**
 * The sqlite store's sweeper: the shared loop (see `../shared/sweeper.ts`).
 * @module
 */
import { type SweeperOptions, startSweeperLoop } from '../shared/sweeper.js';

/** Options of the sqlite store's `startSweeper`. */
export type SqliteSweeperOptions = SweeperOptions;

export { startSweeperLoop };
