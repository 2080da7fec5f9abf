/**
 * The shape of a write: the write script's ARGV (see `codec.ts` and
 * `write-entries.ts`) split into its structure (op types, modes, field names,
 * condition operators, counts, which optional values are present) and its
 * values (JSON texts, numbers, times, ids, key indexes). Writes of one shape
 * run one compiled script (`compile.ts`) that reads only the values, so the
 * server no longer interprets the structure on every call.
 * @module
 */

/** A value's position in the compiled script's ARGV (from 3: 1 and 2 are `now` and the grace). */
export type Arg = number;

/** One field condition. */
export interface CondShape {
  readonly field: string;
  readonly op: string;
  readonly isnum: boolean;
  readonly value: Arg;
}

/** A `where`; `null` when it has no condition. */
export interface WhereShape {
  readonly version: Arg | null;
  readonly liveAt: Arg | null;
  readonly fields: readonly CondShape[];
}

/** A record input (put, or the record an update creates). */
export interface InputShape {
  /** The expiry value (`null`: none). */
  readonly expiresAt: Arg | null;
  readonly data: ReadonlyArray<readonly [string, Arg]>;
  readonly index: ReadonlyArray<readonly [string, Arg]>;
}

/** A mutation. */
export interface MutationShape {
  readonly set: ReadonlyArray<readonly [string, Arg]>;
  readonly inc: ReadonlyArray<readonly [string, Arg]>;
  readonly unset: readonly string[];
  readonly add: ReadonlyArray<readonly [string, readonly Arg[]]>;
  readonly remove: ReadonlyArray<readonly [string, readonly Arg[]]>;
  /** `'keep'`, `'none'`, or the new expiry. */
  readonly expiresAt: 'keep' | 'none' | Arg;
  /** Index changes: the new value, or `null` to remove it. */
  readonly index: ReadonlyArray<readonly [string, Arg | null]>;
}

/** The entries an op keeps (single server only). */
export interface EntryShape {
  readonly member: Arg;
  readonly collection: Arg;
  readonly lz: Arg;
  readonly lh: Arg;
  readonly x: Arg;
  readonly cols: Arg;
  /** Declared index values: name, value, and the KEYS indexes of their sets. */
  readonly ix: ReadonlyArray<{ name: string; value: Arg; iz: Arg; ih: Arg }>;
}

/** One op of a write. */
export type OpShape =
  | {
      readonly t: 'put';
      readonly k: number;
      readonly entry: EntryShape | null;
      readonly incarnation: Arg;
      readonly mode: 'insert' | 'upsert' | 'replace';
      readonly where: WhereShape | null;
      readonly input: InputShape;
    }
  | {
      readonly t: 'update';
      readonly k: number;
      readonly entry: EntryShape | null;
      readonly incarnation: Arg;
      readonly where: WhereShape | null;
      readonly create: InputShape | null;
      readonly mutation: MutationShape;
    }
  | {
      readonly t: 'delete';
      readonly k: number;
      readonly entry: EntryShape | null;
      readonly where: WhereShape | null;
    }
  | {
      readonly t: 'check';
      readonly k: number;
      readonly absent: boolean;
      readonly where: WhereShape | null;
    }
  | {
      readonly t: 'expire';
      readonly k: number;
      readonly entry: EntryShape | null;
      readonly cutoff: Arg;
    };

/** A write split into its shape and its values. */
export interface Shaped {
  /** Identifies the shape (equal keys, equal compiled scripts). */
  readonly key: string;
  /** ARGV of the compiled script: `now`, the grace, then the values. */
  readonly argv: string[];
  readonly ops: readonly OpShape[];
  readonly single: boolean;
}

class Malformed extends Error {}

/**
 * Split the write script's ARGV into shape and values.
 * @param args - ARGV of the interpreted write script (`now`, grace, ops)
 * @param single - whether the ops carry ENTRY specs (single-server script)
 * @throws Error for ARGV that the interpreted script would refuse (callers then use it)
 */
export function shapeOf(args: readonly string[], single: boolean): Shaped {
  const key: string[] = [single ? 'S' : 'C'];
  const argv: string[] = [args[0] as string, args[1] as string];
  let pos = 2;
  const next = (): string => {
    if (pos >= args.length) throw new Malformed('truncated');
    return args[pos++] as string;
  };
  const s = (): string => {
    const t = next();
    key.push(t);
    return t;
  };
  const v = (): Arg => {
    argv.push(next());
    return argv.length;
  };
  const count = (): number => {
    const n = Number(s());
    if (!Number.isSafeInteger(n) || n < 0) throw new Malformed('count');
    return n;
  };
  /** A value that may be absent (`''`): presence is structure. */
  const optional = (none: string): Arg | null => {
    if (args[pos] === none) {
      pos++;
      key.push('-');
      return null;
    }
    key.push('+');
    return v();
  };
  const where = (): WhereShape | null => {
    const version = optional('');
    const liveAt = optional('');
    const n = count();
    const fields: CondShape[] = [];
    for (let i = 0; i < n; i++) {
      const field = s();
      const op = s();
      const value = v();
      fields.push({ field, op, value, isnum: s() === '1' });
    }
    return version === null && liveAt === null && n === 0 ? null : { version, liveAt, fields };
  };
  const input = (): InputShape => {
    const expiresAt = optional('-1');
    const data: Array<[string, Arg]> = [];
    for (let n = count(); n > 0; n--) data.push([s(), v()]);
    const index: Array<[string, Arg]> = [];
    for (let n = count(); n > 0; n--) index.push([s(), v()]);
    return { expiresAt, data, index };
  };
  const items = (): Array<[string, Arg[]]> => {
    const out: Array<[string, Arg[]]> = [];
    for (let n = count(); n > 0; n--) {
      const f = s();
      const list: Arg[] = [];
      for (let k = count(); k > 0; k--) list.push(v());
      out.push([f, list]);
    }
    return out;
  };
  const mutation = (): MutationShape => {
    const set: Array<[string, Arg]> = [];
    for (let n = count(); n > 0; n--) set.push([s(), v()]);
    const inc: Array<[string, Arg]> = [];
    for (let n = count(); n > 0; n--) inc.push([s(), v()]);
    const unset: string[] = [];
    for (let n = count(); n > 0; n--) unset.push(s());
    const add = items();
    const remove = items();
    let expiresAt: MutationShape['expiresAt'];
    if (args[pos] === '') {
      pos++;
      key.push('=');
      expiresAt = 'keep';
    } else if (args[pos] === '-1') {
      pos++;
      key.push('-');
      expiresAt = 'none';
    } else {
      key.push('+');
      expiresAt = v();
    }
    const index: Array<[string, Arg | null]> = [];
    for (let n = count(); n > 0; n--) index.push([s(), optional('')]);
    return { set, inc, unset, add, remove, expiresAt, index };
  };
  const entry = (): EntryShape | null => {
    if (args[pos] === '') {
      pos++;
      key.push('-');
      return null;
    }
    key.push('+');
    const member = v();
    const collection = v();
    const lz = v();
    const lh = v();
    const x = v();
    const cols = v();
    const ix: Array<{ name: string; value: Arg; iz: Arg; ih: Arg }> = [];
    for (let n = count(); n > 0; n--) ix.push({ name: s(), value: v(), iz: v(), ih: v() });
    return { member, collection, lz, lh, x, cols, ix };
  };

  const ops: OpShape[] = [];
  while (pos < args.length) {
    const t = s();
    const k = Number(s());
    if (!Number.isSafeInteger(k) || k < 1) throw new Malformed('key index');
    const e = single && t !== 'check' ? entry() : null;
    if (t === 'put') {
      const incarnation = v();
      const mode = s();
      if (mode !== 'insert' && mode !== 'upsert' && mode !== 'replace') throw new Malformed('mode');
      ops.push({ t, k, entry: e, incarnation, mode, where: where(), input: input() });
    } else if (t === 'update') {
      const incarnation = v();
      const w = where();
      const create = s() === '1' ? input() : null;
      ops.push({ t, k, entry: e, incarnation, where: w, create, mutation: mutation() });
    } else if (t === 'delete') {
      ops.push({ t, k, entry: e, where: where() });
    } else if (t === 'check') {
      const absent = s() === '1';
      ops.push({ t, k, absent, where: where() });
    } else if (t === 'expire') {
      ops.push({ t, k, entry: e, cutoff: v() });
    } else {
      throw new Malformed('op type');
    }
  }
  return { key: key.join('\u0001'), argv, ops, single };
}
