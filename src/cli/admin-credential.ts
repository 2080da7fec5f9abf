/**
 * Handing over the admin credential created at first start, once, and never
 * into the log stream: standard output carries the service's JSON logs, and
 * under systemd or docker standard error is collected too. So the credential
 * is shown on standard error only when that is a terminal (a person is
 * watching); otherwise it goes to `<data-dir>/admin-credential` (mode 0600)
 * and standard error names only that file.
 * @module
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIo } from './context.js';

/** Name of the credential file in the data directory. */
export const ADMIN_CREDENTIAL_FILE = 'admin-credential';

/**
 * Write `credential` to `<dataDir>/admin-credential`, owner-only (replacing
 * an older file atomically).
 * @returns the file's path
 * @example `const path = writeAdminCredentialFile('./.tessera', credential);`
 */
export function writeAdminCredentialFile(dataDir: string, credential: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, ADMIN_CREDENTIAL_FILE);
  const temp = join(dataDir, `.${ADMIN_CREDENTIAL_FILE}.${randomBytes(6).toString('hex')}`);
  try {
    writeFileSync(temp, `${credential}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  return file;
}

/**
 * Hand the new admin credential over (see the module notes). A file that
 * cannot be written is reported (the credential is then lost: `tessera admin
 * rotate` makes a new one), never answered by printing the credential.
 *
 * @param io - the command's output (its `stderrIsTty` decides)
 * @param dataDir - the service's data directory
 * @param credential - the credential, shown or written once
 * @example `announceAdminCredential(ctx.io, config.dataDir, svc.newAdminCredential);`
 */
export function announceAdminCredential(io: CliIo, dataDir: string, credential: string): void {
  if (io.stderrIsTty) {
    io.err(
      `tessera: admin credential (shown once, store it now; rotate with \`tessera admin rotate\`):\n  ${credential}\n`,
    );
    return;
  }
  try {
    const file = writeAdminCredentialFile(dataDir, credential);
    io.err(
      `tessera: admin credential written to ${file} (mode 0600): store it, then delete the file\n`,
    );
  } catch (err) {
    io.err(
      `tessera: cannot write the admin credential to ${dataDir}: ${(err as Error).message}; create a new one with \`tessera admin rotate\`\n`,
    );
  }
}
