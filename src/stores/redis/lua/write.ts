/**
 * The write script of the Redis store: every write primitive for one or more
 * records of one partition, in one atomic step on the node that owns the
 * partition's hash tag. The ops arrive as flat ARGV tokens and the answer is
 * one string of NUL-separated tokens (see `codec.ts`): JSON texts, field names,
 * keys and index values never contain a NUL.
 * @module
 */
import { ENTRY_LUA } from './write-entries.js';
import { keepAnswerLua, ONCE_PROLOGUE_LUA } from './write-once.js';
import { WRITE_SEMANTICS_LUA } from './write-semantics.js';

/**
 * Every write primitive, for one or more records of one partition.
 *
 * KEYS: record hashes, then the key that keeps the answer (last). ARGV:
 * `now`, the GC grace (ms), the deadline and how long to keep the answer (see
 * `write-once.ts`), then the ops as tokens (grammar in `codec.ts`). All ops
 * are planned first and nothing is written unless every one holds, so an
 * error or a failed condition leaves Redis untouched. PXAT is
 * `max(expiresAt, server time) + grace`: GC only.
 *
 * Reply (NUL-joined tokens): `ok`, then per op the record before the write as
 * it was read (a count, then field/value tokens) and what became of it: `D`
 * (deleted), `S` (unchanged), `W` and the whole new record, or `P`, the fields
 * it set and the fields it removed (each a count and tokens); or `fail`, the
 * op index and the current record; or `late` and Redis's time. A write that
 * changed something keeps its `ok` answer, and a second delivery of it gets
 * that answer back without running.
 */
function writeLua(single: boolean): string {
  return `
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local pos = 5
${ONCE_PROLOGUE_LUA}

${WRITE_SEMANTICS_LUA}
${single ? ENTRY_LUA : ''}
-- Plan every op: read, check, compute; nothing is written yet.
-- A plan: { key, before (snapshot), after, mode = 'whole' | 'fields' | 'del' | nil, ch }
local plans = {}
local i = 0
local wrote = false
while pos <= #ARGV do
  i = i + 1
  local t, key = ARGV[pos], KEYS[tonumber(ARGV[pos + 1])]
  pos = pos + 2
  if t ~= 'check' then wrote = true end
  local cur = read(key)
  local p = { key = key, t = t, i = i }${
    single
      ? `
  if t ~= 'check' then p.e = read_entry() end`
      : ''
  }
  if t == 'put' then
    local incarnation, mode = ARGV[pos], ARGV[pos + 1]
    pos = pos + 2
    local w = read_where()
    local is_live = cur ~= nil and live(cur, now)
    if (mode == 'insert' and is_live) or (mode == 'replace' and (not is_live or not where_ok(cur, w))) then
      return fail(i, cur)
    end
    if cur == nil then p.after = read_input(1, incarnation)
    else p.after = read_input(cur.v + 1, cur.n) end
    p.before = cur
    p.mode = 'whole'
  elseif t == 'update' then
    local incarnation = ARGV[pos]
    pos = pos + 1
    local w = read_where()
    local has_create = ARGV[pos] == '1'
    pos = pos + 1
    if has_create and (cur == nil or not live(cur, now)) then
      local base
      if cur == nil then base = read_input(0, incarnation)
      else base = read_input(cur.v, cur.n) end
      mutate(base, {})
      p.before = cur
      p.after = base
      p.mode = 'whole'
    else
      if has_create then skip_input() end
      if cur == nil or not where_ok(cur, w) then return fail(i, cur) end
      p.before = snapshot(cur)
      p.ch = {}
      mutate(cur, p.ch)
      p.after = cur
      p.mode = 'fields'
    end
  elseif t == 'delete' then
    local w = read_where()
    if cur == nil or not where_ok(cur, w) then return fail(i, cur) end
    p.before = cur
    p.mode = 'del'
  elseif t == 'check' then
    local absent = ARGV[pos] == '1'
    pos = pos + 1
    local w = read_where()
    local ok
    if absent then ok = cur == nil or not live(cur, now)
    else ok = cur ~= nil and where_ok(cur, w) end
    if not ok then return fail(i, cur) end
    p.before = cur
    p.after = cur
  elseif t == 'expire' then
    local cutoff = tonumber(ARGV[pos])
    pos = pos + 1
    if cur == nil or cur.e == nil or cur.e > cutoff then return fail(i, cur) end
    p.before = cur
    p.mode = 'del'
  else
    return error({ err = 'TESSERA_INVALID ops unknown op type ' .. tostring(t) })
  end
${single ? '  check_entries(p)\n' : ''}  plans[i] = p
end

local function pxat(key, e)
  redis.call('PEXPIREAT', key, math.max(e, server_ms) + grace)
end

local function hset(key, list)
  for j = 1, #list, 400 do
    redis.call('HSET', key, unpack(list, j, math.min(j + 399, #list)))
  end
end

-- Write, then answer: per op the record before (as read), then what it became:
-- D (deleted), S (unchanged), W + the whole record, or P + fields set + fields removed.
local out = { 'ok' }
for _, p in ipairs(plans) do
  local key, before, after = p.key, p.before, p.after
  chunk(out, before and before.flat or {})
  if p.mode == 'del' then
    redis.call('DEL', key)
    out[#out + 1] = 'D'
  elseif p.mode == 'whole' then
    if before ~= nil then redis.call('DEL', key) end
    local list = { '#v', fmtint(after.v), '#n', after.n }
    if after.e ~= nil then
      list[#list + 1] = '#e'
      list[#list + 1] = fmtint(after.e)
    end
    for name, value in pairs(after.x) do
      list[#list + 1] = '#i:' .. name
      list[#list + 1] = value
    end
    for _, f in ipairs(after.o) do
      local raw = after.d[f]
      if raw ~= nil then
        list[#list + 1] = f
        list[#list + 1] = raw
      end
    end
    hset(key, list)
    if after.e ~= nil then pxat(key, after.e) end
    out[#out + 1] = 'W'
    chunk(out, list)
  elseif p.mode == 'fields' then
    local sets, dels = { '#v', fmtint(after.v) }, {}
    for f, _ in pairs(p.ch) do
      local raw = after.d[f]
      if raw == nil then dels[#dels + 1] = f
      else
        sets[#sets + 1] = f
        sets[#sets + 1] = raw
      end
    end
    if after.e ~= before.e then
      if after.e == nil then dels[#dels + 1] = '#e'
      else
        sets[#sets + 1] = '#e'
        sets[#sets + 1] = fmtint(after.e)
      end
    end
    for name, value in pairs(after.x) do
      if before.x[name] ~= value then
        sets[#sets + 1] = '#i:' .. name
        sets[#sets + 1] = value
      end
    end
    for name, _ in pairs(before.x) do
      if after.x[name] == nil then dels[#dels + 1] = '#i:' .. name end
    end
    if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
    hset(key, sets)
    if after.e ~= before.e then
      if after.e == nil then redis.call('PERSIST', key)
      else pxat(key, after.e) end
    end
    out[#out + 1] = 'P'
    chunk(out, sets)
    chunk(out, dels)
  else
    out[#out + 1] = 'S'
  end${
    single
      ? `
  if p.e ~= nil then entries(p) end`
      : ''
  }
end${
    single
      ? `
if #lost > 0 then
  out[#out + 1] = 'L'
  chunk(out, lost)
end`
      : ''
  }
local reply = table.concat(out, '\\0')
if wrote then ${keepAnswerLua('reply')} end
return reply
`;
}

/** The write script for Redis Cluster: records only (entries are kept around it). */
export const WRITE_LUA = writeLua(false);

/**
 * The write script for a single Redis server: records, and in the same step
 * their list entries, index entries and expiry hints, and the collection
 * registry. Each op that may change entries (all but `check` and updates that
 * touch neither index, expiry nor creation) carries an ENTRY spec after its
 * key index (see {@link ENTRY_LUA}). Index values a record loses cannot be
 * named before the record is read, so the answer ends with `L` and their
 * `name value incarnation version op` tokens; the caller removes those
 * entries afterwards, as the Cluster protocol does.
 */
export const WRITE_SINGLE_LUA = writeLua(true);
