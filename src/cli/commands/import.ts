/**
 * `tessera import`: read an NDJSON export (see `ndjson.ts`) from standard
 * input or a file into the configured store. Streaming (one page of lines in
 * memory at a time, 16 writes in flight), idempotent (by default a record
 * that is already live in the target is skipped), and resumable with `--in`
 * and `--resume` from the last byte offset it committed.
 * @module
 */
import {
  createReadStream,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { RecordInput, Store } from '../../stores/contract.js';
import { CliUsageError, parseCommandArgs } from '../args.js';
import type { CliCommand } from '../context.js';
import { EXPORT_FORMAT, parseRecordLine } from '../ndjson.js';
import { createProgress } from '../progress.js';

interface ImportState {
  readonly offset: number;
  readonly line: number;
  readonly imported: number;
  readonly skipped: number;
}

const BATCH = 200;
const IN_FLIGHT = 16;

async function putAll(
  store: Store,
  records: readonly RecordInput[],
  overwrite: boolean,
  now: number,
): Promise<{ imported: number; skipped: number }> {
  let imported = 0;
  let skipped = 0;
  for (let i = 0; i < records.length; i += IN_FLIGHT) {
    const results = await Promise.all(
      records
        .slice(i, i + IN_FLIGHT)
        .map((r) => store.put(r, { mode: overwrite ? 'upsert' : 'insert', now })),
    );
    for (const r of results) {
      if (r.ok) imported++;
      else skipped++;
    }
  }
  return { imported, skipped };
}

/**
 * Check the header line of an export.
 * @throws CliUsageError for anything but a tessera export version 1 header
 */
function checkHeader(text: string, lineNo: number): void {
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    header = undefined;
  }
  const h = header as { format?: unknown; version?: unknown } | null | undefined;
  if (typeof h !== 'object' || h === null || h.format !== EXPORT_FORMAT || h.version !== 1) {
    throw new CliUsageError(
      `line ${lineNo}: not a tessera export header (expected {"format":"${EXPORT_FORMAT}","version":1,…})`,
    );
  }
}

/**
 * Read the state of an interrupted import.
 * @throws CliUsageError when the file is not such a state
 */
function readState(file: string): ImportState {
  let state: unknown;
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    state = undefined;
  }
  const s = state as Partial<Record<keyof ImportState, unknown>> | null | undefined;
  const counts = ['offset', 'line', 'imported', 'skipped'] as const;
  if (
    typeof s !== 'object' ||
    s === null ||
    counts.some(
      (k) => typeof s[k] !== 'number' || !Number.isSafeInteger(s[k]) || (s[k] as number) < 0,
    )
  ) {
    throw new CliUsageError(`${file} is not an import state; delete it to start over`);
  }
  return s as ImportState;
}

/** The `import` command; `stdin` is replaceable for tests. */
export function createImportCommand(stdin: () => Readable = () => process.stdin): CliCommand {
  return {
    name: 'import',
    summary: 'read an NDJSON export into the store (streaming, resumable)',
    help: [
      'Usage: tessera import [--in <file> [--resume]] [--overwrite] [--store <url>] [--data-dir <dir>]',
      '',
      'Read records written by `tessera export` from standard input or --in. A record',
      'that is already live in the target is skipped (counted), unless --overwrite.',
      'A truncated input (no end line) is reported and exits 1.',
      '',
      'With --in, an interrupted import continues with --resume from the last',
      'committed line; the state lives in <file>.import-state.json until it completes.',
      '',
      'Example: tessera export --store sqlite: | tessera import --store postgres://db/app',
      '',
    ].join('\n'),
    async run(args, ctx) {
      const { values } = parseCommandArgs(args, {
        in: { type: 'string' },
        resume: { type: 'boolean' },
        overwrite: { type: 'boolean' },
      });
      const input = typeof values.in === 'string' ? values.in : undefined;
      if (values.resume && !input) throw new CliUsageError('--resume needs --in <file>');
      if (input && !existsSync(input)) throw new CliUsageError(`${input} does not exist`);
      const stateFile = input ? `${input}.import-state.json` : undefined;
      let state: ImportState = { offset: 0, line: 0, imported: 0, skipped: 0 };
      if (values.resume) {
        if (!existsSync(stateFile as string)) {
          throw new CliUsageError(`nothing to resume: ${stateFile} does not exist`);
        }
        state = readState(stateFile as string);
      }
      const total = input ? statSync(input).size : undefined;
      const overwrite = values.overwrite === true;

      const store = await ctx.openStore();
      const progress = createProgress(ctx.io, 'import');
      try {
        const source = input ? createReadStream(input, { start: state.offset }) : stdin();
        const lines = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
        let { offset, line: lineNo, imported, skipped } = state;
        let batch: RecordInput[] = [];
        let ended: number | undefined;
        let headerSeen = state.line > 0;
        const commit = async () => {
          const r = await putAll(store, batch, overwrite, ctx.clock.now());
          imported += r.imported;
          skipped += r.skipped;
          batch = [];
          if (stateFile) {
            writeFileSync(
              `${stateFile}.tmp`,
              JSON.stringify({ offset, line: lineNo, imported, skipped }),
              {
                mode: 0o600,
              },
            );
            renameSync(`${stateFile}.tmp`, stateFile);
          }
          progress.update(imported + skipped, total ? offset / total : undefined);
        };
        for await (const text of lines) {
          lineNo++;
          offset += Buffer.byteLength(text, 'utf8') + 1;
          if (text.trim() === '') continue;
          if (!headerSeen) {
            checkHeader(text, lineNo);
            headerSeen = true;
            continue;
          }
          if (ended !== undefined)
            throw new CliUsageError(`line ${lineNo}: data after the end line`);
          let parsed: ReturnType<typeof parseRecordLine>;
          try {
            parsed = parseRecordLine(text, lineNo);
          } catch (err) {
            throw new CliUsageError((err as Error).message);
          }
          if ('end' in parsed) {
            ended = parsed.end;
            continue;
          }
          batch.push(parsed);
          if (batch.length >= BATCH) await commit();
        }
        await commit();
        if (!headerSeen) throw new CliUsageError('empty input: no tessera export header');
        if (ended === undefined) {
          progress.done(
            `input ended without its end line (truncated?): ${imported} imported, ${skipped} skipped so far`,
          );
          return 1;
        }
        if (ended !== imported + skipped) {
          progress.done(
            `the end line counts ${ended} records, but ${imported + skipped} were read`,
          );
          return 1;
        }
        if (stateFile) rmSync(stateFile, { force: true });
        progress.done(`${imported} imported, ${skipped} skipped (already present)`);
        return 0;
      } finally {
        await store.close();
      }
    },
  };
}

/** The `import` command. */
export const importCommand: CliCommand = createImportCommand();
