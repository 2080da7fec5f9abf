/**
 * The README's "Run it as a service" examples, run as written (curl and jq)
 * against a real service.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAdminCredentialFile } from '../../src/cli/admin-credential.js';
import { createHarness } from './helpers.js';

const h = createHarness();
const bin = mkdtempSync(join(tmpdir(), 'tessera-readme-bin-'));
afterAll(async () => {
  await h.stopAll();
  h.cleanup();
  rmSync(bin, { recursive: true, force: true });
});

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** The tested block of the README section. */
function readmeScript(): string {
  const readme = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const m = /<!-- readme-test:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- readme-test:end -->/.exec(
    readme,
  );
  if (!m) throw new Error('README: no readme-test block');
  return m[1] as string;
}

describe('README: run it as a service', () => {
  it('runs the curl examples as written', async (ctx) => {
    if (!has('curl')) {
      if (process.env.CI === 'true') throw new Error('curl is required');
      console.warn('\n!!! curl is not installed: skipping the README examples !!!\n');
      ctx.skip();
    }
    // jq when installed; otherwise a stand-in for `jq -r .field` (all the examples use).
    const path = has('jq') ? process.env.PATH : `${bin}:${process.env.PATH}`;
    if (!has('jq')) {
      writeFileSync(
        join(bin, 'jq'),
        `#!/usr/bin/env node\nconst f = process.argv[3].slice(1);\nlet s = '';\nprocess.stdin.on('data', (d) => (s += d)).on('end', () => console.log(JSON.parse(s)[f]));\n`,
      );
      chmodSync(join(bin, 'jq'), 0o755);
    }
    // One answer per line (curl prints none after a body): a .curlrc that adds it.
    writeFileSync(join(bin, '.curlrc'), 'write-out = "\\n"\n');
    const { svc, admin } = await h.start();
    const host = svc.url.replace(/^http:\/\//, '');
    const script = readmeScript().replaceAll('localhost:8080', host);
    // The script runs where `tessera serve` ran without a terminal: the credential is in the
    // default data directory, written as the CLI writes it.
    const cwd = h.dataDir();
    writeAdminCredentialFile(join(cwd, '.tessera'), admin);
    // Asynchronously: the service answers from this very process.
    const { stdout: out } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env: { ...process.env, PATH: path, ADMIN: '', CURL_HOME: bin },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const lines = out.trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      valid: true,
      token: { owner: 'u1', action: 'verify-email', remainingUses: 0 },
    });
    expect(JSON.parse(lines[1] as string)).toMatchObject({
      valid: true,
      record: { owner: 'alice', roles: ['reader'] },
    });
    expect(JSON.parse(lines[2] as string)).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
    expect(JSON.parse(lines[3] as string).keys[0]).toMatchObject({ alg: 'EdDSA', use: 'sig' });
    expect(JSON.parse(lines[4] as string)).toEqual({ status: 'ready', store: 'sqlite' });
    expect(out).toMatch(
      /^tessera_verify_total\{family="access_token",outcome="valid",reason="valid"\} 1$/m,
    );
  });
});
