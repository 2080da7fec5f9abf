/**
 * `tessera export`: stream a store's records as NDJSON (see `ndjson.ts`), to
 * standard output or a file. Resumable with `--out` and `--resume`: after each
 * page the file is flushed and a state file records the collection, the page
 * cursor and the byte length written, so a rerun truncates any half-written
 * page and continues from there.
 * @module
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import type { StoredRecord } from '../../stores/contract.js';
import { CliUsageError, intOption, parseCommandArgs } from '../args.js';
import type { CliCommand } from '../context.js';
import {
  DEFAULT_EXPORT_COLLECTIONS,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportHeader,
} from '../ndjson.js';
import { createProgress } from '../progress.js';

interface ExportState {
  readonly collections: string[];
  readonly collectionIndex: number;
  readonly cursor: string | null;
  readonly offset: number;
  readonly records: number;
}

function recordLine(r: StoredRecord): string {
  return `${JSON.stringify({
    collection: r.collection,
    key: r.key,
    partition: r.partition,
    data: r.data,
    expiresAt: r.expiresAt,
    index: r.index,
  })}\n`;
}

/** The `export` command. */
export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'stream records to NDJSON (resumable), e.g. to move to another store',
  help: [
    'Usage: tessera export [--out <file> [--resume]] [--collections a,b] [--include-expired]',
    '                      [--page-size <n>] [--store <url>] [--data-dir <dir>]',
    '',
    'Write the records of the store as newline-delimited JSON: a header line, one',
    'line per record (hashes, never plaintext secrets), and an end line with the',
    'count. Default collections: action, pat, challenge, sessions, session_tokens,',
    'service. Expired records are left out unless --include-expired.',
    '',
    'With --out, the export can be resumed after an interruption (--resume); the',
    'state lives in <file>.state.json until the export completes.',
    '',
    'Example: move tokens from an @access-tokens DynamoDB table to PostgreSQL',
    "  tessera export --store 'dynamodb:tessera?region=eu-west-1&accessTokensTable=tokens' \\",
    '    --collections pat --out pats.ndjson',
    "  tessera import --store 'postgres://user@db/app' --in pats.ndjson",
    'Keyed hashes verify only under the same server secret: move TESSERA_SECRET too.',
    '',
  ].join('\n'),
  async run(args, ctx) {
    const { values } = parseCommandArgs(args, {
      out: { type: 'string' },
      resume: { type: 'boolean' },
      collections: { type: 'string' },
      'include-expired': { type: 'boolean' },
      'page-size': { type: 'string' },
    });
    const out = typeof values.out === 'string' ? values.out : undefined;
    if (values.resume && !out) throw new CliUsageError('--resume needs --out <file>');
    const pageSize = intOption(values['page-size'], 'page-size', 500, 1, 1000);
    const collections =
      typeof values.collections === 'string'
        ? values.collections
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [...DEFAULT_EXPORT_COLLECTIONS];
    for (const c of collections) {
      if (!/^[a-z][a-z0-9_-]{0,31}$/.test(c)) throw new CliUsageError(`bad collection "${c}"`);
    }
    const stateFile = out ? `${out}.state.json` : undefined;
    let state: ExportState = {
      collections,
      collectionIndex: 0,
      cursor: null,
      offset: 0,
      records: 0,
    };
    if (values.resume) {
      if (!existsSync(stateFile as string)) {
        throw new CliUsageError(`nothing to resume: ${stateFile} does not exist`);
      }
      state = JSON.parse(readFileSync(stateFile as string, 'utf8')) as ExportState;
    } else if (out && existsSync(out)) {
      throw new CliUsageError(`${out} exists: remove it, or continue with --resume`);
    }

    const store = await ctx.openStore();
    const fd = out ? openSync(out, values.resume ? 'r+' : 'w', 0o600) : undefined;
    const progress = createProgress(ctx.io, 'export');
    try {
      let offset = state.offset;
      const write = (text: string) => {
        if (fd === undefined) {
          ctx.io.out(text);
          return;
        }
        offset += writeSync(fd, text, offset);
      };
      if (fd !== undefined) ftruncateSync(fd, offset);
      if (offset === 0) {
        const header: ExportHeader = {
          format: EXPORT_FORMAT,
          version: EXPORT_VERSION,
          store: store.kind,
          exportedAt: ctx.clock.now(),
          collections: state.collections,
        };
        write(`${JSON.stringify(header)}\n`);
      }
      let records = state.records;
      const includeExpired = values['include-expired'] === true;
      for (let ci = state.collectionIndex; ci < state.collections.length; ci++) {
        const collection = state.collections[ci] as string;
        let cursor: string | null = ci === state.collectionIndex ? state.cursor : null;
        do {
          const page = await store.list(collection, { limit: pageSize, cursor });
          const now = ctx.clock.now();
          let chunk = '';
          for (const r of page.records) {
            if (!includeExpired && r.expiresAt !== null && r.expiresAt <= now) continue;
            chunk += recordLine(r);
            records++;
          }
          if (chunk) write(chunk);
          cursor = page.cursor;
          if (fd !== undefined && stateFile) {
            fsyncSync(fd);
            const next: ExportState = cursor
              ? { collections: state.collections, collectionIndex: ci, cursor, offset, records }
              : {
                  collections: state.collections,
                  collectionIndex: ci + 1,
                  cursor: null,
                  offset,
                  records,
                };
            writeStateAtomically(stateFile, next);
          }
          progress.update(records);
        } while (cursor !== null);
      }
      write(`${JSON.stringify({ end: true, records })}\n`);
      if (fd !== undefined) fsyncSync(fd);
      if (stateFile) rmSync(stateFile, { force: true });
      progress.done(`${records} records${out ? ` written to ${out}` : ''}`);
      return 0;
    } finally {
      if (fd !== undefined) closeSync(fd);
      await store.close();
    }
  },
};

function writeStateAtomically(path: string, state: unknown): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // rename is atomic on POSIX file systems.
  renameSync(tmp, path);
}
