import { describe, it } from 'vitest';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { defineSessionsSuite } from '../../src/testing/sessions-suite.js';

defineSessionsSuite({
  name: 'memory',
  runner: { describe, it },
  createStore: () => createMemoryStore(),
});
