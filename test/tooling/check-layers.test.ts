import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '..', '..', 'scripts', 'check-layers.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tessera-layers-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root?: string) {
  return spawnSync(process.execPath, [script, ...(root ? [root] : [])], { encoding: 'utf8' });
}

describe('the layering check', () => {
  it('passes on the project itself', () => {
    const r = check();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('allows core and domain code to import the store contract and each other downwards', () => {
    const r = check(
      tree({
        'core/a.ts': "import type { Store } from '../stores/contract.js';\nexport const a = 1;\n",
        'action-tokens/b.ts': "import { a } from '../core/a.js';\nexport const b = a;\n",
      }),
    );
    expect(r.status).toBe(0);
  });

  it('fails when core or a domain folder imports a store, the server, the CLI, a driver or a framework', () => {
    const r = check(
      tree({
        'core/a.ts': "import { createSqliteStore } from '../stores/sqlite/index.js';\n",
        'sessions/b.ts': "export { x } from '../server/app.js';\n",
        'access-tokens/c.ts': "import Redis from 'ioredis';\n",
        'challenges/d.ts': "const m = await import('../cli/main.js');\n",
        'action-tokens/e.ts': "import { Hono } from 'hono';\n",
        'core/f.ts': "import { x } from '../sessions/x.js';\n",
      }),
    );
    expect(r.status).toBe(1);
    for (const needle of [
      'core/a.ts',
      'sessions/b.ts',
      'access-tokens/c.ts',
      'challenges/d.ts',
      'action-tokens/e.ts',
      'core/f.ts',
    ]) {
      expect(r.stderr).toContain(needle);
    }
  });
});
