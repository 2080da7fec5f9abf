/**
 * Detection of the external backends the tests use, and the rule for when one
 * is missing: locally the suites that need it are skipped with a loud warning;
 * in CI (`CI=true`) a missing backend is a failing test, never a silent skip.
 *
 * @example
 * ```ts
 * const ok = gateBackend('Redis', await redisAvailable(), ['store conformance: redis']);
 * if (ok) defineAllSuites({ ... });
 * ```
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { describe, it } from 'vitest';

/** Where the tests find the machine's Redis (override with `TESSERA_REDIS_URL`). */
export const REDIS_URL = process.env.TESSERA_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether this run is CI, where a missing backend must fail. */
export const isCI = process.env.CI === 'true';

/**
 * Send `payload` to host:port and resolve whether the reply starts with `expect`
 * within `timeoutMs`. Never rejects.
 */
export function probeTcp(
  host: string,
  port: number,
  payload: string,
  expect: string,
  timeoutMs = 1500,
): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = '';
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.length >= expect.length) finish(buf.startsWith(expect));
    });
  });
}

/** Host and port of a `redis://` URL. */
export function redisHostPort(url = REDIS_URL): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: u.port === '' ? 6379 : Number(u.port) };
}

/** Whether a Redis server answers PING at `url` (default {@link REDIS_URL}). */
export async function redisAvailable(url = REDIS_URL): Promise<boolean> {
  const { host, port } = redisHostPort(url);
  return probeTcp(host, port, 'PING\r\n', '+PONG');
}

/** Whether a program runs (`<program> --version` exits 0 within 5 s). */
export function programAvailable(program: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(program, ['--version'], { timeout: 5000 }, (err) => resolve(err === null));
  });
}

/** Whether `redis-server` and `redis-cli` can be started for private instances. */
export async function redisBinariesAvailable(): Promise<boolean> {
  const [server, cli] = await Promise.all([
    programAvailable('redis-server'),
    programAvailable('redis-cli'),
  ]);
  return server && cli;
}

/**
 * Apply the missing-backend rule. Returns `available`; when it is false,
 * defines either a failing test (CI) or a skipped one plus a loud warning.
 *
 * @param backend - what is missing, for the messages (`Redis at redis://...`)
 * @param available - the probe's answer
 * @param suites - names of the suites that need it
 */
export function gateBackend(
  backend: string,
  available: boolean,
  suites: readonly string[],
): boolean {
  if (available) return true;
  const what = suites.join(', ');
  if (isCI) {
    describe(`${backend} (required in CI)`, () => {
      it(`is reachable, for: ${what}`, () => {
        throw new Error(`${backend} is not reachable, so these suites cannot run: ${what}`);
      });
    });
  } else {
    console.warn(
      `\n${'!'.repeat(78)}\n!! ${backend} is not reachable: SKIPPING ${what}\n` +
        `!! (in CI, with CI=true, this is a failure)\n${'!'.repeat(78)}\n`,
    );
    describe.skip(`${backend} (not reachable)`, () => {
      it(`skipped: ${what}`, () => {});
    });
  }
  return false;
}
