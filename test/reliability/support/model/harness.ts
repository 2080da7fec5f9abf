/**
 * The harness of the model-based tests: run a drawn sequence of commands on
 * the real module and on a reference model and require the same observable
 * result at every step; record which collections a sequence touched so the
 * leak scan can list them from the store; count the commands that ran.
 */
import type { Arbitrary } from 'fast-check';
import type { Store } from '../../../../src/stores/contract.js';
import type { SecretLog } from '../leaks.js';

/** A command: `t` names it; the rest are its drawn arguments. */
export interface Command {
  readonly t: string;
}

/** What each side of a step answers; compared as JSON. */
export type Outcome = unknown;

/** The owners (or subjects) the commands choose from. */
export const OWNERS = ['ann', 'bob'] as const;

/** The epoch every sequence's fake clock starts at. */
export const T0 = 1_700_000_000_000;

/** `TESSERA_MODEL_TRACE=1` prints every step and its outcome (to read a sequence's story). */
const TRACE = process.env.TESSERA_MODEL_TRACE === '1';

/** The stable code of a thrown error, or its text. */
export const codeOf = (err: unknown): string => (err as { code?: string }).code ?? String(err);

/**
 * Run one drawn sequence on the real module and the model; throw at the first
 * difference, with the whole sequence (fast-check then shrinks it).
 *
 * @param onStep - called before each step (command counting)
 */
export async function compare<Op extends Command>(
  ops: readonly Op[],
  real: (op: Op) => Promise<Outcome>,
  model: (op: Op) => Outcome,
  onStep: (op: Op) => void = () => {},
): Promise<void> {
  for (const [i, op] of ops.entries()) {
    onStep(op);
    const got = await real(op);
    const want = model(op);
    if (TRACE) console.log(`${i} ${JSON.stringify(op)} -> ${JSON.stringify(got)}`);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(
        `step ${i} ${JSON.stringify(op)}: real ${JSON.stringify(got)} != model ${JSON.stringify(want)}\nsequence: ${JSON.stringify(ops)}`,
      );
    }
  }
}

/** Add every `collection` named in a store call's arguments to `used`. */
function noteCollections(x: unknown, used: Set<string>, depth = 0): void {
  if (depth > 3 || x === null || typeof x !== 'object') return;
  if (Array.isArray(x)) {
    for (const v of x) noteCollections(v, used, depth + 1);
    return;
  }
  const o = x as Record<string, unknown>;
  if (typeof o.collection === 'string') used.add(o.collection);
  for (const k of ['record', 'ref'] as const) noteCollections(o[k], used, depth + 1);
}

/** `store`, recording in `used` every collection a call addresses. */
export function recordingStore(store: Store, used: Set<string>): Store {
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if ((prop === 'list' || prop === 'findByIndex') && typeof args[0] === 'string')
          used.add(args[0]);
        else noteCollections(args[0], used);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Every record of `collection`, one JSON line each (keys, data, index values). */
export async function dumpCollection(store: Store, collection: string): Promise<string> {
  const lines: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.list(collection, { limit: 1000, cursor });
    for (const r of page.records) lines.push(JSON.stringify(r));
    cursor = page.cursor;
  } while (cursor !== null);
  return lines.join('\n');
}

/** Pick the `i`-th of `xs` (modulo its length), or `undefined` when it is empty. */
export function nth<T>(xs: readonly T[], i: number): T | undefined {
  return xs.length === 0 ? undefined : xs[i % xs.length];
}

/** A value the model and the module can both read, set by the real side of a step. */
export interface Stash<T> {
  value: T;
}

/**
 * One token family under test: its commands, how to run a sequence against
 * the module and the model, and hand-written sequences that make every
 * command do its work at least once on every backend.
 */
export interface ModelFamily<Op extends Command> {
  /** Figures key (`actionTokens`...). */
  readonly key: string;
  /** The test's sentence. */
  readonly title: string;
  /** Every label {@link labels} can give: each must run at least once on every backend. */
  readonly commands: readonly string[];
  /** The labels of one command (its name, and the variants it exercises), for the counts. */
  labels(op: Op): readonly string[];
  /** One command, drawn. */
  readonly op: Arbitrary<Op>;
  /** Sequences run before the random ones, on every backend. */
  readonly examples: ReadonlyArray<readonly Op[]>;
  /**
   * Run `seq` on a fresh module over `store` against the model; record every
   * secret issued in `issued`; call `onStep` before each command (pass it to
   * {@link compare}).
   */
  run(store: Store, issued: SecretLog, seq: readonly Op[], onStep: (op: Op) => void): Promise<void>;
}
