/**
 * Where the benchmarks find their backends and peer packages.
 * Redis: `TESSERA_REDIS_URL` (default redis://127.0.0.1:6379); PostgreSQL:
 * `TESSERA_PG_URL` (default postgres://postgres@127.0.0.1:5432/test). Peer
 * packages live in the isolated sub-project bench/peers (`npm ci --prefix bench/peers`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';

export const REDIS_URL = process.env.TESSERA_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_URL = process.env.TESSERA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const peersDir = join(import.meta.dirname, '..', 'peers');

/** Whether bench/peers has been installed. */
export function peersInstalled(): boolean {
  return existsSync(join(peersDir, 'node_modules', 'ms-token'));
}

/** Load a CommonJS peer package from bench/peers (they ship no types we rely on). */
export const requirePeer = createRequire(join(peersDir, 'package.json')) as (id: string) => unknown;

/** Send `payload` and resolve whether the reply starts with `expect` within `timeoutMs`. */
function probe(
  host: string,
  port: number,
  payload: Buffer | string,
  expect: (b: Buffer) => boolean,
) {
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const socket = connect({ host, port });
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (d) => finish(expect(d)));
  });
}

/** Whether Redis answers PING. */
export function redisReachable(): Promise<boolean> {
  const u = new URL(REDIS_URL);
  return probe(u.hostname, Number(u.port || 6379), 'PING\r\n', (d) =>
    d.toString().startsWith('+PONG'),
  );
}

/** Whether PostgreSQL answers an SSLRequest (with `S` or `N`). */
export function postgresReachable(): Promise<boolean> {
  const u = new URL(PG_URL);
  const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
  return probe(
    u.hostname,
    Number(u.port || 5432),
    sslRequest,
    (d) => d[0] === 0x53 || d[0] === 0x4e,
  );
}
