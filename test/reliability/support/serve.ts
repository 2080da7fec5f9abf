/**
 * `tessera serve` as a real child process for the reliability tests: built
 * from `dist/` (built here when missing), on a free port, with a fixed admin
 * credential and server secret, its stdout (pino JSON logs) captured so the
 * leak scan can read it. Every child is killed by PID when the test file ends.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SecretLog } from './leaks.js';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'tessera.js');

/** A fixed admin credential for this run (random per test process, scanned for by the leak test). */
export const ADMIN = `tsa_rel-${randomBytes(18).toString('base64url')}`;
/** The server secret of this run (`id:secret`). */
export const SECRET_VALUE = randomBytes(32).toString('base64url');
export const SECRET = `r1:${SECRET_VALUE}`;

/** A secret log holding what every served child is configured with (admin credential, server secret). */
export function serviceSecrets(): SecretLog {
  const secrets = new SecretLog();
  secrets.add('admin credential', ADMIN);
  secrets.add('server secret', SECRET_VALUE);
  secrets.add('server secret pair', SECRET);
  return secrets;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Build `dist/` when a bare `vitest run` finds it missing (`npm test` builds first). */
export function ensureBuilt(): void {
  if (existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) return;
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: ROOT },
  );
}

/** Temp directories made by {@link tempDir}, removed by {@link removeTempDirs}. */
const dirs: string[] = [];

/** A fresh temp directory. */
export function tempDir(prefix = 'tessera-rel-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Remove every directory {@link tempDir} made. */
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A running `tessera serve` child. */
export interface Served {
  readonly url: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it printed so far (stdout + stderr). */
  output(): string;
  /** Resolves with the exit code or signal once it has exited. */
  readonly exited: Promise<string>;
  /** Whether it is still running. */
  alive(): boolean;
  /** SIGKILL, then wait until it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** Every output ever captured, kept for the leak scan of this test process. */
export const allOutputs: Array<() => string> = [];

/**
 * Start `tessera serve --port 0` on `store` and resolve once it listens.
 *
 * @param options - `store` URL, `dataDir` (a fresh temp dir by default),
 *   `args` extra flags, `env` extra variables
 */
export function serve(options: {
  store: string;
  dataDir?: string;
  args?: readonly string[];
  env?: Record<string, string>;
}): Promise<Served> {
  const dataDir = options.dataDir ?? tempDir();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--store',
        options.store,
        '--rate-limit-ip',
        'off',
        '--rate-limit-identity',
        'off',
        '--sweep-interval',
        '0',
        ...(options.args ?? []),
      ],
      {
        cwd: dataDir,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          TESSERA_ADMIN_TOKEN: ADMIN,
          TESSERA_SECRET: SECRET,
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    live.add(child);
    let out = '';
    const exited = new Promise<string>((r) =>
      child.on('exit', (code, signal) => {
        live.delete(child);
        r(signal ?? String(code));
      }),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera serve did not start within 30 s:\n${out.slice(-3000)}`));
    }, 30_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    let started = false;
    const onData = (d: string) => {
      out += d;
      if (started) return;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url !== undefined) {
        started = true;
        clearTimeout(timer);
        const served: Served = {
          url,
          child,
          pid: child.pid as number,
          output: () => out,
          exited,
          alive: () => child.exitCode === null && child.signalCode === null,
          async kill9() {
            if (served.alive()) child.kill('SIGKILL');
            await exited;
          },
          async stop() {
            if (!served.alive()) return;
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(t);
          },
        };
        allOutputs.push(() => out);
        resolvePromise(served);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`tessera serve exited before listening:\n${out.slice(-3000)}`));
      }
    });
  });
}

/** A JSON answer of the service. */
export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are checked by the assertions
  body: any;
  text: string;
}

/** POST/GET/... JSON to the service with the admin credential (or `credential`). */
export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  credential: string | null = ADMIN,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (credential) headers.authorization = `Bearer ${credential}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text };
}
