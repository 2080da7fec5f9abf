/**
 * Every conformance suite in one call: the store primitives and each domain
 * module on top. A backend's test file is this call plus its own cases.
 * @module
 */
import { defineAccessTokensSuite } from './access-tokens-suite.js';
import { defineActionTokensSuite } from './action-tokens-suite.js';
import { defineChallengesSuite } from './challenges-suite.js';
import { defineSessionTokensCompatSuite } from './session-tokens-compat-suite.js';
import { defineSessionsSuite } from './sessions-suite.js';
import { defineStoreSuite, type StoreSuiteOptions } from './store-suite.js';

/**
 * Define every conformance suite against one backend.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { defineAllSuites } from 'tessera/testing';
 * defineAllSuites({ name: 'memory', runner: { describe, it }, createStore: () => createMemoryStore() });
 * ```
 */
export function defineAllSuites(options: StoreSuiteOptions): void {
  defineStoreSuite(options);
  defineActionTokensSuite(options);
  defineAccessTokensSuite(options);
  defineChallengesSuite(options);
  defineSessionsSuite(options);
  defineSessionTokensCompatSuite(options);
}
