/**
 * Private Redis processes for tests: a single server with the options a test
 * wants (AOF, a fixed port to restart on), or a Redis Cluster of N masters made
 * with `redis-cli --cluster create`. Everything listens on free loopback
 * ports, lives in a temp directory, is stopped by PID (never by name) and
 * removed afterwards; a process-exit hook kills what a crashed run leaves.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster({ masters: 3 });
 * try { ... cluster.url ... } finally { await cluster.stop(); }
 * ```
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeTcp } from './backends.js';

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

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A loopback port that is free now (and, with `busOffset`, so is port + offset,
 * as a cluster node's bus port needs). Ports are picked at random in 20000..45000
 * to keep clear of other runs.
 */
export async function freePort(
  taken: ReadonlySet<number> = new Set(),
  busOffset = 0,
): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.has(port) || (busOffset > 0 && taken.has(port + busOffset))) continue;
    if (!(await portFree(port))) continue;
    if (busOffset > 0 && !(await portFree(port + busOffset))) continue;
    return port;
  }
  throw new Error('no free loopback port found');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Run a program and resolve its stdout (rejects on a non-zero exit or the timeout). */
export function run(program: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One private `redis-server` process. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** Kill it with SIGKILL (no shutdown, no final fsync) and wait until it is gone. */
  kill(): Promise<void>;
  /** Start it again on the same port and directory (after `kill`). */
  restart(): Promise<void>;
  /** Stop it (SIGTERM, then SIGKILL after 5 s); `removeDir` (default true) deletes its directory. */
  stop(removeDir?: boolean): Promise<void>;
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probeTcp('127.0.0.1', port, 'PING\r\n', '+PONG', 500)) return;
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill(signal);
    if (!(await exited(child, 5000))) {
      child.kill('SIGKILL');
      await exited(child, 5000);
    }
  }
  live.delete(child);
}

/**
 * Start one `redis-server` on a free loopback port in its own temp directory.
 * @param options - `args`: extra server arguments (e.g. `['--appendonly', 'yes']`);
 *   `port`, `dir`: reuse a port/directory; `readyTimeoutMs` (default 15000)
 */
export async function startRedisServer(
  options: { args?: readonly string[]; port?: number; dir?: string; readyTimeoutMs?: number } = {},
): Promise<RedisServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  const port = options.port ?? (await freePort());
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--daemonize',
        'no',
        '--logfile',
        join(dir, 'redis.log'),
        ...(options.args ?? []),
      ],
      { stdio: 'ignore' },
    );
    live.add(child);
    await waitForPing(port, readyTimeoutMs);
  };
  await launch();
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid as number;
    },
    async kill() {
      await stopChild(child, 'SIGKILL');
    },
    async restart() {
      await launch();
    },
    async stop(removeDir = true) {
      await stopChild(child, 'SIGTERM');
      if (removeDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private Redis Cluster. */
export interface RedisCluster {
  /** Ports of the masters. */
  readonly ports: readonly number[];
  /** Seed list for `createRedisStore({ url })`: `redis://127.0.0.1:p1,127.0.0.1:p2,...`. */
  readonly url: string;
  /** Startup nodes for `new Cluster(nodes)`. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  /** Stop every node by PID and remove the directory. */
  stop(): Promise<void>;
}

/**
 * Start a Redis Cluster of `masters` nodes (no replicas) on free loopback
 * ports, bounded by `timeoutMs` (default 60000), and wait until every node
 * reports `cluster_state:ok`.
 */
export async function startRedisCluster(
  options: { masters?: number; timeoutMs?: number } = {},
): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-cluster-'));
  const servers: RedisServer[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop(false)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i++) {
      const port = await freePort(taken, 10_000);
      taken.add(port);
      taken.add(port + 10_000);
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      servers.push(
        await startRedisServer({
          port,
          dir: nodeDir,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(nodeDir, 'nodes.conf'),
            '--cluster-node-timeout',
            '5000',
            '--appendonly',
            'no',
          ],
        }),
      );
    }
    const ports = servers.map((s) => s.port);
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      Math.max(1000, deadline - Date.now()),
    );
    for (const p of ports) {
      for (;;) {
        const info = await run('redis-cli', ['-p', String(p), 'cluster', 'info'], 5000);
        if (/cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info)) break;
        if (Date.now() > deadline)
          throw new Error(`cluster node ${p} did not reach cluster_state:ok`);
        await sleep(100);
      }
    }
    return {
      ports,
      url: ports.map((p, i) => (i === 0 ? `redis://127.0.0.1:${p}` : `127.0.0.1:${p}`)).join(','),
      nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
