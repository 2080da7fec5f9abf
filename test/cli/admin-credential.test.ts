import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { announceAdminCredential } from '../../src/cli/admin-credential.js';
import type { CliIo } from '../../src/cli/context.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-admin-cred-'));
  dirs.push(d);
  return d;
}

function io(stderrIsTty: boolean): CliIo & { stdout: string; stderr: string } {
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

const CREDENTIAL = 'tsa_first-start-credential-0123456789abcdef';

describe('the admin credential at first start', () => {
  it('is shown on standard error when that is a terminal, never on standard output', () => {
    const dir = tmp();
    const terminal = io(true);
    announceAdminCredential(terminal, dir, CREDENTIAL);
    expect(terminal.stderr).toContain(CREDENTIAL);
    expect(terminal.stdout).toBe('');
    expect(existsSync(join(dir, 'admin-credential'))).toBe(false);
  });

  it('otherwise goes to an owner-only file in the data directory, and only its path is printed', () => {
    const dir = join(tmp(), 'data'); // created when missing (a networked store needs no data dir)
    const piped = io(false);
    announceAdminCredential(piped, dir, CREDENTIAL);
    const file = join(dir, 'admin-credential');
    expect(readFileSync(file, 'utf8')).toBe(`${CREDENTIAL}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(piped.stderr).toContain(file);
    expect(piped.stderr).not.toContain(CREDENTIAL);
    expect(piped.stdout).toBe('');

    // A later first start (a wiped store) replaces an older file, keeping it owner-only.
    writeFileSync(file, 'old\n', { mode: 0o644 });
    announceAdminCredential(io(false), dir, `${CREDENTIAL}-2`);
    expect(readFileSync(file, 'utf8')).toBe(`${CREDENTIAL}-2\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('is never printed when its file cannot be written', () => {
    const dir = tmp();
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const piped = io(false);
    announceAdminCredential(piped, blocker, CREDENTIAL);
    expect(piped.stderr).toMatch(/cannot write the admin credential .*tessera admin rotate/);
    expect(piped.stderr + piped.stdout).not.toContain(CREDENTIAL);
  });
});
