import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveCommand } from '../../src/cli/commands/serve.js';
import { parseServeConfig, SERVE_OPTIONS } from '../../src/server/config.js';
import { createStoreFromUrl, redactUrl } from '../../src/server/open-store.js';
import { startService } from '../../src/server/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function configError(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a ConfigError');
}

describe('service configuration', () => {
  it('has defaults for every option', () => {
    const c = parseServeConfig([], {});
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      store: 'sqlite:',
      bodyLimitBytes: 65_536,
      logLevel: 'info',
      logRequests: true,
      rateLimitIp: { limit: 300, windowSeconds: 60 },
      rateLimitIdentity: { limit: 6000, windowSeconds: 60 },
      trustProxy: 0,
      metrics: 'public',
      docs: true,
      exposeReasons: false,
      shutdownGraceSeconds: 10,
      sweepIntervalSeconds: 60,
      publicUrl: undefined,
      issuer: undefined,
      jwtTtlSeconds: 600,
    });
  });

  it('takes flags over environment over the config file over defaults', () => {
    const cfg = file('layered.json', {
      port: 9003,
      host: '0.0.0.0',
      logLevel: 'warn',
      rateLimitIp: 'off',
      exposeReasons: true,
    });
    const c = parseServeConfig(['--port', '9001', '--config', cfg], {
      TESSERA_PORT: '9002',
      TESSERA_LOG_LEVEL: 'debug',
    });
    expect(c.port).toBe(9001);
    expect(c.logLevel).toBe('debug');
    expect(c.host).toBe('0.0.0.0');
    expect(c.rateLimitIp).toBeNull();
    expect(c.exposeReasons).toBe(true);
    expect(parseServeConfig([], { TESSERA_CONFIG: cfg }).port).toBe(9003);
  });

  it('rejects bad values with a ConfigError naming the flag, variable or file key', () => {
    const bad = file('bad.json', { rateLimitIdentity: '10 per minute' });
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--port', 'abc'], {}, /--port must be a whole number/],
      [['--port', '70000'], {}, /--port must be between 0 and 65535/],
      [[], { TESSERA_PORT: '-1' }, /TESSERA_PORT must be a whole number/],
      [['--frobnicate'], {}, /Unknown option '--frobnicate'/],
      [['--store', 'nope'], {}, /--store must be a store URL/],
      [['--host', 'a b'], {}, /--host is not a valid host/],
      [['--body-limit', '10'], {}, /--body-limit must be between/],
      [['--log-level', 'loud'], {}, /--log-level must be one of fatal, error/],
      [['--metrics', 'maybe'], {}, /--metrics must be one of public, protected, off/],
      [['--docs', 'perhaps'], {}, /--docs must be on or off/],
      [[], { TESSERA_RATE_LIMIT_IP: '5' }, /TESSERA_RATE_LIMIT_IP must be <requests>\/<seconds>/],
      [['--config', bad], {}, /bad\.json: rateLimitIdentity must be <requests>\/<seconds>/],
      [['--config', file('unknown.json', { prot: 1 })], {}, /unknown option "prot"/],
      [['--config', file('notjson.json', '{port: 1')], {}, /is not valid JSON/],
      [['--config', file('array.json', [1])], {}, /must hold a JSON object/],
      [['--config', join(dir, 'missing.json')], {}, /cannot read config file/],
      [['--public-url', 'auth.example.com'], {}, /--public-url must be an absolute http\(s\) URL/],
      [[], { TESSERA_PUBLIC_URL: 'ftp://x' }, /TESSERA_PUBLIC_URL must be an absolute http/],
      [['--public-url', 'https://x/?a=1'], {}, /without credentials, query or fragment/],
      [['--public-url', 'https://u:p@x'], {}, /without credentials/],
    ];
    for (const [args, env, message] of cases) {
      const err = configError(() => parseServeConfig(args, env));
      expect(err.message).toMatch(message);
      expect(err.code).toBe('ERR_TESSERA_CONFIG');
    }
  });

  it('takes the public URL from a flag, the environment or the file, without its trailing slash', () => {
    expect(parseServeConfig(['--public-url', 'https://auth.example.com/'], {}).publicUrl).toBe(
      'https://auth.example.com',
    );
    expect(
      parseServeConfig([], { TESSERA_PUBLIC_URL: 'https://x.example/tessera/' }).publicUrl,
    ).toBe('https://x.example/tessera');
    const cfg = file('public.json', { publicUrl: 'https://file.example' });
    expect(parseServeConfig(['--config', cfg], {}).publicUrl).toBe('https://file.example');
  });

  it('documents every option with a flag, a variable and a config key', () => {
    const keys = SERVE_OPTIONS.map((o) => o.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const o of SERVE_OPTIONS) {
      expect(o.flag).toMatch(/^--[a-z-]+$/);
      expect(o.env).toMatch(/^TESSERA_[A-Z_]+$/);
      expect(o.description.length).toBeGreaterThan(10);
    }
  });
});

describe('store URLs', () => {
  it('refuses an unknown scheme with a clear ConfigError', async () => {
    await expect(
      startService(
        parseServeConfig(['--port', '0', '--data-dir', dir, '--store', 'mongodb://x'], {}),
        {
          env: {},
        },
      ),
    ).rejects.toMatchObject({
      code: 'ERR_TESSERA_CONFIG',
      message: expect.stringMatching(/unknown store "mongodb:\/\/x"/),
    });
  });

  it('accepts every store URL that `tessera serve --help` shows', async () => {
    const lines = serveCommand.help.split('\n');
    const at = lines.findIndex((l) => l.trimStart().startsWith('--store <url>'));
    const examples = (lines[at + 1] ?? '')
      .trim()
      .split(' | ')
      .map((p) => p.split(' ')[0] as string);
    expect(examples.length).toBeGreaterThanOrEqual(8);
    const kinds = { sqlite: 'sqlite', memory: 'memory', redis: 'redis', rediss: 'redis' } as const;
    const cwd = process.cwd();
    process.chdir(dir); // sqlite:./app.db is relative to the working directory
    try {
      for (const url of examples) {
        const scheme = url.slice(0, url.indexOf(':'));
        const store = await createStoreFromUrl(url, dir); // no migrate: nothing needs to answer
        expect(store.kind, url).toBe(kinds[scheme as keyof typeof kinds] ?? scheme);
        await store.close();
      }
    } finally {
      process.chdir(cwd);
    }
    expect(examples.some((u) => u.includes(','))).toBe(true); // the Cluster seed list
    expect(examples.some((u) => u.startsWith('dynamodb:') && u.includes('endpoint='))).toBe(true);
  });

  it('rejects malformed URLs and parameters as ConfigErrors, without echoing a password', async () => {
    for (const [url, message] of [
      ['memory:/x', /memory: takes no path/],
      ['redis://h:6379?frob=1', /unknown redis URL parameter "frob"/],
      ['dynamodb:tbl?frob=1', /unknown dynamodb: URL parameter/],
    ] as const) {
      await expect(createStoreFromUrl(url, dir)).rejects.toMatchObject({
        code: 'ERR_TESSERA_CONFIG',
        message: expect.stringMatching(message),
      });
    }
    expect(redactUrl('postgres://user:hunter2@db:5432/x')).toBe('postgres://user:***@db:5432/x');
  });

  it('fails with a StoreUnavailableError, not a hang or a stack trace, when a networked store is unreachable', async () => {
    for (const url of ['postgres://postgres@127.0.0.1:1/none', 'redis://127.0.0.1:1']) {
      const started = Date.now();
      await expect(
        startService(parseServeConfig(['--port', '0', '--data-dir', dir, '--store', url], {}), {
          env: {},
        }),
      ).rejects.toMatchObject({ code: 'ERR_TESSERA_STORE_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(15_000);
    }
  }, 40_000);
});
