/**
 * PostgreSQL helpers for the tests: is the machine's server reachable, a fresh
 * schema per run (dropped afterwards), and a throw-away server of our own
 * (initdb in a temp dir, free loopback port) for fault tests.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The server the suites run against (override with `TESSERA_TEST_PG_URL`). */
export const PG_URL = process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Where Debian-style packages put the server binaries of each major version. */
const PG_LIB = '/usr/lib/postgresql';
/** The last resort when nothing better is found. */
const PG_BIN_FALLBACK = join(PG_LIB, '15', 'bin');

/** Whether `dir` holds the server binaries (`initdb` and `postgres`). */
function holdsServer(dir: string): boolean {
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
}

/**
 * The directory of the installed server binaries: `pg_config --bindir` when it
 * holds `initdb` and `postgres` (the version the client tools belong to);
 * otherwise the highest major version under `/usr/lib/postgresql` that does;
 * otherwise `/usr/lib/postgresql/15/bin`.
 */
function findPgBin(): string {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    })
      .toString()
      .trim();
    if (dir !== '' && holdsServer(dir)) return dir;
  } catch {
    // no pg_config on the PATH
  }
  try {
    const majors = readdirSync(PG_LIB)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of majors) if (holdsServer(join(PG_LIB, v, 'bin'))) return join(PG_LIB, v, 'bin');
  } catch {
    // no Debian-style layout
  }
  return PG_BIN_FALLBACK;
}

/**
 * Where the PostgreSQL server binaries live: `TESSERA_TEST_PG_BIN`, else
 * derived from `pg_config --bindir` (see {@link findPgBin}).
 */
export const PG_BIN = process.env.TESSERA_TEST_PG_BIN ?? findPgBin();

/** Whether a server answers `SELECT 1` at `url` within `timeoutMs`. */
export async function postgresAvailable(url = PG_URL, timeoutMs = 3000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Decide whether PostgreSQL suites run. When the server is down: in CI
 * (`CI=true`) throw, so the run fails; elsewhere warn loudly, naming the
 * skipped suites, and return false.
 */
export async function requirePostgres(suites: readonly string[], url = PG_URL): Promise<boolean> {
  if (await postgresAvailable(url)) return true;
  const message = `PostgreSQL is not reachable at ${url.replace(/:[^:@/]*@/, ':***@')}`;
  if (process.env.CI === 'true') {
    throw new Error(`${message}: the PostgreSQL suites cannot run in CI`);
  }
  console.warn(
    `\n${'!'.repeat(78)}\n!! ${message}\n!! SKIPPED: ${suites.join('; ')}\n!! Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n${'!'.repeat(78)}\n`,
  );
  return false;
}

/** A schema name no other run uses. */
export function uniqueSchema(prefix = 'tessera_t'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A pool for a test file, with the schemas it created dropped on `end()`. */
export interface TestDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  /** A fresh schema name, dropped (CASCADE) by `end()`. */
  schema(prefix?: string): string;
  /** Drop every schema handed out, and end the pool. */
  end(): Promise<void>;
}

/** Open a pool on `url` that hands out fresh schemas and drops them at the end. */
export function openTestDatabase(url = PG_URL, max = 8): TestDatabase {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  const schemas: string[] = [];
  return {
    url,
    pool,
    schema(prefix) {
      const s = uniqueSchema(prefix);
      schemas.push(s);
      return s;
    },
    async end() {
      try {
        for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      } finally {
        await pool.end();
      }
    },
  };
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** A PostgreSQL server this process started, in a temp directory. */
export interface TempPostgres {
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  /** The postmaster's PID while it runs. */
  pid(): number | null;
  /** Start the server (again) and wait until it accepts connections. */
  start(timeoutMs?: number): Promise<void>;
  /**
   * Stop the server by signalling the postmaster: `immediate` (SIGQUIT, a crash:
   * recovery replays the WAL on the next start) or `fast` (SIGINT).
   */
  stop(mode?: 'immediate' | 'fast', timeoutMs?: number): Promise<void>;
  /** Stop it if it runs and delete its directory. */
  destroy(): Promise<void>;
}

/** Whether the server binaries are installed. */
export function postgresBinariesAvailable(): boolean {
  return holdsServer(PG_BIN);
}

function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  // initdb and postgres refuse to run as root: run them as the postgres user.
  if (process.getuid?.() === 0) return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
  return [cmd, args];
}

function postgresUid(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * initdb a new cluster in a temp directory (trust auth, user `postgres`) and
 * prepare to run it on a free loopback port. Call `start()` next; always
 * `destroy()` in `afterAll`.
 */
export async function createTempPostgres(): Promise<TempPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
  const owner = postgresUid();
  if (owner !== null) chownSync(dir, owner.uid, owner.gid);
  const dataDir = join(dir, 'data');
  const [cmd, args] = asPostgresUser(join(PG_BIN, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  execFileSync(cmd, args, { stdio: 'pipe', timeout: 60_000 });
  const port = await freePort();
  let child: ChildProcess | null = null;

  const readPid = (): number | null => {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  };
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  const server: TempPostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    pid: () => {
      const pid = readPid();
      return pid !== null && alive(pid) ? pid : null;
    },
    async start(timeoutMs = 20_000) {
      const [c, a] = asPostgresUser(join(PG_BIN, 'postgres'), [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'max_connections=60',
        '-c',
        'shared_buffers=16MB',
        '-c',
        'logging_collector=off',
      ]);
      child = spawn(c, a, { stdio: 'ignore' });
      child.unref();
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (await postgresAvailable(server.url, 1000)) return;
        await sleep(100);
      }
      throw new Error(`temporary PostgreSQL did not start on port ${port} within ${timeoutMs} ms`);
    },
    async stop(mode = 'fast', timeoutMs = 20_000) {
      const pid = readPid();
      if (pid === null || !alive(pid)) return;
      process.kill(pid, mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
      const deadline = Date.now() + timeoutMs;
      while (alive(pid)) {
        if (Date.now() > deadline) {
          process.kill(pid, 'SIGKILL');
          break;
        }
        await sleep(50);
      }
      // Wait for the runuser wrapper too, so no child outlives the test.
      const wrapper = child;
      if (wrapper !== null && wrapper.exitCode === null && wrapper.signalCode === null) {
        await Promise.race([new Promise((r) => wrapper.once('exit', r)), sleep(2000)]);
      }
      child = null;
    },
    async destroy() {
      try {
        await server.stop('immediate', 10_000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return server;
}
