/**
 * Lua helpers of the single-server write script: list entries, index entries,
 * expiry hints and the collection registry, kept in the same atomic step as
 * the records. They are spliced into the write script after the semantics
 * helpers, so they share its chunk (`pos`, `fmtint`).
 *
 * Entry states keep the format of the Cluster protocol
 * (`pending|nonce|incarnation|version`, see `entries.ts`), so `list`,
 * `findByIndex`, `sweep` and their repairs read both alike. A record written
 * here has no pending writer: its entries get `0||incarnation|version`.
 * @module
 */

/** The helpers, as Lua source. */
export const ENTRY_LUA = `
-- ENTRY := member ('' for none) collection lz lh x cols m { name value iz ih }*m
-- where lz, lh, x, cols, iz and ih are indexes into KEYS.
local function read_entry()
  local member = ARGV[pos]
  if member == '' then
    pos = pos + 1
    return nil
  end
  local e = {
    m = member, c = ARGV[pos + 1],
    lz = KEYS[tonumber(ARGV[pos + 2])], lh = KEYS[tonumber(ARGV[pos + 3])],
    x = KEYS[tonumber(ARGV[pos + 4])], cols = KEYS[tonumber(ARGV[pos + 5])], ix = {},
  }
  local n = tonumber(ARGV[pos + 6])
  pos = pos + 7
  for _ = 1, n do
    e.ix[ARGV[pos] .. '\\0' .. ARGV[pos + 1]] = { KEYS[tonumber(ARGV[pos + 2])], KEYS[tonumber(ARGV[pos + 3])] }
    pos = pos + 4
  end
  return e
end

-- Index values records lost: name, value, incarnation, version, op (from 0).
local lost = {}

local function lose(p, name, value, incarnation, version)
  lost[#lost + 1] = name
  lost[#lost + 1] = value
  lost[#lost + 1] = incarnation
  lost[#lost + 1] = fmtint(version)
  lost[#lost + 1] = tostring(p.i - 1)
end

-- Refuse, before anything is written, an op whose new index values were not declared.
local function check_entries(p)
  if p.e == nil or (p.mode ~= 'whole' and p.mode ~= 'fields') then return end
  for name, value in pairs(p.after.x) do
    if (p.mode == 'whole' or p.before.x[name] ~= value) and p.e.ix[name .. '\\0' .. value] == nil then
      return error({ err = 'TESSERA_MALFORMED undeclared index entry ' .. name })
    end
  end
end

-- Bring the entries of one written op in line with its record.
local function entries(p)
  local e, b, a = p.e, p.before, p.after
  local m = e.m
  if p.mode == 'del' then
    redis.call('ZREM', e.lz, m)
    redis.call('HDEL', e.lh, m)
    redis.call('ZREM', e.x, m)
    for name, value in pairs(b.x) do lose(p, name, value, b.n, b.v) end
    return
  end
  if p.mode ~= 'whole' and p.mode ~= 'fields' then return end
  local state = '0||' .. a.n .. '|' .. fmtint(a.v)
  local whole = p.mode == 'whole'
  if whole then
    redis.call('ZADD', e.lz, 0, m)
    redis.call('HSET', e.lh, m, state)
    redis.call('SADD', e.cols, e.c)
  end
  for name, value in pairs(a.x) do
    if whole or b.x[name] ~= value then
      local d = e.ix[name .. '\\0' .. value]
      redis.call('ZADD', d[1], 0, m)
      redis.call('HSET', d[2], m, state)
    end
  end
  local be = nil
  if b ~= nil then
    be = b.e
    for name, value in pairs(b.x) do
      if a.x[name] ~= value then lose(p, name, value, b.n, a.v) end
    end
  end
  if a.e ~= nil then
    if a.e ~= be then redis.call('ZADD', e.x, fmtint(a.e), m) end
  elseif be ~= nil then
    redis.call('ZREM', e.x, m)
  end
end
`;
