import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createAccessTokens } from '../../src/access-tokens/index.js';
import { exportCommand } from '../../src/cli/commands/export.js';
import { importCommand } from '../../src/cli/commands/import.js';
import type { CliContext, CliIo } from '../../src/cli/context.js';
import { createStreamIo, main } from '../../src/cli/main.js';
import { createProgress } from '../../src/cli/progress.js';
import { createFakeClock } from '../../src/core/clock.js';
import { openStore } from '../../src/server/open-store.js';
import { loadKeyring } from '../../src/server/secrets.js';
import { createSessions } from '../../src/sessions/index.js';
import type { Store } from '../../src/stores/contract.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-cli-cmd-'));
  dirs.push(d);
  return d;
}

function io(stderrIsTty = false): CliIo & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    stderrIsTty,
    out(t: string) {
      o.stdout += t;
    },
    err(t: string) {
      o.stderr += t;
    },
  };
  return o;
}

async function run(argv: string[]) {
  const out = io();
  const code = await main(argv, out);
  return { code, out: out.stdout, err: out.stderr };
}

/** A context on a store URL, with a hook to wrap the store (fault injection). */
function context(
  url: string,
  dataDir: string,
  wrap: (s: Store) => Store = (s) => s,
): CliContext & { io: ReturnType<typeof io> } {
  return {
    io: io(),
    clock: createFakeClock(Date.now()),
    openStore: async () => wrap(await openStore(url, dataDir)),
    keyring: async () => loadKeyring(dataDir).keyring,
  };
}

async function seedRecords(url: string, dir: string, n: number): Promise<void> {
  const store = await openStore(url, dir);
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    await store.put(
      {
        collection: 'action',
        key: `k:${String(i).padStart(4, '0')}`,
        data: { i },
        expiresAt: now + 3_600_000,
        index: { lookup: `l${i}` },
      },
      { mode: 'insert', now },
    );
  }
  await store.close();
}

describe('tessera migrate and sweep', () => {
  it('migrates a store and reports it, and refuses an unknown store in one line', async () => {
    const dir = tmp();
    const r = await run(['migrate', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('tessera migrate: sqlite store is up to date\n');
    const bad = await run(['migrate', '--store', 'mongodb://x', '--data-dir', dir]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^tessera migrate: unknown store "mongodb:\/\/x"/);
    const extra = await run(['migrate', '--frob', '--data-dir', dir]);
    expect(extra.code).toBe(2);
    expect(extra.err).toMatch(/^tessera migrate: Unknown option '--frob'/);
  });

  it('sweeps expired records', async () => {
    const dir = tmp();
    const store = await openStore('sqlite:', dir);
    const now = Date.now();
    for (const [key, expiresAt] of [
      ['a', now - 5000],
      ['b', now - 1000],
      ['c', now + 60_000],
    ] as const) {
      await store.put(
        { collection: 'action', key, data: {}, expiresAt },
        { mode: 'upsert', now: now - 10_000 },
      );
    }
    await store.close();
    const r = await run(['sweep', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'tessera sweep: released 0 tokens of 0 ended sessions; removed 2 expired records\n',
    );
    expect((await run(['sweep', '--data-dir', dir])).out).toMatch(/removed 0 expired records/);
    expect((await run(['sweep', '--limit', 'x', '--data-dir', dir])).code).toBe(2);
  });

  it('releases the transferable tokens of timed-out sessions, so they are listed unassigned', async () => {
    const dir = tmp();
    const store = await openStore('sqlite:', dir);
    // A session created ten minutes ago with a one-minute idle timeout: it has timed out.
    const past = createSessions({ store, clock: createFakeClock(Date.now() - 600_000) });
    const { token } = await past.create({ owner: 'alice', idleTimeoutMs: 60_000 });
    const ticket = await past.tokens.add({
      kind: 'transferable',
      value: 'ticket-1',
      session: { token },
    });
    const bound = await past.tokens.add({ kind: 'bound', value: 'b', session: { token } });
    const sessions = createSessions({ store });
    expect((await sessions.tokens.listUnassigned()).items).toHaveLength(0);
    const r = await run(['sweep', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^tessera sweep: released 2 tokens of 1 ended session;/);
    const unassigned = (await sessions.tokens.listUnassigned()).items;
    expect(unassigned.map((t) => t.id)).toEqual([ticket.info.id]);
    expect(await sessions.tokens.get({ id: bound.info.id })).toBeNull();
    await store.close();
  });
});

describe('the server secret', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is never created by a command other than serve', async () => {
    vi.stubEnv('TESSERA_SECRET', '');
    const dir = join(tmp(), 'empty');
    for (const args of [
      ['tokens', 'issue', '--owner', 'ci'],
      ['tokens', 'list'],
      ['sessions', 'list', '--owner', 'alice'],
    ]) {
      const r = await run([...args, '--data-dir', dir]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toBe(
        `tessera ${args[0]}: no server secret in ${dir}; set TESSERA_SECRET to the service's secret or point --data-dir at the service's data directory\n`,
      );
      expect(r.out).toBe('');
      expect(existsSync(join(dir, 'server-secret')), args.join(' ')).toBe(false);
      expect(existsSync(join(dir, 'tessera.db')), args.join(' ')).toBe(false);
    }
  });

  it('is read from TESSERA_SECRET or from the file the service created', async () => {
    const dir = tmp();
    vi.stubEnv('TESSERA_SECRET', 'k1:env-secret-0123456789abcdefghijklmnopqrstu');
    expect((await run(['tokens', 'issue', '--owner', 'ci', '--data-dir', dir])).code).toBe(0);
    expect(existsSync(join(dir, 'server-secret'))).toBe(false);
    vi.stubEnv('TESSERA_SECRET', '');
    loadKeyring(dir); // as the service's first start does
    expect((await run(['tokens', 'issue', '--owner', 'ci', '--data-dir', dir])).code).toBe(0);
  });
});

describe('tessera keys generate', () => {
  it('prints a JWK set with a private and a public key, EdDSA by default', async () => {
    const r = await run(['keys', 'generate', '--kid', 'k-2026']);
    expect(r.code).toBe(0);
    const set = JSON.parse(r.out);
    expect(set.active_kid).toBe('k-2026');
    expect(set.private_keys[0]).toMatchObject({ kid: 'k-2026', alg: 'EdDSA', crv: 'Ed25519' });
    expect(set.private_keys[0].d).toEqual(expect.any(String));
    expect(set.public_keys[0].d).toBeUndefined();
    const es = JSON.parse((await run(['keys', 'generate', '--alg', 'ES256', '--public'])).out);
    expect(es.keys[0]).toMatchObject({ alg: 'ES256', kty: 'EC' });
    expect(es.keys[0].d).toBeUndefined();
    const bad = await run(['keys', 'generate', '--alg', 'none']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--alg must be one of/);
    expect((await run(['keys'])).code).toBe(2);
  });
});

describe('tessera sessions', () => {
  it('lists sessions by owner (ids, never tokens) and destroys them by id or owner', async () => {
    const dir = tmp();
    const store = await openStore('sqlite:', dir);
    const sessions = createSessions({ store, keyring: loadKeyring(dir).keyring });
    const a = await sessions.create({ owner: 'alice' });
    const b = await sessions.create({ owner: 'alice', sliding: false });
    await sessions.create({ owner: 'bob' });
    await store.close();

    const listed = await run(['sessions', 'list', '--owner', 'alice', '--data-dir', dir]);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(a.session.id);
    expect(listed.out).toContain(b.session.id);
    expect(listed.out).not.toContain(a.token);
    const lines = listed.out.trim().split('\n');
    expect(lines.find((l) => l.startsWith(a.session.id))).toMatch(/ {2}sliding$/);
    expect(lines.find((l) => l.startsWith(b.session.id))).toMatch(/ {2}fixed$/);
    const json = JSON.parse(
      (await run(['sessions', 'list', '--owner', 'alice', '--json', '--data-dir', dir])).out,
    );
    expect(json).toHaveLength(2);
    expect(
      Object.fromEntries(json.map((s: { id: string; sliding: boolean }) => [s.id, s.sliding])),
    ).toEqual({ [a.session.id]: true, [b.session.id]: false });

    const destroyed = await run(['sessions', 'destroy', '--id', a.session.id, '--data-dir', dir]);
    expect(destroyed.code).toBe(0);
    expect(destroyed.out).toBe(`destroyed session ${a.session.id}\n`);
    expect((await run(['sessions', 'destroy', '--id', a.session.id, '--data-dir', dir])).code).toBe(
      1,
    );
    const all = await run(['sessions', 'destroy', '--owner', 'alice', '--data-dir', dir]);
    expect(all.out).toBe('destroyed 1 session of alice\n');
    expect((await run(['sessions', 'list', '--owner', 'alice', '--data-dir', dir])).out).toBe(
      'no sessions\n',
    );
    expect((await run(['sessions', 'list', '--data-dir', dir])).code).toBe(2);
  });
});

describe('tessera export and import', () => {
  it('moves tokens between stores: an access token issued on one verifies on the other', async () => {
    const dir = tmp();
    const from = `sqlite:${join(dir, 'from.db')}`;
    const to = `sqlite:${join(dir, 'to.db')}`;
    const keyring = loadKeyring(dir).keyring;
    const src = await openStore(from, dir);
    const pats = createAccessTokens({ store: src, keyring });
    const { token } = await pats.issue({ owner: 'alice', roles: ['reader'] });
    await pats.close();
    await src.close();
    await seedRecords(from, dir, 3);

    const file = join(dir, 'export.ndjson');
    const exported = await run(['export', '--store', from, '--data-dir', dir, '--out', file]);
    expect(exported.code).toBe(0);
    expect(exported.err).toMatch(/export: 4 records written to/);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ format: 'tessera-export', version: 1 });
    expect(JSON.parse(lines.at(-1) as string)).toEqual({ end: true, records: 4 });
    expect(readFileSync(file, 'utf8')).not.toContain(token);

    const imported = await run(['import', '--store', to, '--data-dir', dir, '--in', file]);
    expect(imported.code).toBe(0);
    expect(imported.err).toMatch(/import: 4 imported, 0 skipped/);
    const again = await run(['import', '--store', to, '--data-dir', dir, '--in', file]);
    expect(again.err).toMatch(/import: 0 imported, 4 skipped/);

    const dst = await openStore(to, dir);
    const moved = createAccessTokens({ store: dst, keyring });
    expect(await moved.verify(token)).toMatchObject({ valid: true, record: { owner: 'alice' } });
    await moved.close();
    await dst.close();
  });

  it('resumes an interrupted export and an interrupted import without loss or duplicates', async () => {
    const dir = tmp();
    const from = `sqlite:${join(dir, 'from.db')}`;
    const to = `sqlite:${join(dir, 'to.db')}`;
    await seedRecords(from, dir, 25);
    const file = join(dir, 'out.ndjson');

    let lists = 0;
    const failing = context(from, dir, (s) => ({
      ...s,
      kind: s.kind,
      events: s.events,
      close: () => s.close(),
      list: async (...args: Parameters<Store['list']>) => {
        if (++lists === 3) throw new Error('connection lost (test)');
        return s.list(...args);
      },
      get: s.get.bind(s),
      getMany: s.getMany.bind(s),
      put: s.put.bind(s),
      update: s.update.bind(s),
      delete: s.delete.bind(s),
      transact: s.transact.bind(s),
      findByIndex: s.findByIndex.bind(s),
      sweep: s.sweep.bind(s),
      migrate: s.migrate.bind(s),
    }));
    await expect(
      exportCommand.run(['--out', file, '--page-size', '10', '--collections', 'action'], failing),
    ).rejects.toThrow('connection lost');
    expect(existsSync(`${file}.state.json`)).toBe(true);
    const resumed = context(from, dir);
    expect(await exportCommand.run(['--out', file, '--resume', '--page-size', '10'], resumed)).toBe(
      0,
    );
    expect(existsSync(`${file}.state.json`)).toBe(false);
    const keys = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(1, -1)
      .map((l) => JSON.parse(l).key);
    expect(keys).toHaveLength(25);
    expect(new Set(keys).size).toBe(25);

    let puts = 0;
    const failingImport = context(to, dir, (s) =>
      Object.assign(Object.create(Object.getPrototypeOf(s)), s, {
        put: async (...args: Parameters<Store['put']>) => {
          if (++puts === 210) throw new Error('store went away (test)');
          return s.put(...args);
        },
      }),
    );
    // 25 records fit in one batch: make the file larger so the failure lands after a commit.
    await seedRecords(from, dir, 0);
    const big = join(dir, 'big.ndjson');
    const header = readFileSync(file, 'utf8').split('\n')[0];
    const recs = Array.from({ length: 450 }, (_, i) =>
      JSON.stringify({
        collection: 'action',
        key: `big:${String(i).padStart(4, '0')}`,
        partition: 'p',
        data: { i },
        expiresAt: null,
        index: {},
      }),
    );
    writeFileSync(
      big,
      `${header}\n${recs.join('\n')}\n${JSON.stringify({ end: true, records: 450 })}\n`,
    );
    await expect(importCommand.run(['--in', big], failingImport)).rejects.toThrow('went away');
    const state = JSON.parse(readFileSync(`${big}.import-state.json`, 'utf8'));
    expect(state.imported).toBe(200);
    const resumedImport = context(to, dir);
    expect(await importCommand.run(['--in', big, '--resume'], resumedImport)).toBe(0);
    // Writes of the failed batch that landed before the failure are skipped, not duplicated.
    const m = /import: (\d+) imported, (\d+) skipped/.exec(resumedImport.io.stderr);
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(450);
    expect(Number(m?.[2])).toBeLessThan(16);
    const store = await openStore(to, dir);
    let count = 0;
    let cursor: string | null = null;
    do {
      const page = await store.list('action', { limit: 1000, cursor });
      count += page.records.length;
      cursor = page.cursor;
    } while (cursor);
    await store.close();
    expect(count).toBe(450);
  });

  it('reports a truncated or foreign input and exits non-zero', async () => {
    const dir = tmp();
    const file = join(dir, 'x.ndjson');
    writeFileSync(
      file,
      `${JSON.stringify({ format: 'tessera-export', version: 1, store: 'sqlite', exportedAt: 0, collections: ['action'] })}\n${JSON.stringify({ collection: 'action', key: 'k', data: {}, expiresAt: null })}\n`,
    );
    const truncated = await run(['import', '--in', file, '--data-dir', dir]);
    expect(truncated.code).toBe(1);
    expect(truncated.err).toMatch(/truncated/);
    writeFileSync(file, '{"hello":1}\n');
    const foreign = await run(['import', '--in', file, '--data-dir', dir]);
    expect(foreign.code).toBe(2);
    expect(foreign.err).toMatch(/not a tessera export/);
  });

  it('refuses a malformed header line or import state as a usage error, not an unexpected one', async () => {
    const dir = tmp();
    const file = join(dir, 'bad.ndjson');
    for (const header of [
      'not json',
      'null',
      '[1]',
      '"tessera-export"',
      '{"format":"tessera-export"}',
    ]) {
      writeFileSync(file, `${header}\n{"end":true,"records":0}\n`);
      const r = await run(['import', '--in', file, '--data-dir', dir]);
      expect(r.code, header).toBe(2);
      expect(r.err, header).toMatch(/^tessera import: line 1: not a tessera export header/);
      expect(r.err, header).not.toMatch(/unexpected error/);
    }
    writeFileSync(`${file}.import-state.json`, '{"offset":');
    const resumed = await run(['import', '--in', file, '--resume', '--data-dir', dir]);
    expect(resumed.code).toBe(2);
    expect(resumed.err).toMatch(/is not an import state; delete it to start over/);
  });
});

describe('progress', () => {
  it('draws a bar in place on a terminal and plain lines otherwise', () => {
    let t = 0;
    const tty = io(true);
    const bar = createProgress(tty, 'import', { now: () => t });
    t = 500;
    bar.update(50, 0.5);
    bar.done('done');
    expect(tty.stderr).toContain('\rimport: [###############               ] 50% 50 records');
    expect(tty.stderr.endsWith('\r\x1b[Kimport: done\n')).toBe(true);

    const plain = io(false);
    const lines = createProgress(plain, 'export', { now: () => t });
    t = 3000;
    lines.update(10);
    t = 3100;
    lines.update(20); // within two seconds of the last line: not printed
    t = 5100;
    lines.update(30);
    lines.done('30 records');
    expect(plain.stderr).toBe('export: 10 records\nexport: 30 records\nexport: 30 records\n');
    expect(plain.stderr).not.toContain('\r');
  });

  it('draws the bar when standard error is a terminal, whatever standard output is', () => {
    const drawn = (stdoutTty: boolean, stderrTty: boolean) => {
      let err = '';
      const streams = {
        stdout: { isTTY: stdoutTty, write: () => true },
        stderr: {
          isTTY: stderrTty,
          write: (t: string) => {
            err += t;
            return true;
          },
        },
      };
      let t = 0;
      const bar = createProgress(createStreamIo(streams), 'export', { now: () => t });
      t = 5000;
      bar.update(10, 0.5);
      return err.includes('\r');
    };
    // `tessera export > file` on a terminal: the bar goes to the terminal.
    expect(drawn(false, true)).toBe(true);
    // `tessera import 2> log` on a terminal: plain lines into the log.
    expect(drawn(true, false)).toBe(false);
  });
});
