/**
 * Running the store's Lua scripts: EVALSHA, and EVAL when the server answers
 * NOSCRIPT (a restarted server, a new cluster node, a flushed script cache).
 * EVAL also caches the script, so the next call is an EVALSHA again.
 * @module
 */
import { createHash } from 'node:crypto';
import { isReplyError } from './errors.js';
import { ENTRIES_LUA, PAGE_LUA } from './lua/entries.js';
import { WRITE_LUA, WRITE_SINGLE_LUA } from './lua/write.js';
import type { RedisClient } from './options.js';

/** A Lua script and its SHA-1. */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

function script(name: string, lua: string): LuaScript {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** The store's scripts. */
export const SCRIPTS = {
  write: script('write', WRITE_LUA),
  writeSingle: script('write-single', WRITE_SINGLE_LUA),
  entries: script('entries', ENTRIES_LUA),
  page: script('page', PAGE_LUA),
} as const;

/**
 * Run a script on the node that owns `keys` (all in one slot).
 * @throws whatever ioredis throws (map it with `toStoreError`)
 */
export async function runScript(
  client: RedisClient,
  s: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!isReplyError(err) || !String((err as Error).message).startsWith('NOSCRIPT')) throw err;
    return await client.eval(s.lua, keys.length, ...keys, ...args);
  }
}
