/**
 * The entry scripts of the Redis store: bookkeeping of list and index entries,
 * and reading a page of them. Each call touches keys of one hash tag only.
 * @module
 */

/**
 * Entry bookkeeping for the list and index sets of one hash tag.
 *
 * An entry is a member of a sorted set (`z`, scores 0, ordered by member) and
 * its state in a hash (`h`): `pending|nonces|incarnation|version`, where
 * `nonces` lists the pending writers (comma-separated) and `pending` counts
 * them. Writers add an entry (`pre`) before the record step and `settle` it
 * after; entries are removed only when no writer is pending and a stamp or an
 * unchanged state proves the record no longer needs them (see the design
 * notes in `redis-store.ts`).
 *
 * Every op may be delivered twice (a client resends unanswered commands after
 * a reconnect), so each is idempotent: a `pre` of a writer already pending and
 * a `settle` of a writer no longer pending change nothing; `rm`, `repair`,
 * `xadd` and `xrem` only ever converge.
 *
 * KEYS: keys of one tag. ARGV[1]: JSON list of ops:
 * - `['pre', z, h, member, nonce]`
 * - `['settle', z, h, member, committed (0|1), incarnation, version, nonce]`
 * - `['rm', z, h, member, incarnation, version]`
 * - `['repair', z, h, member, state seen before the record was read ('' = none)]`
 * - `['xadd', x, member, score]`, `['xrem', x, member]`
 * where z, h and x are indexes into KEYS.
 */
export const ENTRIES_LUA = `
local ops = cjson.decode(ARGV[1])

local function parse(s)
  if not s then return nil end
  local p, nonce, inc, v = string.match(s, '^(%d+)|([^|]*)|([^|]*)|(%d*)$')
  if p == nil then return nil end
  return { p = tonumber(p), nonce = nonce, i = inc, v = tonumber(v) or 0 }
end

local function fmt(st)
  return string.format('%d|%s|%s|%d', st.p, st.nonce, st.i, st.v)
end

local function drop(z, h, m)
  redis.call('ZREM', z, m)
  redis.call('HDEL', h, m)
end

-- The pending list without \`nonce\`, and whether it held it.
local function without(list, nonce)
  local out, found = {}, false
  for n in string.gmatch(list, '[^,]+') do
    if n == nonce then found = true else out[#out + 1] = n end
  end
  return table.concat(out, ','), found
end

for _, op in ipairs(ops) do
  local kind = op[1]
  if kind == 'xadd' then
    redis.call('ZADD', KEYS[op[2]], op[4], op[3])
  elseif kind == 'xrem' then
    redis.call('ZREM', KEYS[op[2]], op[3])
  else
    local z, h, m = KEYS[op[2]], KEYS[op[3]], op[4]
    local raw = redis.call('HGET', h, m)
    local st = parse(raw)
    if kind == 'pre' then
      redis.call('ZADD', z, 0, m)
      st = st or { p = 0, nonce = '', i = '', v = 0 }
      local _, found = without(st.nonce, op[5])
      if not found then
        st.p = st.p + 1
        if st.nonce == '' then st.nonce = op[5] else st.nonce = st.nonce .. ',' .. op[5] end
        redis.call('HSET', h, m, fmt(st))
      end
    elseif kind == 'settle' then
      local found = false
      if st == nil then
        if op[5] == 1 then
          -- The entry vanished (it should not): restore it, the record needs it.
          redis.call('ZADD', z, 0, m)
          st = { p = 0, nonce = '', i = '', v = 0 }
          found = true
        end
      else
        st.nonce, found = without(st.nonce, op[8])
        if found and st.p > 0 then st.p = st.p - 1 end
      end
      -- A writer no longer pending settled already: nothing to do.
      if found then
        if op[5] == 1 then
          if st.i == '' then
            st.i = op[6]
            st.v = op[7]
          elseif st.i == op[6] then
            if op[7] > st.v then st.v = op[7] end
          else
            st.i = '*'
          end
        end
        if st.p == 0 and st.i == '' then drop(z, h, m)
        else redis.call('HSET', h, m, fmt(st)) end
      end
    elseif kind == 'rm' then
      if st ~= nil and st.p == 0 and st.i == op[5] and st.v <= op[6] then drop(z, h, m) end
    elseif kind == 'repair' then
      if raw == false then
        if op[5] == '' then redis.call('ZREM', z, m) end
      elseif raw == op[5] and st ~= nil and st.p == 0 then
        drop(z, h, m)
      end
    end
  end
end
return #ops
`;

/**
 * One page of entries with their states, read atomically.
 * KEYS: the sorted set, the state hash. ARGV: `lex` with an exclusive start
 * member (or `-`), or `score` with a maximum score; then the count.
 * Reply: `{ members, states }` (a state is `''` when missing).
 */
export const PAGE_LUA = `
local members
if ARGV[1] == 'lex' then
  members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], '+', 'LIMIT', 0, tonumber(ARGV[3]))
else
  members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
end
local states = {}
if #members > 0 then
  local got = redis.call('HMGET', KEYS[2], unpack(members))
  for i = 1, #members do states[i] = got[i] or '' end
end
return { members, states }
`;
