/**
 * Running the store's Lua scripts: EVALSHA, and EVAL when the server answers
 * NOSCRIPT (a restarted server, a new cluster node, a flushed script cache).
 * EVAL also caches the script, so the next call is an EVALSHA again.
 * @module
 */
import { createHash } from 'node:crypto';
import { isReplyError } from './errors.js';
import { compileShape, packValues } from './lua/compile.js';
import { ENTRIES_LUA, PAGE_LUA } from './lua/entries.js';
import { type Shaped, shapeOf } from './lua/shape.js';
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

/** Most ops a compiled script holds (each op keeps a few Lua locals; Lua allows 200). */
const MAX_COMPILED_OPS = 8;
/** Most shapes compiled per process; further shapes run the interpreted script. */
const MAX_COMPILED_SHAPES = 256;
const compiled = new Map<string, LuaScript>();

/** The compiled script of a shape, compiling it on first use (null: use the interpreted one). */
function compiledFor(shaped: Shaped): LuaScript | null {
  if (shaped.ops.length > MAX_COMPILED_OPS) return null;
  let s = compiled.get(shaped.key);
  if (s === undefined) {
    if (compiled.size >= MAX_COMPILED_SHAPES) return null;
    s = script(`write-compiled-${compiled.size}`, compileShape(shaped));
    compiled.set(shaped.key, s);
  }
  return s;
}

/**
 * Run a write: the compiled script of its shape (see `lua/shape.ts`), or the
 * interpreted write script (`single`: the single-server one) when the shape
 * is too large or `compile` is false. Both answer alike (`parseWriteReply`).
 * @throws whatever ioredis throws (map it with `toStoreError`)
 */
export async function runWrite(
  client: RedisClient,
  keys: readonly string[],
  args: readonly string[],
  single: boolean,
  compile: boolean,
): Promise<unknown> {
  if (compile) {
    let shaped: Shaped | null = null;
    try {
      shaped = shapeOf(args, single);
    } catch {
      // Malformed ops: the interpreted script refuses them with a precise error.
    }
    const s = shaped === null ? null : compiledFor(shaped);
    const argv = s === null || shaped === null ? null : packValues(shaped.argv);
    if (s !== null && argv !== null) return runScript(client, s, keys, argv);
  }
  return runScript(client, single ? SCRIPTS.writeSingle : SCRIPTS.write, keys, args);
}
