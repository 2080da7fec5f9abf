import { describe, it } from 'vitest';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { defineAccessTokensSuite } from '../../src/testing/access-tokens-suite.js';

defineAccessTokensSuite({
  name: 'memory',
  runner: { describe, it },
  createStore: () => createMemoryStore(),
});
