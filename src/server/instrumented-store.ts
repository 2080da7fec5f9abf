/**
 * A store wrapper that times every primitive and counts failures, for
 * `/metrics`. It changes no behaviour: results and errors pass through.
 * @module
 */
import type { Store } from '../stores/contract.js';
import type { ServiceMetrics } from './metrics.js';

const OPS = [
  'migrate',
  'get',
  'getMany',
  'put',
  'update',
  'delete',
  'transact',
  'list',
  'findByIndex',
  'sweep',
] as const;

/**
 * Wrap `store` so each primitive reports its latency and errors.
 * @example `const store = instrumentStore(await openStore(url, dir), metrics);`
 */
export function instrumentStore(store: Store, metrics: ServiceMetrics): Store {
  const kind = store.kind;
  const wrapped: Record<string, unknown> = {
    kind,
    events: store.events,
    close: () => store.close(),
  };
  for (const op of OPS) {
    wrapped[op] = async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await (store[op] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        const code = (err as { code?: unknown })?.code;
        metrics.storeError(kind, op, typeof code === 'string' ? code : 'unknown');
        throw err;
      } finally {
        metrics.storeOperation(kind, op, (performance.now() - started) / 1000);
      }
    };
  }
  return wrapped as unknown as Store;
}
