/**
 * The `tessera` command: dispatches to sub-commands, turns configuration and
 * store failures into one clear line and a non-zero exit (no stack trace
 * unless `TESSERA_DEBUG=1`).
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { systemClock } from '../core/clock.js';
import { isTesseraError } from '../core/errors.js';
import { openStore } from '../server/open-store.js';
import { loadKeyring } from '../server/secrets.js';
import { CliUsageError } from './args.js';
import { adminCommand } from './commands/admin.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { serveCommand } from './commands/serve.js';
import { sessionsCommand } from './commands/sessions.js';
import { sweepCommand } from './commands/sweep.js';
import { tokensCommand } from './commands/tokens.js';
import type { CliCommand, CliContext, CliIo } from './context.js';

/** Every sub-command, in help order. */
export const COMMANDS: readonly CliCommand[] = [
  serveCommand,
  migrateCommand,
  adminCommand,
  tokensCommand,
  sessionsCommand,
  keysCommand,
  sweepCommand,
  exportCommand,
  importCommand,
];

function version(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: tessera <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    'Common options (every command but serve, which documents its own):',
    '  --store <url>       store URL (TESSERA_STORE; default sqlite: in the data directory)',
    '  --data-dir <dir>    data directory (TESSERA_DATA_DIR; default ./.tessera)',
    '',
    "Run `tessera <command> --help` for a command's options.",
    '',
  ].join('\n');
}

/** Remove `--store`/`--data-dir` (and their `=` forms) from `args`, returning their values. */
function takeCommonOptions(args: readonly string[]): {
  rest: string[];
  store?: string;
  dataDir?: string;
} {
  const rest: string[] = [];
  const found: { store?: string; dataDir?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const m = /^--(store|data-dir)(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new Error(`${a} needs a value`);
    if (m[1] === 'store') found.store = value;
    else found.dataDir = value;
  }
  return { rest, ...found };
}

/** Build the context commands run in. */
export function createCliContext(
  io: CliIo,
  options: { store?: string; dataDir?: string } = {},
): CliContext {
  const dataDir = resolve(options.dataDir ?? process.env.TESSERA_DATA_DIR ?? './.tessera');
  const storeUrl = options.store ?? process.env.TESSERA_STORE ?? 'sqlite:';
  return {
    io,
    clock: systemClock,
    openStore: () => openStore(storeUrl, dataDir),
    // Only `serve` creates the secret: a new one here would never match the service's.
    keyring: async () => loadKeyring(dataDir, process.env, { create: false }).keyring,
  };
}

/**
 * Run the CLI with `argv` (without `node` and the script path).
 * @returns the exit code
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`tessera: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.help);
    return 0;
  }
  try {
    if (command.name === 'serve') return await command.run(args, createCliContext(io));
    let common: ReturnType<typeof takeCommonOptions>;
    try {
      common = takeCommonOptions(args);
    } catch (err) {
      io.err(`tessera ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    return await command.run(common.rest, createCliContext(io, common));
  } catch (err) {
    if (process.env.TESSERA_DEBUG === '1') io.err(`${(err as Error)?.stack ?? String(err)}\n`);
    if (err instanceof CliUsageError) {
      io.err(`tessera ${name}: ${err.message}\n`);
      return 2;
    }
    if (
      isTesseraError(err, 'ERR_TESSERA_CONFIG') ||
      isTesseraError(err, 'ERR_TESSERA_INVALID_INPUT')
    ) {
      io.err(`tessera ${name}: ${err.message}\n`);
      return 2;
    }
    if (isTesseraError(err)) {
      const cause = (err as Error).cause;
      const detail = cause instanceof Error ? `: ${cause.message}` : '';
      io.err(`tessera ${name}: ${err.message}${detail}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') {
      io.err(`tessera ${name}: cannot listen: ${e.message}\n`);
      return 1;
    }
    io.err(
      `tessera ${name}: unexpected error: ${e?.message ?? String(err)} (set TESSERA_DEBUG=1 for details)\n`,
    );
    return 1;
  }
}

/** The two output streams a {@link CliIo} writes to. */
export interface OutputStreams {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

/**
 * A `CliIo` over two streams; what is drawn on standard error is chosen by
 * whether standard error (not standard output) is a terminal.
 * @example `const io = createStreamIo(process);`
 */
export function createStreamIo(streams: OutputStreams): CliIo {
  return {
    out: (t) => streams.stdout.write(t),
    err: (t) => streams.stderr.write(t),
    stderrIsTty: streams.stderr.isTTY === true,
  };
}

/** The process's standard streams as a `CliIo`. */
export const processIo: CliIo = createStreamIo(process);
