/**
 * The one Lua script that changes an ms-token challenge: it checks that the
 * challenge is still the one that was read (its `secret` and `created`), then
 * changes or deletes every key of it in the same step. All the keys are
 * passed in `KEYS` (ms-token's own scripts read some key names from the
 * hash), so on a Redis Cluster they must share a slot: they do under
 * ms-token's default prefix `{ms-token!5.0.1}`, whose hash tag exists for this.
 *
 * Modes:
 * - `consume`: an erasing verification, as ms-token's `msVerifyToken`: stamp
 *   `verified` if unset (`isFirstVerification`), return the hash, delete the
 *   challenge, its copies and its throttle window;
 * - `delete`: delete them all (`remove`);
 * - `claim`: return the hash and the remaining lifetimes of the challenge and
 *   of its throttle window, delete them all, and leave a marker (`moving`, no
 *   secret, {@link MOVE_GRACE_MS}) at the challenge and uid keys while the
 *   caller moves the challenge into a Tessera challenge, so that concurrent
 *   lookups wait for it instead of finding nothing;
 * - `finish`: delete the markers of one claim;
 * - `clear`: for `create`: refuse while the throttle window is open (as
 *   ms-token's `msTokenCreate`), else delete the challenge and its copies.
 * @module
 */
import { createHash } from 'node:crypto';

/** How long a claim's markers live if the claimer never finishes, ms. */
export const MOVE_GRACE_MS = 30_000;

/** What the facade needs of an ioredis `Redis` or `Cluster` (ioredis 4 or 5). */
export interface LegacyClient {
  hgetall(key: string): Promise<Record<string, string>>;
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/**
 * KEYS: idKey, throttleKey, the marker keys (the uid key), the other keys.
 * ARGV: mode, the secret read, `created` read ('' = expect no challenge),
 * now (ms), the number of marker keys after idKey, the claim's marker token.
 */
const LUA = `
local mode = ARGV[1]
if mode == 'finish' then
  for i = 1, #KEYS do
    if i ~= 2 and redis.call('HGET', KEYS[i], 'moving') == ARGV[6] then redis.call('DEL', KEYS[i]) end
  end
  return {'ok'}
end
if mode == 'clear' then
  local t = redis.call('TTL', KEYS[2])
  if t ~= -2 then return {'throttled', t} end
end
local cur = redis.call('HMGET', KEYS[1], 'secret', 'created')
if ARGV[3] == '' then
  if cur[2] then return {'changed'} end
  return {'ok'}
end
if cur[1] ~= ARGV[2] or cur[2] ~= ARGV[3] then return {'changed'} end
local out = {'ok'}
if mode == 'consume' then
  out[2] = redis.call('HSETNX', KEYS[1], 'verified', ARGV[4])
  out[3] = redis.call('HGETALL', KEYS[1])
elseif mode == 'claim' then
  out[2] = 0
  out[3] = redis.call('HGETALL', KEYS[1])
  out[4] = redis.call('PTTL', KEYS[1])
  out[5] = redis.call('PTTL', KEYS[2])
end
redis.call('DEL', unpack(KEYS))
if mode == 'claim' then
  for i = 1, 1 + tonumber(ARGV[5]) do
    local k = i == 1 and KEYS[1] or KEYS[i + 1]
    redis.call('HSET', k, 'moving', ARGV[6])
    redis.call('PEXPIRE', k, ${MOVE_GRACE_MS})
  end
end
return out
`;

const SHA = createHash('sha1').update(LUA).digest('hex');

/** The keys and the state one script run is conditioned on. */
export interface LegacyTarget {
  readonly idKey: string;
  readonly throttleKey: string;
  /** The uid key, if any: a claim leaves a marker there too. */
  readonly uidKey: string | null;
  /** The other copies (the secret key, and the `related` names ms-token listed). */
  readonly others: readonly string[];
  /** The `secret` field read ('' for a challenge without a secret). */
  readonly secret: string;
  /** The `created` field read, or '' to expect no challenge at `idKey`. */
  readonly created: string;
}

/** The outcome of one script run. */
export type LegacyScriptResult =
  /** Done. With `consume` and `claim`: the hash (and `first`); with `claim`, the lifetimes (ms, -1 none). */
  | {
      readonly status: 'ok';
      readonly first: boolean;
      readonly hash: Record<string, string>;
      readonly pttl: number;
      readonly throttlePttl: number;
    }
  /** The challenge is gone or is not the one that was read. */
  | { readonly status: 'changed' }
  /** `clear`: the throttle window is open for `ttl` more seconds. */
  | { readonly status: 'throttled'; readonly ttl: number };

function toHash(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/**
 * Run the script (EVALSHA, then EVAL when the server does not have it yet).
 *
 * @param client - the ioredis connection
 * @param mode - `consume`, `delete`, `claim`, `finish` or `clear`
 * @param target - the keys, and the state the run is conditioned on
 * @param now - ms since epoch, stamped as `verified` by `consume`
 * @param marker - `claim` and `finish`: the token of the claim's markers
 * @example `await runLegacyScript(client, 'claim', target, Date.now(), marker)`
 */
export async function runLegacyScript(
  client: LegacyClient,
  mode: 'consume' | 'delete' | 'claim' | 'finish' | 'clear',
  target: LegacyTarget,
  now: number,
  marker = '',
): Promise<LegacyScriptResult> {
  const keys = [target.idKey, target.throttleKey];
  if (target.uidKey !== null && !keys.includes(target.uidKey)) keys.push(target.uidKey);
  const markers = keys.length - 2;
  for (const k of target.others) if (!keys.includes(k)) keys.push(k);
  const args = [...keys, mode, target.secret, target.created, String(now), String(markers), marker];
  let reply: unknown;
  try {
    reply = await client.evalsha(SHA, keys.length, ...args);
  } catch (err) {
    if (!String((err as Error | undefined)?.message).startsWith('NOSCRIPT')) throw err;
    reply = await client.eval(LUA, keys.length, ...args);
  }
  const r = reply as unknown[];
  if (r[0] === 'throttled') return { status: 'throttled', ttl: Number(r[1]) };
  if (r[0] !== 'ok') return { status: 'changed' };
  return {
    status: 'ok',
    first: Number(r[1]) === 1,
    hash: toHash(r[2]),
    pttl: r[3] === undefined ? -1 : Number(r[3]),
    throttlePttl: r[4] === undefined ? -2 : Number(r[4]),
  };
}
