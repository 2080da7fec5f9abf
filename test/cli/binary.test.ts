import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVE_OPTIONS } from '../../src/server/config.js';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'tessera.js');
const dirs: string[] = [];
const children: ChildProcess[] = [];

beforeAll(() => {
  // `npm test` builds first; a bare `vitest run` builds here when dist/ is missing.
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: root },
    );
  }
}, 120_000);
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  dirs.push(d);
  return d;
}

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      cwd: tmp(),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) => resolvePromise({ code, out, err }));
  });
}

/**
 * Start `tessera serve` and resolve once it prints its URL. Its standard
 * error is a pipe, so a new admin credential is in `<dataDir>/admin-credential`:
 * read it and delete the file, as the message says.
 */
function serve(dataDir: string): Promise<{
  child: ChildProcess;
  url: string;
  credential: string | null;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir], {
      env: { ...process.env, TESSERA_SECRET: '', TESSERA_ADMIN_TOKEN: '' },
    });
    children.push(child);
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}${err}`)), 20_000);
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.on('data', (d) => {
      out += d;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url && out.endsWith('\n')) {
        clearTimeout(timer);
        const file = join(dataDir, 'admin-credential');
        let credential: string | null = null;
        if (existsSync(file)) {
          expect(statSync(file).mode & 0o777).toBe(0o600);
          credential = readFileSync(file, 'utf8').trim();
          rmSync(file);
        }
        resolvePromise({ child, url, credential, out: () => out, err: () => err, exited });
      }
    });
  });
}

describe('the tessera binary', () => {
  it('prints usage with every command', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/serve\s+start the HTTP service/);
    expect(r.out).toMatch(/admin\s+rotate the admin credential/);
    for (const name of ['migrate', 'tokens', 'sessions', 'keys', 'sweep', 'export', 'import']) {
      expect(r.out).toMatch(new RegExp(`\\n  ${name}\\s+\\S`));
    }
    const none = await run([]);
    expect(none.code).toBe(2);
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command "frobnicate"/);
  });

  it('documents every serve option with its environment variable and config key', async () => {
    const r = await run(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const o of SERVE_OPTIONS) {
      expect(r.out).toContain(o.flag);
      expect(r.out).toContain(o.env);
      expect(r.out).toContain(o.key);
    }
    for (const word of ['TESSERA_SECRET', 'TESSERA_ADMIN_TOKEN', '/openapi.json', '/metrics']) {
      expect(r.out).toContain(word);
    }
  });

  it('exits non-zero with one clear line for bad configuration, without a stack trace', async () => {
    const bad = await run(['serve', '--port', 'abc', '--data-dir', tmp()]);
    expect(bad.code).toBe(2);
    expect(bad.err.trim()).toBe('tessera serve: --port must be a whole number, got "abc"');
    const unreachable = await run([
      'serve',
      '--port',
      '0',
      '--store',
      'sqlite:/nonexistent-dir/sub/x.db',
      '--data-dir',
      tmp(),
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toMatch(/^tessera serve: /);
    expect(unreachable.err).not.toMatch(/\n\s+at /);
    const scheme = await run(['serve', '--store', 'mongodb://x', '--data-dir', tmp()]);
    expect(scheme.code).toBe(2);
    expect(scheme.err).toMatch(/unknown store "mongodb:\/\/x"/);
    const down = await run([
      'serve',
      '--port',
      '0',
      '--store',
      'postgres://postgres:hunter2@127.0.0.1:1/none',
      '--data-dir',
      tmp(),
    ]);
    expect(down.code).toBe(1);
    expect(down.err.trim().split('\n')).toHaveLength(1);
    expect(down.err).toMatch(/^tessera serve: /);
    expect(down.err).not.toContain('hunter2');
  });

  it('serves on the embedded default, hands the admin credential over once (never on stdout, the log stream), and stops on SIGTERM', async () => {
    const dataDir = tmp();
    const first = await serve(dataDir);
    expect(first.credential).toMatch(/^tsa_[A-Za-z0-9_-]+$/);
    const health = await fetch(`${first.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const created = await fetch(`${first.url}/v1/action-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ owner: 'u', action: 'magic-link' }),
    });
    expect(created.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // Neither the log stream nor standard error (collected by supervisors) ever held it.
    expect(first.err()).toContain(
      `admin credential written to ${join(dataDir, 'admin-credential')}`,
    );
    expect(first.out()).not.toContain('tsa_');
    expect(first.err()).not.toContain('tsa_');

    const second = await serve(dataDir);
    expect(second.credential).toBeNull();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const rotated = await run(['admin', 'rotate', '--data-dir', dataDir]);
    expect(rotated.code).toBe(0);
    const fresh = /(tsa_[A-Za-z0-9_-]+)/.exec(rotated.out)?.[1];
    expect(fresh).toBeDefined();
    const third = await serve(dataDir);
    const post = (cred: string | null | undefined) =>
      fetch(`${third.url}/v1/action-tokens/drain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' },
        body: JSON.stringify({ owner: 'u', action: 'magic-link' }),
      });
    expect((await post(first.credential)).status).toBe(401);
    const ok = await post(fresh);
    expect(await ok.json()).toEqual({ drained: true });
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 60_000);
});
