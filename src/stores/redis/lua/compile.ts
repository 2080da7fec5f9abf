/**
 * Compile a write shape (see `shape.ts`) to a Lua script: the interpreted
 * write script (`write.ts`, `write-semantics.ts`, `write-entries.ts`) with its
 * structure fixed, so the server runs straight-line code over the values.
 * Same semantics, same answer format (parsed by `parseWriteReply`), the same
 * at-most-once frame (`write-once.ts`), same two phases: every op is read, checked and computed before anything is
 * written, so a failed condition or an error leaves Redis untouched.
 *
 * A record is held as the map of its hash (`#v`, `#n`, `#e`, `#i:<name>` and
 * the data fields, raw JSON); field and index names are constants of the
 * shape (they match `/^[A-Za-z_][A-Za-z0-9_]*$/` and `/^[a-z][a-z0-9_]*$/`,
 * and are quoted anyway).
 * @module
 */
import type {
  CondShape,
  EntryShape,
  InputShape,
  MutationShape,
  OpShape,
  Shaped,
  WhereShape,
} from './shape.js';
import { keepAnswerLua, ONCE_PROLOGUE_LUA } from './write-once.js';

const q = (s: string): string => JSON.stringify(s);
/** The value at ARGV position `n` (from 5): the values travel as one packed ARGV (see {@link packValues}). */
const A = (n: number): string => `V[${n - 4}]`;

/** Separator of the packed values: no value holds it (JSON escapes it; names and keys refuse control characters). */
export const VALUE_SEP = '\u0001';

/**
 * The compiled script's ARGV: `now`, the grace, the deadline, how long to keep
 * the answer, and every value joined by {@link VALUE_SEP} and terminated by it
 * (one argument instead of dozens: a client spends time on every argument it
 * sends). Null when a value holds the separator (the caller then runs the
 * interpreted script).
 */
export function packValues(argv: readonly string[]): string[] | null {
  let packed = '';
  for (let i = 4; i < argv.length; i++) {
    const v = argv[i] as string;
    if (v.includes(VALUE_SEP)) return null;
    packed += v;
    packed += VALUE_SEP;
  }
  return [argv[0] as string, argv[1] as string, argv[2] as string, argv[3] as string, packed];
}

/** Helpers every compiled script may use (unused locals cost next to nothing). */
const HELPERS = `
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
${ONCE_PROLOGUE_LUA}
local V = {}
for v in string.gmatch(ARGV[5] or '', '([^\\1]*)\\1') do V[#V + 1] = v end

local function fmtint(x) return string.format('%d', x) end

local function fmtnum(x)
  if x ~= x or x == math.huge or x == -math.huge then return 'null' end
  if x == math.floor(x) and math.abs(x) < 9007199254740992 then return string.format('%d', x) end
  return string.format('%.17g', x)
end

local function kind(raw)
  if raw == nil then return 'null' end
  local c = string.byte(raw, 1)
  if c == 34 then return 'string' end
  if c == 91 then return 'array' end
  if c == 123 then return 'object' end
  if c == 110 then return 'null' end
  if c == 116 or c == 102 then return 'boolean' end
  return 'number'
end

local function map(key, flat)
  if #flat == 0 then return nil end
  local d = {}
  for j = 1, #flat, 2 do d[flat[j]] = flat[j + 1] end
  if d['#v'] == nil or d['#n'] == nil then
    return error({ err = 'TESSERA_MALFORMED record ' .. key .. ' has no version' })
  end
  return d
end

local function live(d, at)
  local e = d['#e']
  return e == nil or tonumber(e) > at
end

local function chunk(out, list)
  out[#out + 1] = tostring(#list)
  if #list > 0 then out[#out + 1] = table.concat(list, '\\0') end
end

local function fail(i, flat)
  local out = { 'fail', tostring(i - 1) }
  chunk(out, flat)
  return table.concat(out, '\\0')
end

local function pxat(key, e)
  redis.call('PEXPIREAT', key, math.max(e, server_ms) + grace)
end

local function hset(key, list)
  for j = 1, #list, 400 do
    redis.call('HSET', key, unpack(list, j, math.min(j + 399, #list)))
  end
end

-- Index values of a hash (name -> value).
local function indexes(flat)
  local x = {}
  for j = 1, #flat, 2 do
    local f = flat[j]
    if string.sub(f, 1, 3) == '#i:' then x[string.sub(f, 4)] = flat[j + 1] end
  end
  return x
end

local lost = {}
local function lose(i, name, value, incarnation, version)
  lost[#lost + 1] = name
  lost[#lost + 1] = value
  lost[#lost + 1] = incarnation
  lost[#lost + 1] = version
  lost[#lost + 1] = tostring(i - 1)
end
`;

/** Helpers of the array mutations and of `contains`, added when a shape uses them. */
const ARRAY_HELPERS = `
local function split(raw)
  local out = {}
  local n = #raw
  if n <= 2 then return out end
  local depth, instr, esc, start = 0, false, false, 2
  for i = 2, n - 1 do
    local c = string.byte(raw, i)
    if instr then
      if esc then esc = false
      elseif c == 92 then esc = true
      elseif c == 34 then instr = false end
    elseif c == 34 then instr = true
    elseif c == 91 or c == 123 then depth = depth + 1
    elseif c == 93 or c == 125 then depth = depth - 1
    elseif c == 44 and depth == 0 then
      out[#out + 1] = string.sub(raw, start, i - 1)
      start = i + 1
    end
  end
  out[#out + 1] = string.sub(raw, start, n - 1)
  return out
end

local function contains(v, raw)
  if kind(v) ~= 'array' then return false end
  for _, item in ipairs(split(v)) do
    if item == raw then return true end
  end
  return false
end

local function add_items(r, f, items)
  local cur = r[f]
  local elems = {}
  if cur ~= nil and cur ~= 'null' then
    if kind(cur) ~= 'array' then
      return error({ err = 'TESSERA_INVALID ' .. f .. ' cannot add to non-array field ' .. f })
    end
    elems = split(cur)
  end
  local seen = {}
  for _, e in ipairs(elems) do seen[e] = true end
  for _, item in ipairs(items) do
    if not seen[item] then
      seen[item] = true
      elems[#elems + 1] = item
    end
  end
  r[f] = '[' .. table.concat(elems, ',') .. ']'
end

local function remove_items(r, f, items)
  local cur = r[f]
  if cur == nil or cur == 'null' then return end
  if kind(cur) ~= 'array' then
    return error({ err = 'TESSERA_INVALID ' .. f .. ' cannot remove from non-array field ' .. f })
  end
  local drop = {}
  for _, item in ipairs(items) do drop[item] = true end
  local kept = {}
  for _, e in ipairs(split(cur)) do
    if not drop[e] then kept[#kept + 1] = e end
  end
  r[f] = '[' .. table.concat(kept, ',') .. ']'
end
`;

function condition(d: string, c: CondShape): string {
  const v = `${d}[${q(c.field)}]`;
  const raw = A(c.value);
  switch (c.op) {
    case 'exists':
      return `(${v} ~= nil and ${v} ~= 'null')`;
    case 'absent':
      return `(${v} == nil or ${v} == 'null')`;
    case 'eq':
    case 'ne': {
      const same = c.isnum
        ? `(kind(${v}) == 'number' and tonumber(${v}) == tonumber(${raw}))`
        : `((${v} or 'null') == ${raw})`;
      return c.op === 'eq' ? same : `(not ${same})`;
    }
    case 'contains':
      return `contains(${v}, ${raw})`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const sym = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[c.op];
      return `(kind(${v}) == 'number' and tonumber(${v}) ${sym} tonumber(${raw}))`;
    }
    default:
      return 'false';
  }
}

function whereExpr(d: string, w: WhereShape | null): string {
  if (w === null) return 'true';
  const parts: string[] = [];
  if (w.version !== null) parts.push(`tonumber(${d}['#v']) == tonumber(${A(w.version)})`);
  if (w.liveAt !== null) parts.push(`live(${d}, tonumber(${A(w.liveAt)}))`);
  for (const c of w.fields) parts.push(condition(d, c));
  return parts.length === 0 ? 'true' : parts.join(' and ');
}

/** Lua statements that build a new record map `r` from an input. */
function inputMap(r: string, input: InputShape, version: string, incarnation: string): string[] {
  const out = [`${r} = { ['#v'] = ${version}, ['#n'] = ${incarnation} }`];
  if (input.expiresAt !== null) {
    out.push(
      `if tonumber(${A(input.expiresAt)}) >= 0 then ${r}['#e'] = fmtint(tonumber(${A(input.expiresAt)})) end`,
    );
  }
  for (const [name, v] of input.index) out.push(`${r}[${q(`#i:${name}`)}] = ${A(v)}`);
  for (const [f, v] of input.data) out.push(`${r}[${q(f)}] = ${A(v)}`);
  return out;
}

/** Lua statements applying a mutation to the record map `r` (then the version). */
function mutate(r: string, m: MutationShape): string[] {
  const out: string[] = [];
  for (const [f, v] of m.set) out.push(`${r}[${q(f)}] = ${A(v)}`);
  for (const [f, v] of m.inc) {
    out.push(
      `do local c = ${r}[${q(f)}] local b = 0 if c ~= nil and c ~= 'null' then if kind(c) ~= 'number' then return error({ err = ${q(`TESSERA_INVALID ${f} cannot inc non-number field ${f}`)} }) end b = tonumber(c) end ${r}[${q(f)}] = fmtnum(b + tonumber(${A(v)})) end`,
    );
  }
  for (const f of m.unset) out.push(`${r}[${q(f)}] = nil`);
  for (const [f, items] of m.add)
    out.push(`add_items(${r}, ${q(f)}, { ${items.map(A).join(', ')} })`);
  for (const [f, items] of m.remove) {
    out.push(`remove_items(${r}, ${q(f)}, { ${items.map(A).join(', ')} })`);
  }
  if (m.expiresAt === 'none') out.push(`${r}['#e'] = nil`);
  else if (m.expiresAt !== 'keep') {
    out.push(
      `if tonumber(${A(m.expiresAt)}) < 0 then ${r}['#e'] = nil else ${r}['#e'] = fmtint(tonumber(${A(m.expiresAt)})) end`,
    );
  }
  for (const [name, v] of m.index) {
    out.push(`${r}[${q(`#i:${name}`)}] = ${v === null ? 'nil' : A(v)}`);
  }
  out.push(`${r}['#v'] = fmtint(tonumber(${r}['#v']) + 1)`);
  return out;
}

/** Keys of a whole record, in the order the interpreted script writes them. */
function wholeKeys(
  input: InputShape,
  m: MutationShape | null,
): { index: string[]; data: string[] } {
  const index: string[] = [];
  const data: string[] = [];
  const addOnce = (list: string[], k: string) => {
    if (!list.includes(k)) list.push(k);
  };
  for (const [name] of input.index) addOnce(index, name);
  for (const [f] of input.data) addOnce(data, f);
  if (m !== null) {
    for (const [name] of m.index) addOnce(index, name);
    for (const [f] of m.set) addOnce(data, f);
    for (const [f] of m.inc) addOnce(data, f);
    for (const [f] of m.add) addOnce(data, f);
  }
  return { index, data };
}

/** Keys a mutation may change in place. */
function changedKeys(m: MutationShape): string[] {
  const keys: string[] = [];
  const addOnce = (k: string) => {
    if (!keys.includes(k)) keys.push(k);
  };
  for (const [f] of m.set) addOnce(f);
  for (const [f] of m.inc) addOnce(f);
  for (const f of m.unset) addOnce(f);
  for (const [f] of m.add) addOnce(f);
  for (const [f] of m.remove) addOnce(f);
  for (const [name] of m.index) addOnce(`#i:${name}`);
  return keys;
}

/** The declared-index lookup of an entry spec, and the check that a value was declared. */
function entryLookup(i: number, e: EntryShape): string[] {
  const out = [`local ix${i} = {}`];
  for (const d of e.ix) {
    out.push(
      `ix${i}[${q(d.name)} .. '\\0' .. ${A(d.value)}] = { KEYS[tonumber(${A(d.iz)})], KEYS[tonumber(${A(d.ih)})] }`,
    );
  }
  return out;
}

function declaredCheck(i: number, name: string, value: string): string {
  return `if ix${i}[${q(name)} .. '\\0' .. ${value}] == nil then return error({ err = ${q(`TESSERA_MALFORMED undeclared index entry ${name}`)} }) end`;
}

/** Add an entry to the declared sets of index `name` (value `value`). */
function indexAdd(i: number, name: string, value: string, m: string, state: string): string {
  return `do local s = ix${i}[${q(name)} .. '\\0' .. ${value}] redis.call('ZADD', s[1], 0, ${m}) redis.call('HSET', s[2], ${m}, ${state}) end`;
}

interface Emitted {
  plan: string[];
  write: string[];
}

function emitOp(op: OpShape, i: number): Emitted {
  const k = `k${i}`;
  const f = `f${i}`;
  const d = `d${i}`;
  const plan = [
    `local ${k} = KEYS[${op.k}]`,
    `local ${f} = redis.call('HGETALL', ${k})`,
    `local ${d} = map(${k}, ${f})`,
  ];
  const write: string[] = [];
  const failIf = (cond: string) => plan.push(`if ${cond} then return fail(${i}, ${f}) end`);

  if (op.t === 'check') {
    failIf(
      op.absent
        ? `not (${d} == nil or not live(${d}, now))`
        : `not (${d} ~= nil and ${whereExpr(d, op.where)})`,
    );
    write.push(`chunk(out, ${f})`, `out[#out + 1] = 'S'`);
    return { plan, write };
  }

  const e = op.entry;
  if (e !== null) plan.push(...entryLookup(i, e));
  const m = e === null ? '' : A(e.member);

  if (op.t === 'delete' || op.t === 'expire') {
    if (op.t === 'delete') failIf(`${d} == nil or not (${whereExpr(d, op.where)})`);
    else
      failIf(
        `${d} == nil or ${d}['#e'] == nil or tonumber(${d}['#e']) > tonumber(${A(op.cutoff)})`,
      );
    write.push(`redis.call('DEL', ${k})`, `chunk(out, ${f})`, `out[#out + 1] = 'D'`);
    if (e !== null) {
      write.push(
        `redis.call('ZREM', KEYS[tonumber(${A(e.lz)})], ${m})`,
        `redis.call('HDEL', KEYS[tonumber(${A(e.lh)})], ${m})`,
        `redis.call('ZREM', KEYS[tonumber(${A(e.x)})], ${m})`,
        `for name, value in pairs(indexes(${f})) do lose(${i}, name, value, ${d}['#n'], ${d}['#v']) end`,
      );
    }
    return { plan, write };
  }

  // put or update: a record map r, written whole or field by field.
  const r = `r${i}`;
  const whole = `w${i}`;
  const be = `be${i}`;
  plan.push(`local ${r}`, `local ${whole} = true`, `local ${be} = ${d} and ${d}['#e']`);
  let input: InputShape | null;
  let mutation: MutationShape | null = null;
  if (op.t === 'put') {
    input = op.input;
    if (op.mode === 'insert') failIf(`${d} ~= nil and live(${d}, now)`);
    else if (op.mode === 'replace') {
      failIf(`${d} == nil or not live(${d}, now) or not (${whereExpr(d, op.where)})`);
    }
    plan.push(
      ...inputMap(
        r,
        op.input,
        `${d} and fmtint(tonumber(${d}['#v']) + 1) or '1'`,
        `${d} and ${d}['#n'] or ${A(op.incarnation)}`,
      ),
    );
  } else {
    input = op.create;
    mutation = op.mutation;
    const inPlace = [
      `if ${d} == nil or not (${whereExpr(d, op.where)}) then return fail(${i}, ${f}) end`,
      `${whole} = false`,
      `${r} = ${d}`,
    ];
    for (const [name] of op.mutation.index) {
      plan.push(`local bx${i}_${name}`);
      inPlace.push(`bx${i}_${name} = ${d}[${q(`#i:${name}`)}]`);
    }
    if (op.create !== null) {
      plan.push(
        `if ${d} == nil or not live(${d}, now) then`,
        ...inputMap(
          r,
          op.create,
          `${d} and ${d}['#v'] or '0'`,
          `${d} and ${d}['#n'] or ${A(op.incarnation)}`,
        ),
        'else',
        ...inPlace,
        'end',
      );
    } else {
      plan.push(...inPlace);
    }
    plan.push(...mutate(r, op.mutation));
  }

  // Entries to check before writing: every new index value must be declared.
  const state = `st${i}`;
  const wk = input === null ? null : wholeKeys(input, mutation);
  if (e !== null) {
    if (wk !== null) {
      const checks = wk.index.map(
        (name) =>
          `if ${r}[${q(`#i:${name}`)}] ~= nil then ${declaredCheck(i, name, `${r}[${q(`#i:${name}`)}]`)} end`,
      );
      if (checks.length > 0) plan.push(`if ${whole} then`, ...checks, 'end');
    }
    if (mutation !== null) {
      const checks = mutation.index.map(
        ([name]) =>
          `if ${r}[${q(`#i:${name}`)}] ~= nil and ${r}[${q(`#i:${name}`)}] ~= bx${i}_${name} then ${declaredCheck(i, name, `${r}[${q(`#i:${name}`)}]`)} end`,
      );
      if (checks.length > 0) plan.push(`if not ${whole} then`, ...checks, 'end');
    }
  }

  // Whole write (a put, or an update that created the record).
  const wholeWrite: string[] = [];
  if (wk !== null) {
    wholeWrite.push(
      `if ${d} ~= nil then redis.call('DEL', ${k}) end`,
      `local l = { '#v', ${r}['#v'], '#n', ${r}['#n'] }`,
      `if ${r}['#e'] ~= nil then l[#l + 1] = '#e' l[#l + 1] = ${r}['#e'] end`,
    );
    for (const name of wk.index) {
      const key = q(`#i:${name}`);
      wholeWrite.push(
        `if ${r}[${key}] ~= nil then l[#l + 1] = ${key} l[#l + 1] = ${r}[${key}] end`,
      );
    }
    for (const fld of wk.data) {
      wholeWrite.push(
        `if ${r}[${q(fld)}] ~= nil then l[#l + 1] = ${q(fld)} l[#l + 1] = ${r}[${q(fld)}] end`,
      );
    }
    wholeWrite.push(
      `hset(${k}, l)`,
      `if ${r}['#e'] ~= nil then pxat(${k}, tonumber(${r}['#e'])) end`,
      `chunk(out, ${f})`,
      `out[#out + 1] = 'W'`,
      `chunk(out, l)`,
    );
    if (e !== null) {
      wholeWrite.push(
        `local ${state} = '0||' .. ${r}['#n'] .. '|' .. ${r}['#v']`,
        `redis.call('ZADD', KEYS[tonumber(${A(e.lz)})], 0, ${m})`,
        `redis.call('HSET', KEYS[tonumber(${A(e.lh)})], ${m}, ${state})`,
        `redis.call('SADD', KEYS[tonumber(${A(e.cols)})], ${A(e.collection)})`,
      );
      for (const name of wk.index) {
        const key = q(`#i:${name}`);
        wholeWrite.push(
          `if ${r}[${key}] ~= nil then ${indexAdd(i, name, `${r}[${key}]`, m, state)} end`,
        );
      }
      wholeWrite.push(
        `if ${d} ~= nil then for name, value in pairs(indexes(${f})) do if ${r}['#i:' .. name] ~= value then lose(${i}, name, value, ${d}['#n'], ${r}['#v']) end end end`,
        `if ${r}['#e'] ~= nil then if ${r}['#e'] ~= ${be} then redis.call('ZADD', KEYS[tonumber(${A(e.x)})], ${r}['#e'], ${m}) end elseif ${be} ~= nil then redis.call('ZREM', KEYS[tonumber(${A(e.x)})], ${m}) end`,
      );
    }
  }

  // In-place write (an update of a live record).
  const fieldsWrite: string[] = [];
  if (mutation !== null) {
    const keys = changedKeys(mutation);
    fieldsWrite.push(`local sets, dels = { '#v', ${r}['#v'] }, {}`);
    for (const key of keys) {
      fieldsWrite.push(
        `if ${r}[${q(key)}] == nil then dels[#dels + 1] = ${q(key)} else sets[#sets + 1] = ${q(key)} sets[#sets + 1] = ${r}[${q(key)}] end`,
      );
    }
    if (mutation.expiresAt !== 'keep') {
      fieldsWrite.push(
        `if ${r}['#e'] ~= ${be} then if ${r}['#e'] == nil then dels[#dels + 1] = '#e' else sets[#sets + 1] = '#e' sets[#sets + 1] = ${r}['#e'] end end`,
      );
    }
    fieldsWrite.push(
      `if #dels > 0 then redis.call('HDEL', ${k}, unpack(dels)) end`,
      `hset(${k}, sets)`,
    );
    if (mutation.expiresAt !== 'keep') {
      fieldsWrite.push(
        `if ${r}['#e'] ~= ${be} then if ${r}['#e'] == nil then redis.call('PERSIST', ${k}) else pxat(${k}, tonumber(${r}['#e'])) end end`,
      );
    }
    fieldsWrite.push(
      `chunk(out, ${f})`,
      `out[#out + 1] = 'P'`,
      `chunk(out, sets)`,
      `chunk(out, dels)`,
    );
    if (e !== null) {
      fieldsWrite.push(`local ${state} = '0||' .. ${r}['#n'] .. '|' .. ${r}['#v']`);
      for (const [name] of mutation.index) {
        const key = q(`#i:${name}`);
        const bx = `bx${i}_${name}`;
        fieldsWrite.push(
          `if ${r}[${key}] ~= nil and ${r}[${key}] ~= ${bx} then ${indexAdd(i, name, `${r}[${key}]`, m, state)} end`,
          `if ${bx} ~= nil and ${r}[${key}] ~= ${bx} then lose(${i}, ${q(name)}, ${bx}, ${r}['#n'], ${r}['#v']) end`,
        );
      }
      if (mutation.expiresAt !== 'keep') {
        fieldsWrite.push(
          `if ${r}['#e'] ~= nil then if ${r}['#e'] ~= ${be} then redis.call('ZADD', KEYS[tonumber(${A(e.x)})], ${r}['#e'], ${m}) end elseif ${be} ~= nil then redis.call('ZREM', KEYS[tonumber(${A(e.x)})], ${m}) end`,
        );
      }
    }
  }

  if (op.t === 'put') write.push(...wholeWrite);
  else if (op.create === null) write.push(...fieldsWrite);
  else write.push(`if ${whole} then`, ...wholeWrite, 'else', ...fieldsWrite, 'end');
  return { plan, write };
}

/**
 * The Lua source of a shape.
 * @example `compileShape(shapeOf(args, true))`
 */
export function compileShape(shaped: Shaped): string {
  const needsArrays = shaped.ops.some(
    (op) =>
      (op.t === 'update' && (op.mutation.add.length > 0 || op.mutation.remove.length > 0)) ||
      ('where' in op && op.where !== null && op.where.fields.some((c) => c.op === 'contains')),
  );
  const plan: string[] = [];
  const write: string[] = [];
  shaped.ops.forEach((op, j) => {
    const e = emitOp(op, j + 1);
    plan.push(`-- op ${j + 1}: ${op.t}`, ...e.plan);
    write.push('do', ...e.write, 'end');
  });
  return [
    `-- tessera compiled write (${shaped.single ? 'single server' : 'cluster'})`,
    HELPERS,
    needsArrays ? ARRAY_HELPERS : '',
    ...plan,
    `local out = { 'ok' }`,
    ...write,
    `if #lost > 0 then out[#out + 1] = 'L' chunk(out, lost) end`,
    `local reply = table.concat(out, '\\0')`,
    // Every op but a check wrote something: keep the answer (see write-once.ts).
    shaped.ops.some((op) => op.t !== 'check') ? keepAnswerLua('reply') : '',
    'return reply',
  ].join('\n');
}
