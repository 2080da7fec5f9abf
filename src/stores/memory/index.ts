/**
 * `tessera/stores/memory`: the in-memory store.
 * @module
 */
export { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
