import { describe, it } from 'vitest';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { defineActionTokensSuite } from '../../src/testing/action-tokens-suite.js';

defineActionTokensSuite({
  name: 'memory',
  runner: { describe, it },
  createStore: () => createMemoryStore(),
});
