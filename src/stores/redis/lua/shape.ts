/**
 * The shape of a write: the write script's ARGV (see `codec.ts` and
 * `write-entries.ts`) split into its structure (op types, modes, field names,
 * condition operators, counts, which optional values are present) and its
 * values (JSON texts, numbers, times, ids, key indexes). Writes of one shape
 * run one compiled script (`compile.ts`) that reads only the values, so the
 * server no longer interprets the structure on every call.
 * @module
 */

/** A value's position in the compiled script's ARGV (from 5: 1 to 4 are `now`, the grace, the deadline and the answer's keep time). */
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
  /** ARGV of the compiled script: `now`, the grace, the deadline, the keep time, then the values. */
  readonly argv: string[];
  readonly ops: readonly OpShape[];
  readonly single: boolean;
}

class Malformed extends Error {}

/** Reads ARGV tokens: structure into the key, values into the compiled ARGV (no per-call closures). */
class Reader {
  readonly key: string[];
  readonly argv: string[];
  pos = 4;

  constructor(
    readonly args: readonly string[],
    single: boolean,
  ) {
    this.key = [single ? 'S' : 'C'];
    this.argv = args.slice(0, 4) as string[];
  }

  next(): string {
    if (this.pos >= this.args.length) throw new Malformed('truncated');
    return this.args[this.pos++] as string;
  }

  /** A structural token. */
  s(): string {
    const t = this.next();
    this.key.push(t);
    return t;
  }

  /** A value token: its position in the compiled ARGV. */
  v(): Arg {
    this.argv.push(this.next());
    return this.argv.length;
  }

  count(): number {
    const n = Number(this.s());
    if (!Number.isSafeInteger(n) || n < 0) throw new Malformed('count');
    return n;
  }

  /** A value that may be absent (`none`): presence is structure. */
  optional(none: string): Arg | null {
    if (this.args[this.pos] === none) {
      this.pos++;
      this.key.push('-');
      return null;
    }
    this.key.push('+');
    return this.v();
  }

  where(): WhereShape | null {
    const version = this.optional('');
    const liveAt = this.optional('');
    const n = this.count();
    const fields: CondShape[] = [];
    for (let i = 0; i < n; i++) {
      const field = this.s();
      const op = this.s();
      const value = this.v();
      fields.push({ field, op, value, isnum: this.s() === '1' });
    }
    return version === null && liveAt === null && n === 0 ? null : { version, liveAt, fields };
  }

  input(): InputShape {
    const expiresAt = this.optional('-1');
    const data: Array<[string, Arg]> = [];
    for (let n = this.count(); n > 0; n--) data.push([this.s(), this.v()]);
    const index: Array<[string, Arg]> = [];
    for (let n = this.count(); n > 0; n--) index.push([this.s(), this.v()]);
    return { expiresAt, data, index };
  }

  items(): Array<[string, Arg[]]> {
    const out: Array<[string, Arg[]]> = [];
    for (let n = this.count(); n > 0; n--) {
      const f = this.s();
      const list: Arg[] = [];
      for (let k = this.count(); k > 0; k--) list.push(this.v());
      out.push([f, list]);
    }
    return out;
  }

  mutation(): MutationShape {
    const set: Array<[string, Arg]> = [];
    for (let n = this.count(); n > 0; n--) set.push([this.s(), this.v()]);
    const inc: Array<[string, Arg]> = [];
    for (let n = this.count(); n > 0; n--) inc.push([this.s(), this.v()]);
    const unset: string[] = [];
    for (let n = this.count(); n > 0; n--) unset.push(this.s());
    const add = this.items();
    const remove = this.items();
    let expiresAt: MutationShape['expiresAt'];
    const e = this.args[this.pos];
    if (e === '') {
      this.pos++;
      this.key.push('=');
      expiresAt = 'keep';
    } else if (e === '-1') {
      this.pos++;
      this.key.push('-');
      expiresAt = 'none';
    } else {
      this.key.push('+');
      expiresAt = this.v();
    }
    const index: Array<[string, Arg | null]> = [];
    for (let n = this.count(); n > 0; n--) index.push([this.s(), this.optional('')]);
    return { set, inc, unset, add, remove, expiresAt, index };
  }

  entry(): EntryShape | null {
    if (this.args[this.pos] === '') {
      this.pos++;
      this.key.push('-');
      return null;
    }
    this.key.push('+');
    const member = this.v();
    const collection = this.v();
    const lz = this.v();
    const lh = this.v();
    const x = this.v();
    const cols = this.v();
    const ix: Array<{ name: string; value: Arg; iz: Arg; ih: Arg }> = [];
    for (let n = this.count(); n > 0; n--) {
      ix.push({ name: this.s(), value: this.v(), iz: this.v(), ih: this.v() });
    }
    return { member, collection, lz, lh, x, cols, ix };
  }
}

/**
 * Split the write script's ARGV into shape and values.
 * @param args - ARGV of the interpreted write script (`now`, grace, deadline, keep time, ops)
 * @param single - whether the ops carry ENTRY specs (single-server script)
 * @throws Error for ARGV that the interpreted script would refuse (callers then use it)
 */
export function shapeOf(args: readonly string[], single: boolean): Shaped {
  const r = new Reader(args, single);
  const ops: OpShape[] = [];
  while (r.pos < args.length) {
    const t = r.s();
    const k = Number(r.s());
    if (!Number.isSafeInteger(k) || k < 1) throw new Malformed('key index');
    const e = single && t !== 'check' ? r.entry() : null;
    if (t === 'put') {
      const incarnation = r.v();
      const mode = r.s();
      if (mode !== 'insert' && mode !== 'upsert' && mode !== 'replace') throw new Malformed('mode');
      ops.push({ t, k, entry: e, incarnation, mode, where: r.where(), input: r.input() });
    } else if (t === 'update') {
      const incarnation = r.v();
      const w = r.where();
      const create = r.s() === '1' ? r.input() : null;
      ops.push({ t, k, entry: e, incarnation, where: w, create, mutation: r.mutation() });
    } else if (t === 'delete') {
      ops.push({ t, k, entry: e, where: r.where() });
    } else if (t === 'check') {
      const absent = r.s() === '1';
      ops.push({ t, k, absent, where: r.where() });
    } else if (t === 'expire') {
      ops.push({ t, k, entry: e, cutoff: r.v() });
    } else {
      throw new Malformed('op type');
    }
  }
  return { key: r.key.join('\u0001'), argv: r.argv, ops, single };
}
