/**
 * The postgres store's sweeper: the shared loop (see `../shared/sweeper.ts`).
 * @module
 */
import { type SweeperOptions, startSweeperLoop } from '../shared/sweeper.js';

/** Options of the postgres store's `startSweeper`. */
export type PostgresSweeperOptions = SweeperOptions;

export { startSweeperLoop };
