/**
 * Figures each reliability test records for `docs/reliability.md`: one JSON
 * file per test file under `test/reliability/.figures/`, merged key by key
 * (the report script reads them after the run).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the figures go. */
export const FIGURES_DIR = join(import.meta.dirname, '..', '.figures');

/** Whether this is a soak run (`TESSERA_SOAK=1`): larger counts, longer runs. */
export const SOAK = process.env.TESSERA_SOAK === '1';

/** `ci` normally, `soak` when `TESSERA_SOAK=1`. */
export function scale(ci: number, soak: number): number {
  return SOAK ? soak : ci;
}

/** Merge `figures` into the file named `name`. */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  const file = join(FIGURES_DIR, `${name}.json`);
  let current: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      current = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      current = {};
    }
  }
  writeFileSync(
    file,
    `${JSON.stringify({ ...current, ...figures, updatedAt: new Date().toISOString() }, null, 2)}\n`,
  );
}
