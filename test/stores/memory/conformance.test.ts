import { describe, it } from 'vitest';
import { createMemoryStore } from '../../../src/stores/memory/index.js';
import { defineAllSuites } from '../../../src/testing/index.js';

// The store primitives and every domain module on the memory store.
defineAllSuites({
  name: 'memory',
  runner: { describe, it },
  createStore: () => createMemoryStore(),
});
