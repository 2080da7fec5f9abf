/**
 * The server secret: from `TESSERA_SECRET` (one or more `id:secret` pairs,
 * comma-separated, the first active), or a file in the data directory created
 * with mode 0600 on the service's first start (never by other commands). It feeds the keyring that HMACs and seals
 * every credential.
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { createKeyring, generateServerSecret, type Keyring } from '../core/keyring.js';

/** Name of the secret file in the data directory. */
export const SECRET_FILE = 'server-secret';

/** Result of {@link loadKeyring}. */
export interface LoadedKeyring {
  readonly keyring: Keyring;
  /** Whether a new secret file was written now. */
  readonly created: boolean;
  /** Where the secret came from (never the secret). */
  readonly source: string;
}

function parsePairs(text: string, where: string): Array<{ id: string; secret: string }> {
  const pairs = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.indexOf(':');
      if (i <= 0) throw new ConfigError(`${where} must hold id:secret pairs`);
      return { id: s.slice(0, i), secret: s.slice(i + 1) };
    });
  if (pairs.length === 0) throw new ConfigError(`${where} is empty`);
  return pairs;
}

/**
 * Load the keyring, creating the secret file when needed and allowed.
 *
 * Only the service's first start should create a secret: a tool that made
 * one in the wrong directory would hash tokens under a key the service never
 * uses, so they would never verify there.
 *
 * @param dataDir - the data directory (created with mode 0700 when the secret is created)
 * @param env - environment (default `process.env`)
 * @param options - `create`: write a new secret file when there is none (default true)
 * @throws ConfigError when the secret is malformed, its file is readable by others, or
 *   there is none and `create` is false
 * @example `const { keyring } = loadKeyring('./.tessera', process.env, { create: false });`
 */
export function loadKeyring(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { readonly create?: boolean } = {},
): LoadedKeyring {
  const build = (pairs: Array<{ id: string; secret: string }>, where: string) => {
    try {
      return createKeyring({ keys: pairs });
    } catch (err) {
      throw new ConfigError(`${where}: ${(err as Error).message}`);
    }
  };
  const fromEnv = env.TESSERA_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    return {
      keyring: build(parsePairs(fromEnv, 'TESSERA_SECRET'), 'TESSERA_SECRET'),
      created: false,
      source: 'TESSERA_SECRET',
    };
  }
  const file = join(dataDir, SECRET_FILE);
  if (options.create === false && !existsSync(file)) {
    throw new ConfigError(
      `no server secret in ${dataDir}; set TESSERA_SECRET to the service's secret or point --data-dir at the service's data directory`,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    writeFileSync(file, `k1:${generateServerSecret()}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  chmodSync(file, 0o600);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new ConfigError(`${file} must not be readable by others (mode ${mode.toString(8)})`);
  return {
    keyring: build(parsePairs(readFileSync(file, 'utf8'), file), file),
    created,
    source: file,
  };
}
