/**
 * The PAT verify operation on a networked store: `WORKERS` tokens issued once,
 * verified round-robin (no verify cache, so every call reads the store).
 */
import { createAccessTokens } from '../../src/access-tokens/index.js';
import type { Store } from '../../src/stores/contract.js';

/** Issue `workers` tokens on `store` and return an op verifying them in turn. */
export async function patVerifyOp(store: Store, workers: number): Promise<() => Promise<void>> {
  const pats = createAccessTokens({ store });
  const tokens: string[] = [];
  for (let w = 0; w < workers; w++) tokens.push((await pats.issue({ owner: `bench-${w}` })).token);
  let i = 0;
  return async () => {
    const r = await pats.verify(tokens[i++ % workers] as string);
    if (!r.valid) throw new Error(`verify failed: ${r.reason}`);
  };
}
