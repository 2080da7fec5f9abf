/**
 * `tessera/testing`: the conformance suites every store passes, a fake clock,
 * and the helpers to race several OS processes against one store.
 * @module
 */
export { createFakeClock, type FakeClock } from '../core/clock.js';
export {
  bootstrapOnce,
  defineAccessTokensSuite,
  seedScryptPhc,
  seedToken,
} from './access-tokens-suite.js';
export { defineActionTokensSuite, testKeyring } from './action-tokens-suite.js';
export { defineAllSuites } from './all-suites.js';
export { defineChallengesSuite } from './challenges-suite.js';
export {
  type RaceResult,
  type RaceTask,
  raceAcrossProcesses,
  type WorkerStoreSpec,
} from './race.js';
export {
  randomSuffix,
  rejectsWithCode,
  type SuiteOptions,
  type TestRunner,
  withStore,
} from './runner.js';
export { defineSessionTokensCompatSuite } from './session-tokens-compat-suite.js';
export { defineSessionsSuite } from './sessions-suite.js';
export { defineStoreSuite, type StoreSuiteOptions } from './store-suite.js';
