import { describe, it } from 'vitest';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { defineChallengesSuite } from '../../src/testing/challenges-suite.js';

defineChallengesSuite({
  name: 'memory',
  runner: { describe, it },
  createStore: () => createMemoryStore(),
});
