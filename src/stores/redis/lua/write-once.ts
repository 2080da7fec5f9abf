/**
 * The at-most-once frame of the write scripts (interpreted and compiled; see
 * `write-once.ts` for the protocol). Every write script gets, last in KEYS,
 * the key that keeps its answer (in the hash tag of its partition), and in
 * ARGV[3] and ARGV[4] its deadline (Redis time, ms) and how long to keep the
 * answer (ms).
 * @module
 */

/**
 * The start of a write script: the kept answer when a delivery of this write
 * was applied, `late` and Redis's time when it arrived after its deadline.
 * Defines `once_key` and `server_ms` (Redis's time, ms) for the rest.
 */
export const ONCE_PROLOGUE_LUA = `
local once_key = KEYS[#KEYS]
local once_answer = redis.call('GET', once_key)
if once_answer then return once_answer end
local server_ms
do
  local t = redis.call('TIME')
  server_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if server_ms > tonumber(ARGV[3]) then return 'late\\0' .. string.format('%d', server_ms) end
`;

/**
 * Lua statements that keep `reply` (a Lua expression) as the write's answer.
 * Only writes that changed something need it: a write whose conditions failed,
 * or that only checked, may run again (it changed nothing the first time).
 */
export function keepAnswerLua(reply: string): string {
  return `redis.call('SET', once_key, ${reply}, 'PX', ARGV[4])`;
}
