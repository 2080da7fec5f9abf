/** Temp-file helpers for the SQLite tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the module race workers import to open a store. */
export const WORKER_MODULE = fileURLToPath(new URL('./worker-store.ts', import.meta.url));

/** A temp directory and a way to name files in it and remove it. */
export interface TempDir {
  readonly dir: string;
  file(name?: string): string;
  cleanup(): void;
}

/** Make a temp directory under `os.tmpdir()`. */
export function makeTempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
  let n = 0;
  return {
    dir,
    file: (name) => join(dir, name ?? `db-${++n}.sqlite`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
