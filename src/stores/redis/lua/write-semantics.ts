/**
 * Lua helpers of the write script: the record codec and the reference
 * semantics of `shared/semantics.ts` (field conditions, `where`, mutations,
 * put inputs) over raw JSON texts, reading ops from ARGV tokens at `pos`.
 * They are spliced into the write script after its prologue (`now`, `grace`,
 * `pos`), so they run in the same chunk.
 *
 * Raw JSON is never re-encoded through cjson (14 significant digits, empty
 * arrays turned into objects): conditions compare raw JSON text (canonical for
 * strings, booleans and null) or numbers parsed with `tonumber` (exact
 * doubles), `inc` formats its result with `%d` or `%.17g` (which round-trips
 * every double), and array edits splice the raw texts of the elements.
 * @module
 */

/** The helpers, as Lua source. */
export const WRITE_SEMANTICS_LUA = `
local function fmtint(x) return string.format('%d', x) end

local function fmtnum(x)
  if x ~= x or x == math.huge or x == -math.huge then return 'null' end
  if x == math.floor(x) and math.abs(x) < 9007199254740992 then return string.format('%d', x) end
  return string.format('%.17g', x)
end

local function invalid(field, msg)
  return error({ err = 'TESSERA_INVALID ' .. field .. ' ' .. msg })
end

-- JSON kind of a raw value (nil means a missing field, which counts as null).
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

-- Raw texts of the top-level elements of a raw JSON array without whitespace.
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

-- A record: { v = version, e = expiresAt or nil, n = incarnation,
-- d = field -> raw JSON, o = field order, x = index name -> value }.
local function read(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local r = { d = {}, o = {}, x = {}, flat = flat }
  for i = 1, #flat, 2 do
    local f, v = flat[i], flat[i + 1]
    if string.byte(f, 1) == 35 then
      if f == '#v' then r.v = tonumber(v)
      elseif f == '#e' then r.e = tonumber(v)
      elseif f == '#n' then r.n = v
      elseif string.sub(f, 1, 3) == '#i:' then r.x[string.sub(f, 4)] = v end
    else
      r.d[f] = v
      r.o[#r.o + 1] = f
    end
  end
  if r.v == nil or r.n == nil then
    return error({ err = 'TESSERA_MALFORMED record ' .. key .. ' has no version' })
  end
  return r
end

-- Reply chunks: a token count, then the tokens (one NUL-joined string).
local function chunk(out, list)
  out[#out + 1] = tostring(#list)
  if #list > 0 then out[#out + 1] = table.concat(list, '\\0') end
end

local function live(r, at) return r.e == nil or r.e > at end

-- One field condition: { field, op, raw JSON value, '1' when the value is a number }.
local function field_ok(r, c)
  local v = r.d[c[1]]
  local op = c[2]
  if op == 'exists' then return v ~= nil and v ~= 'null' end
  if op == 'absent' then return v == nil or v == 'null' end
  if op == 'eq' or op == 'ne' then
    local same
    if c[4] == '1' then
      same = kind(v) == 'number' and tonumber(v) == tonumber(c[3])
    else
      same = (v or 'null') == c[3]
    end
    if op == 'eq' then return same end
    return not same
  end
  if op == 'contains' then
    if kind(v) ~= 'array' then return false end
    for _, item in ipairs(split(v)) do
      if item == c[3] then return true end
    end
    return false
  end
  if kind(v) ~= 'number' then return false end
  local a, b = tonumber(v), tonumber(c[3])
  if op == 'gt' then return a > b end
  if op == 'gte' then return a >= b end
  if op == 'lt' then return a < b end
  if op == 'lte' then return a <= b end
  return false
end

-- WHERE := version ('' for none) liveAt ('' for none) n { field op raw isnum }*n
local function read_where()
  local v, l, n = ARGV[pos], ARGV[pos + 1], tonumber(ARGV[pos + 2])
  pos = pos + 3
  if v == '' and l == '' and n == 0 then return nil end
  local w = { v = tonumber(v), l = tonumber(l) }
  if n > 0 then
    local f = {}
    for i = 1, n do
      f[i] = { ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3] }
      pos = pos + 4
    end
    w.f = f
  end
  return w
end

local function where_ok(r, w)
  if w == nil then return true end
  if w.v ~= nil and r.v ~= w.v then return false end
  if w.l ~= nil and not live(r, w.l) then return false end
  if w.f ~= nil then
    for _, c in ipairs(w.f) do
      if not field_ok(r, c) then return false end
    end
  end
  return true
end

local function setf(r, f, raw)
  if r.d[f] == nil then r.o[#r.o + 1] = f end
  r.d[f] = raw
end

-- INPUT := expiresAt (-1 for none) n { field raw }*n m { name value }*m
-- A new record from the input (consumes its tokens).
local function read_input(version, incarnation)
  local e = tonumber(ARGV[pos])
  local n = tonumber(ARGV[pos + 1])
  pos = pos + 2
  local r = { v = version, n = incarnation, d = {}, o = {}, x = {} }
  if e >= 0 then r.e = e end
  for _ = 1, n do
    setf(r, ARGV[pos], ARGV[pos + 1])
    pos = pos + 2
  end
  n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    r.x[ARGV[pos]] = ARGV[pos + 1]
    pos = pos + 2
  end
  return r
end

local function skip_input()
  local n = tonumber(ARGV[pos + 1])
  pos = pos + 2 + 2 * n
  n = tonumber(ARGV[pos])
  pos = pos + 1 + 2 * n
end

-- MUTATION := set n {f raw} | inc n {f number} | unset n {f} | add n {f k items}
-- | remove n {f k items} | expiresAt ('' unchanged, -1 none) | index n {name value ('' removes)}
-- applyMutation of semantics.ts, in place; ch collects changed data fields.
local function mutate(r, ch)
  local n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    setf(r, ARGV[pos], ARGV[pos + 1])
    ch[ARGV[pos]] = true
    pos = pos + 2
  end
  n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    local f = ARGV[pos]
    local cur = r.d[f]
    local base = 0
    if cur ~= nil and cur ~= 'null' then
      if kind(cur) ~= 'number' then invalid(f, 'cannot inc non-number field ' .. f) end
      base = tonumber(cur)
    end
    setf(r, f, fmtnum(base + tonumber(ARGV[pos + 1])))
    ch[f] = true
    pos = pos + 2
  end
  n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    local f = ARGV[pos]
    if r.d[f] ~= nil then
      r.d[f] = nil
      ch[f] = true
    end
    pos = pos + 1
  end
  n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    local f, k = ARGV[pos], tonumber(ARGV[pos + 1])
    pos = pos + 2
    local cur = r.d[f]
    local elems = {}
    if cur ~= nil and cur ~= 'null' then
      if kind(cur) ~= 'array' then invalid(f, 'cannot add to non-array field ' .. f) end
      elems = split(cur)
    end
    local seen = {}
    for _, e in ipairs(elems) do seen[e] = true end
    for j = pos, pos + k - 1 do
      local item = ARGV[j]
      if not seen[item] then
        seen[item] = true
        elems[#elems + 1] = item
      end
    end
    pos = pos + k
    setf(r, f, '[' .. table.concat(elems, ',') .. ']')
    ch[f] = true
  end
  n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    local f, k = ARGV[pos], tonumber(ARGV[pos + 1])
    pos = pos + 2
    local cur = r.d[f]
    if cur ~= nil and cur ~= 'null' then
      if kind(cur) ~= 'array' then invalid(f, 'cannot remove from non-array field ' .. f) end
      local drop = {}
      for j = pos, pos + k - 1 do drop[ARGV[j]] = true end
      local kept = {}
      for _, e in ipairs(split(cur)) do
        if not drop[e] then kept[#kept + 1] = e end
      end
      setf(r, f, '[' .. table.concat(kept, ',') .. ']')
      ch[f] = true
    end
    pos = pos + k
  end
  local e = ARGV[pos]
  pos = pos + 1
  if e ~= '' then
    e = tonumber(e)
    if e < 0 then r.e = nil else r.e = e end
  end
  n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    local value = ARGV[pos + 1]
    if value == '' then r.x[ARGV[pos]] = nil else r.x[ARGV[pos]] = value end
    pos = pos + 2
  end
  r.v = r.v + 1
end

local function snapshot(r)
  if r == nil then return nil end
  local x = {}
  for k, v in pairs(r.x) do x[k] = v end
  return { v = r.v, e = r.e, n = r.n, x = x, flat = r.flat }
end

local function fail(i, cur)
  local out = { 'fail', tostring(i - 1) }
  chunk(out, cur and cur.flat or {})
  return table.concat(out, '\\0')
end
`;
