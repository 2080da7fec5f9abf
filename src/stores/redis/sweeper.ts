/**
 * The Redis store's sweeper: the shared loop (see `../shared/sweeper.ts`).
 * Redis collects expired records by itself (PXAT); the sweeper removes their
 * list and index entries as well and bounds how long an expired record lingers.
 * @module
 */
export { startSweeperLoop } from '../shared/sweeper.js';
