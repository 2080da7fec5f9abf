/**
 * Service configuration: flags win over environment variables, which win over
 * defaults. Every value is validated; a mistake is a `ConfigError` with a
 * message that names the flag and the variable.
 * @module
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.js';

/** The validated service configuration. */
export interface ServiceConfig {
  /** TCP port (0..65535; 0 picks a free port). */
  readonly port: number;
  /** Interface to bind. */
  readonly host: string;
  /** Directory for the SQLite file, the server secret and other state. */
  readonly dataDir: string;
  /** Store URL: `sqlite:` (default: `<dataDir>/tessera.db`), `sqlite:/path/file.db`, `memory:`. */
  readonly store: string;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimitBytes: number;
}

/** One documented option: flag, environment variable, default and meaning. */
export interface OptionDoc {
  readonly flag: string;
  readonly env: string;
  readonly value: string;
  readonly defaultValue: string;
  readonly description: string;
}

/** Every option of `tessera serve`, as `--help` prints it. */
export const SERVE_OPTIONS: readonly OptionDoc[] = [
  {
    flag: '--port',
    env: 'TESSERA_PORT',
    value: '<n>',
    defaultValue: '8080',
    description: 'TCP port to listen on (0: any free port)',
  },
  {
    flag: '--host',
    env: 'TESSERA_HOST',
    value: '<addr>',
    defaultValue: '127.0.0.1',
    description: 'interface to bind (0.0.0.0 for all)',
  },
  {
    flag: '--data-dir',
    env: 'TESSERA_DATA_DIR',
    value: '<dir>',
    defaultValue: './.tessera',
    description: 'where the SQLite file, the server secret and the admin credential hash live',
  },
  {
    flag: '--store',
    env: 'TESSERA_STORE',
    value: '<url>',
    defaultValue: 'sqlite:',
    description: 'sqlite: | sqlite:/path/to/file.db | memory:',
  },
  {
    flag: '--body-limit',
    env: 'TESSERA_BODY_LIMIT',
    value: '<bytes>',
    defaultValue: '65536',
    description: 'largest request body accepted',
  },
];

function int(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max)
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/**
 * Parse `tessera serve` arguments and environment.
 *
 * @param args - arguments after `serve`
 * @param env - environment variables (default `process.env`)
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) for an unknown flag or a bad value
 * @example `const config = parseServeConfig(['--port', '9000']);`
 */
export function parseServeConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): ServiceConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        store: { type: 'string' },
        'body-limit': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see tessera serve --help)`);
  }
  const pick = (flag: string, envName: string, fallback: string): [string, string] => {
    const v = values[flag];
    if (typeof v === 'string') return [v, `--${flag}`];
    const e = env[envName];
    if (e !== undefined && e !== '') return [e, envName];
    return [fallback, `--${flag}`];
  };
  const [portRaw, portName] = pick('port', 'TESSERA_PORT', '8080');
  const [host, hostName] = pick('host', 'TESSERA_HOST', '127.0.0.1');
  const [dataDirRaw] = pick('data-dir', 'TESSERA_DATA_DIR', './.tessera');
  const [store, storeName] = pick('store', 'TESSERA_STORE', 'sqlite:');
  const [limitRaw, limitName] = pick('body-limit', 'TESSERA_BODY_LIMIT', '65536');
  if (!/^[A-Za-z0-9.:[\]-]{1,255}$/.test(host))
    throw new ConfigError(`${hostName} is not a valid host: "${host}"`);
  if (!/^[a-z][a-z0-9+.-]*:/.test(store)) {
    throw new ConfigError(
      `${storeName} must be a store URL such as sqlite: or memory:, got "${store}"`,
    );
  }
  return Object.freeze({
    port: int(portName, portRaw, 0, 65_535),
    host,
    dataDir: resolve(dataDirRaw),
    store,
    bodyLimitBytes: int(limitName, limitRaw, 1024, 16 * 1024 * 1024),
  });
}
