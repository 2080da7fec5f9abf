/**
 * The single-server write: on one Redis server (not a Cluster) every key is
 * reachable from one script, so a write keeps its records, list entries, index
 * entries and expiry hints in one atomic step, one round trip. Every key the
 * script touches is declared in KEYS; only the entries of index values a
 * record loses (known once the record is read) are removed afterwards, as the
 * Cluster protocol does.
 * @module
 */
import { EntryBatch } from './entries.js';
import { type KeyLayout, memberOf } from './keys.js';
import type { PlannedOp } from './plan.js';

/** What a write call sends for at-most-once (see `write-once.ts`). */
export interface OnceArgs {
  /** The key that keeps the answer (in the partition's hash tag). */
  readonly key: string;
  /** Redis time (ms) after which the write must not run. */
  readonly deadline: number;
  /** How long to keep the answer, ms. */
  readonly keepMs: number;
}

/** The head of a write script's ARGV: `now`, the grace, the deadline, the keep time. */
export function headArgs(now: number, gcGraceMs: number, once: OnceArgs): string[] {
  return [String(now), String(gcGraceMs), String(once.deadline), String(once.keepMs)];
}

/** KEYS and ARGV of one call of the single-server write script. */
export interface SingleCall {
  readonly keys: string[];
  readonly args: string[];
}

/** The KEYS index (from 1) of `key`, appending it on first use. */
function slotOf(K: string[], slots: Map<string, string>, key: string): string {
  let i = slots.get(key);
  if (i === undefined) {
    K.push(key);
    i = String(K.length);
    slots.set(key, i);
  }
  return i;
}

/**
 * Build the call: record keys first (op i addresses KEYS[i + 1]), then the
 * entry keys, each once, and last the key that keeps the answer. Ops that may change entries carry an ENTRY spec
 * (grammar in `lua/write-entries.ts`); `check` ops carry none, and other ops
 * `''` when they change no entry.
 */
export function singleCall(
  keys: KeyLayout,
  planned: readonly PlannedOp[],
  now: number,
  gcGraceMs: number,
  once: OnceArgs,
): SingleCall {
  const K: string[] = [];
  for (const p of planned) K.push(keys.record(p.ref.collection, p.ref.partition, p.ref.key));
  const slots = new Map<string, string>();
  const args = headArgs(now, gcGraceMs, once);
  for (let i = 0; i < planned.length; i++) {
    const p = planned[i] as PlannedOp;
    args.push(p.type, String(i + 1));
    if (p.type !== 'check') {
      if (!p.followUp) {
        args.push('');
      } else {
        const { collection: c, key, partition } = p.ref;
        args.push(
          memberOf(key, partition),
          c,
          slotOf(K, slots, keys.listZ(c)),
          slotOf(K, slots, keys.listH(c)),
          slotOf(K, slots, keys.expiry(c)),
          slotOf(K, slots, keys.collections()),
        );
        const values = new Map<string, [string, string]>();
        for (const [name, value] of p.intent?.indexValues ?? []) {
          values.set(`${name}\u0000${value}`, [name, value]);
        }
        args.push(String(values.size));
        for (const [name, value] of values.values()) {
          args.push(
            name,
            value,
            slotOf(K, slots, keys.indexZ(c, name, value)),
            slotOf(K, slots, keys.indexH(c, name, value)),
          );
        }
      }
    }
    for (const t of p.tokens) args.push(t);
  }
  K.push(once.key);
  return { keys: K, args };
}

/**
 * Remove the entries of index values that records lost (`lost`: the script's
 * `name value incarnation version op` tokens). An entry goes only when its
 * state still names that record incarnation at that version or earlier.
 */
export function lostEntries(
  keys: KeyLayout,
  planned: readonly PlannedOp[],
  lost: readonly string[],
): EntryBatch {
  const batch = new EntryBatch(keys);
  for (let j = 0; j + 4 < lost.length; j += 5) {
    const p = planned[Number(lost[j + 4])];
    if (p === undefined) continue;
    const { collection, key, partition } = p.ref;
    batch.add(
      batch.index(collection, lost[j] as string, lost[j + 1] as string),
      'rm',
      memberOf(key, partition),
      lost[j + 2] as string,
      Number(lost[j + 3]),
    );
  }
  return batch;
}
