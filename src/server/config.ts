/**
 * Service configuration from flags, environment variables and an optional
 * JSON file: flags win over the environment, which wins over the file, which
 * wins over defaults. Every value is validated; a mistake is a `ConfigError`
 * whose message names where the value came from (the flag, the variable or
 * the file and key).
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.js';

/** Longest lifetime of the JWTs the service mints (`--jwt-ttl`), seconds. */
export const MAX_JWT_TTL_SECONDS = 86_400;

/** A rate limit: at most `limit` requests per `windowSeconds`, or `null` when off. */
export type RateLimitSetting = { readonly limit: number; readonly windowSeconds: number } | null;

/** Log levels of the service (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated service configuration. */
export interface ServiceConfig {
  /** TCP port (0..65535; 0 picks a free port). */
  readonly port: number;
  /** Interface to bind. */
  readonly host: string;
  /** Directory for the SQLite file, the server secret and other state. */
  readonly dataDir: string;
  /** Store URL (see `openStore`). */
  readonly store: string;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimitBytes: number;
  /** Log level. */
  readonly logLevel: LogLevel;
  /** Whether every request is logged (one line at `info`). */
  readonly logRequests: boolean;
  /** Per-IP limit: anonymous routes and failed authentications. */
  readonly rateLimitIp: RateLimitSetting;
  /** Per-identity limit: authenticated requests, per credential. */
  readonly rateLimitIdentity: RateLimitSetting;
  /** Proxies in front of the service whose `X-Forwarded-For` entry is trusted (0: none). */
  readonly trustProxy: number;
  /** `/metrics`: `public`, `protected` (role `tessera:metrics`) or `off`. */
  readonly metrics: 'public' | 'protected' | 'off';
  /** Whether `/openapi.json` and `/docs` are served. */
  readonly docs: boolean;
  /** Whether failed verifications answer their precise reason (default: a generic answer). */
  readonly exposeReasons: boolean;
  /** Longest wait for in-flight requests on shutdown, seconds. */
  readonly shutdownGraceSeconds: number;
  /** Interval of the background expiry sweep, seconds (0: off). */
  readonly sweepIntervalSeconds: number;
  /**
   * The URL clients reach the service at (no trailing slash); undefined: the
   * address it listens on. The issuer and the OAuth metadata endpoints derive from it.
   */
  readonly publicUrl: string | undefined;
  /** The `iss` of minted JWTs and OAuth metadata; undefined: the public URL. */
  readonly issuer: string | undefined;
  /** Lifetime of JWTs minted by `/auth/token`, seconds. */
  readonly jwtTtlSeconds: number;
  /** JWK set file (`tessera keys generate`); undefined: a set kept sealed in the store. */
  readonly jwtKeysFile: string | undefined;
}

/** One documented option: config-file key, flag, environment variable, default and meaning. */
export interface OptionDoc {
  /** Key in the JSON configuration file. */
  readonly key: string;
  readonly flag: string;
  readonly env: string;
  readonly value: string;
  readonly defaultValue: string;
  readonly description: string;
}

/** Every option of `tessera serve`, as `--help` prints it. */
export const SERVE_OPTIONS: readonly OptionDoc[] = [
  {
    key: 'port',
    flag: '--port',
    env: 'TESSERA_PORT',
    value: '<n>',
    defaultValue: '8080',
    description: 'TCP port to listen on (0: any free port)',
  },
  {
    key: 'host',
    flag: '--host',
    env: 'TESSERA_HOST',
    value: '<addr>',
    defaultValue: '127.0.0.1',
    description: 'interface to bind (0.0.0.0 for all)',
  },
  {
    key: 'dataDir',
    flag: '--data-dir',
    env: 'TESSERA_DATA_DIR',
    value: '<dir>',
    defaultValue: './.tessera',
    description: 'where the SQLite file, the server secret and the admin credential hash live',
  },
  {
    key: 'store',
    flag: '--store',
    env: 'TESSERA_STORE',
    value: '<url>',
    defaultValue: 'sqlite:',
    description:
      'sqlite: (tessera.db in --data-dir) | sqlite:./app.db | memory: | redis://127.0.0.1:6379 | rediss://user:pass@redis.example.com:6380 | redis://10.0.0.1:7000,10.0.0.2:7000 (a Redis Cluster seed list) | redis://10.0.0.1:7000?cluster=1 (a Cluster from one node) | postgres://app@db.example.com:5432/app?schema=tessera | dynamodb:tessera?region=eu-west-1 (table tessera) | dynamodb:tessera?region=us-east-1&endpoint=http://localhost:8000 (DynamoDB Local)',
  },
  {
    key: 'bodyLimit',
    flag: '--body-limit',
    env: 'TESSERA_BODY_LIMIT',
    value: '<bytes>',
    defaultValue: '65536',
    description: 'largest request body accepted (413 above)',
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'TESSERA_LOG_LEVEL',
    value: '<level>',
    defaultValue: 'info',
    description: `JSON logs on stdout at this level: ${LOG_LEVELS.join(' | ')}`,
  },
  {
    key: 'logRequests',
    flag: '--log-requests',
    env: 'TESSERA_LOG_REQUESTS',
    value: '<on|off>',
    defaultValue: 'on',
    description: 'one log line per request (method, route, status, duration, request id)',
  },
  {
    key: 'rateLimitIp',
    flag: '--rate-limit-ip',
    env: 'TESSERA_RATE_LIMIT_IP',
    value: '<n/s|off>',
    defaultValue: '300/60',
    description:
      "per client IP: anonymous requests and failed authentications, n per s seconds; off also lifts the token endpoint's 30 attempts per IP a minute (its 10 failures per token id and client in 5 minutes stay)",
  },
  {
    key: 'rateLimitIdentity',
    flag: '--rate-limit-identity',
    env: 'TESSERA_RATE_LIMIT_IDENTITY',
    value: '<n/s|off>',
    defaultValue: '6000/60',
    description: 'per credential: authenticated requests, n per s seconds',
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy',
    env: 'TESSERA_TRUST_PROXY',
    value: '<hops>',
    defaultValue: '0',
    description: 'reverse proxies whose X-Forwarded-For entry names the client IP',
  },
  {
    key: 'metrics',
    flag: '--metrics',
    env: 'TESSERA_METRICS',
    value: '<mode>',
    defaultValue: 'public',
    description: 'GET /metrics: public | protected (role tessera:metrics) | off',
  },
  {
    key: 'docs',
    flag: '--docs',
    env: 'TESSERA_DOCS',
    value: '<on|off>',
    defaultValue: 'on',
    description: 'serve /openapi.json and the reference page /docs',
  },
  {
    key: 'exposeReasons',
    flag: '--expose-reasons',
    env: 'TESSERA_EXPOSE_REASONS',
    value: '<on|off>',
    defaultValue: 'off',
    description: 'failed verifications answer their reason (off: {"valid":false} only)',
  },
  {
    key: 'shutdownGrace',
    flag: '--shutdown-grace',
    env: 'TESSERA_SHUTDOWN_GRACE',
    value: '<seconds>',
    defaultValue: '10',
    description: 'on SIGTERM/SIGINT, how long in-flight requests may take to finish',
  },
  {
    key: 'sweepInterval',
    flag: '--sweep-interval',
    env: 'TESSERA_SWEEP_INTERVAL',
    value: '<seconds>',
    defaultValue: '60',
    description:
      'background maintenance: release the tokens of timed-out sessions, remove expired records (0: off; use `tessera sweep`)',
  },
  {
    key: 'publicUrl',
    flag: '--public-url',
    env: 'TESSERA_PUBLIC_URL',
    value: '<url>',
    defaultValue: '',
    description:
      'the URL clients reach the service at, e.g. https://auth.example.com (RFC 8414 and RFC 9068 want https): the JWT issuer and the OAuth metadata endpoints (<url>/auth/token, …) derive from it; default http://<host>:<port> it listens on. Instances sharing a store need the same one',
  },
  {
    key: 'issuer',
    flag: '--issuer',
    env: 'TESSERA_ISSUER',
    value: '<iss>',
    defaultValue: '',
    description: 'iss of minted JWTs and the OAuth metadata (default: the public URL)',
  },
  {
    key: 'jwtTtl',
    flag: '--jwt-ttl',
    env: 'TESSERA_JWT_TTL',
    value: '<seconds>',
    defaultValue: '600',
    description: 'lifetime of JWTs minted by POST /auth/token',
  },
  {
    key: 'jwtKeys',
    flag: '--jwt-keys',
    env: 'TESSERA_JWT_KEYS',
    value: '<file.json>',
    defaultValue: '',
    description:
      'JWK set from `tessera keys generate` (default: one generated on first start, sealed in the store)',
  },
  {
    key: 'config',
    flag: '--config',
    env: 'TESSERA_CONFIG',
    value: '<file.json>',
    defaultValue: '',
    description: 'JSON file of options by key (e.g. {"port": 9000, "rateLimitIp": "off"})',
  },
];

const BY_KEY = new Map(SERVE_OPTIONS.map((o) => [o.key, o]));

function int(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max)
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(name: string, raw: string): boolean {
  const v = raw.toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(v)) return true;
  if (['off', 'false', '0', 'no'].includes(v)) return false;
  throw new ConfigError(`${name} must be on or off, got "${raw}"`);
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
}

function rateLimit(name: string, raw: string): RateLimitSetting {
  if (raw === 'off' || raw === '0') return null;
  const m = /^(\d{1,9})\/(\d{1,8})$/.exec(raw);
  if (!m) throw new ConfigError(`${name} must be <requests>/<seconds> or off, got "${raw}"`);
  const limit = int(name, m[1] as string, 1, 1_000_000_000);
  const windowSeconds = int(name, m[2] as string, 1, 86_400);
  return { limit, windowSeconds };
}

/** An absolute http(s) URL without credentials, query or fragment, without its trailing slash. */
function publicUrl(name: string, raw: string): string {
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  if (
    u === undefined ||
    (u.protocol !== 'https:' && u.protocol !== 'http:') ||
    u.username !== '' ||
    u.password !== '' ||
    u.search !== '' ||
    u.hash !== '' ||
    raw.length > 255 ||
    /[?#]/.test(raw)
  ) {
    throw new ConfigError(
      `${name} must be an absolute http(s) URL without credentials, query or fragment (e.g. https://auth.example.com), got "${raw.slice(0, 80)}"`,
    );
  }
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}

/** Read a JSON configuration file into `key → string`. */
function readConfigFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object of options`);
  }
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(parsed)) {
    if (k === '$schema') continue;
    if (!BY_KEY.has(k) || k === 'config') {
      const known = SERVE_OPTIONS.filter((o) => o.key !== 'config').map((o) => o.key);
      throw new ConfigError(
        `config file ${path}: unknown option "${k.slice(0, 64)}" (known: ${known.join(', ')})`,
      );
    }
    if (typeof v === 'string') out.set(k, v);
    else if (typeof v === 'number' || typeof v === 'boolean') out.set(k, String(v));
    else throw new ConfigError(`config file ${path}: "${k}" must be a string, number or boolean`);
  }
  return out;
}

/**
 * Parse `tessera serve` arguments, environment and configuration file.
 *
 * @param args - arguments after `serve`
 * @param env - environment variables (default `process.env`)
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) for an unknown flag or file key, or a bad value
 * @example `const config = parseServeConfig(['--port', '9000', '--config', 'tessera.json']);`
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
      options: Object.fromEntries(
        SERVE_OPTIONS.map((o) => [o.flag.slice(2), { type: 'string' as const }]),
      ),
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see tessera serve --help)`);
  }
  const configPath =
    typeof values.config === 'string' ? values.config : env.TESSERA_CONFIG || undefined;
  const file = configPath ? readConfigFile(resolve(configPath)) : new Map<string, string>();

  /** The raw value of an option and the name to blame for it. */
  const pick = (key: string): [string, string] => {
    const o = BY_KEY.get(key) as OptionDoc;
    const v = values[o.flag.slice(2)];
    if (typeof v === 'string') return [v, o.flag];
    const e = env[o.env];
    if (e !== undefined && e !== '') return [e, o.env];
    const f = file.get(key);
    if (f !== undefined) return [f, `${configPath}: ${key}`];
    return [o.defaultValue, o.flag];
  };
  const [portRaw, portName] = pick('port');
  const [host, hostName] = pick('host');
  const [dataDirRaw] = pick('dataDir');
  const [store, storeName] = pick('store');
  if (!/^[A-Za-z0-9.:[\]-]{1,255}$/.test(host))
    throw new ConfigError(`${hostName} is not a valid host: "${host}"`);
  if (!/^[a-z][a-z0-9+.-]*:/.test(store)) {
    throw new ConfigError(
      `${storeName} must be a store URL such as sqlite: or memory:, got "${store}"`,
    );
  }
  const [issuerRaw, issuerName] = pick('issuer');
  if (issuerRaw !== '' && !/^[\x21-\x7e]{1,255}$/.test(issuerRaw))
    throw new ConfigError(`${issuerName} must be 1..255 visible ASCII characters`);
  const [publicUrlRaw, publicUrlName] = pick('publicUrl');
  const read = <T>(key: string, parse: (name: string, raw: string) => T): T => {
    const [raw, name] = pick(key);
    return parse(name, raw);
  };
  return Object.freeze({
    port: int(portName, portRaw, 0, 65_535),
    host,
    dataDir: resolve(dataDirRaw),
    store,
    bodyLimitBytes: read('bodyLimit', (n, r) => int(n, r, 1024, 16 * 1024 * 1024)),
    logLevel: read('logLevel', (n, r) => oneOf(n, r, LOG_LEVELS)),
    logRequests: read('logRequests', bool),
    rateLimitIp: read('rateLimitIp', rateLimit),
    rateLimitIdentity: read('rateLimitIdentity', rateLimit),
    trustProxy: read('trustProxy', (n, r) => int(n, r, 0, 10)),
    metrics: read('metrics', (n, r) => oneOf(n, r, ['public', 'protected', 'off'] as const)),
    docs: read('docs', bool),
    exposeReasons: read('exposeReasons', bool),
    shutdownGraceSeconds: read('shutdownGrace', (n, r) => int(n, r, 0, 3600)),
    sweepIntervalSeconds: read('sweepInterval', (n, r) => int(n, r, 0, 86_400)),
    publicUrl: publicUrlRaw === '' ? undefined : publicUrl(publicUrlName, publicUrlRaw),
    issuer: issuerRaw === '' ? undefined : issuerRaw,
    jwtTtlSeconds: read('jwtTtl', (n, r) => int(n, r, 10, MAX_JWT_TTL_SECONDS)),
    jwtKeysFile: read('jwtKeys', (_n, r) => (r === '' ? undefined : resolve(r))),
  });
}
