/**
 * Helpers of the service tests: start a real service on a free port with its
 * logs captured, call it over real HTTP, clean up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createFakeClock, type FakeClock } from '../../src/core/clock.js';
import { parseServeConfig } from '../../src/server/config.js';
import { type RunningService, startService } from '../../src/server/serve.js';
import type { Store } from '../../src/stores/contract.js';

/** Captured JSON log lines. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
    done();
  }
  /** Parsed entries. */
  entries(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

/** A started service with its context. */
export interface Started {
  svc: RunningService;
  dir: string;
  clock: FakeClock;
  logs: LogCapture;
  admin: string;
}

/** Temporary directories and services to clean up. */
export function createHarness() {
  const dirs: string[] = [];
  const running: RunningService[] = [];
  const harness = {
    dataDir(): string {
      const d = mkdtempSync(join(tmpdir(), 'tessera-svc-'));
      dirs.push(d);
      return d;
    },
    async start(
      options: {
        dir?: string;
        args?: string[];
        clock?: FakeClock;
        env?: Record<string, string>;
        store?: Store;
        admin?: string;
      } = {},
    ): Promise<Started> {
      const dir = options.dir ?? harness.dataDir();
      const clock = options.clock ?? createFakeClock(Date.now());
      const logs = new LogCapture();
      const admin = options.admin ?? 'tsa_test-admin-credential-0123456789abcdefghij';
      const env = { TESSERA_ADMIN_TOKEN: admin, ...options.env };
      const svc = await startService(
        parseServeConfig(['--port', '0', '--data-dir', dir, ...(options.args ?? [])], {}),
        {
          env,
          clock,
          logDestination: logs,
          ...(options.store ? { store: options.store } : {}),
        },
      );
      running.push(svc);
      return {
        svc,
        dir,
        clock,
        logs,
        admin: env.TESSERA_ADMIN_TOKEN || (svc.newAdminCredential ?? ''),
      };
    },
    async stopAll(): Promise<void> {
      while (running.length > 0) await running.pop()?.close(1000);
    },
    forget(svc: RunningService): void {
      const i = running.indexOf(svc);
      if (i >= 0) running.splice(i, 1);
    },
    cleanup(): void {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  return harness;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
export type Json = any;

/** Call the service. */
export async function call(
  base: string | RunningService,
  method: string,
  path: string,
  options: { body?: unknown; credential?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Json; text: string }> {
  const url = typeof base === 'string' ? base : base.url;
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined && !('content-type' in headers))
    headers['content-type'] = 'application/json';
  if (options.credential) headers.authorization = `Bearer ${options.credential}`;
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await res.text();
  let body: Json;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/**
 * Whether a networked backend test may skip: never in CI; locally, with a loud warning.
 */
export function skipUnreachable(what: string, reachable: boolean): boolean {
  if (reachable) return false;
  if (process.env.CI === 'true') throw new Error(`${what} is not reachable (required in CI)`);
  console.warn(`\n!!! ${what} is not reachable: skipping its service tests (they run in CI) !!!\n`);
  return true;
}
