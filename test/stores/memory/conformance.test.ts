import { describe, it } from 'vitest';
import { createMemoryStore } from '../../../src/stores/memory/index.js';
import { defineStoreSuite } from '../../../src/testing/index.js';

defineStoreSuite({
  name: 'memory',
  runner: { describe, it },
  createStore: () => createMemoryStore(),
});
