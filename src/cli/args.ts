/**
 * Argument parsing for sub-commands: `node:util` parseArgs with errors turned
 * into one clear line (`CliUsageError`, exit code 2).
 * @module
 */
import { parseArgs } from 'node:util';

/** A mistake in a command's arguments: printed as one line, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** Option spec of {@link parseCommandArgs}. */
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/**
 * Parse arguments strictly.
 * @throws CliUsageError for an unknown option, a missing value or an unexpected positional
 */
export function parseCommandArgs(
  args: readonly string[],
  options: OptionSpec,
  positionals = 0,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
    if (r.positionals.length > positionals) {
      throw new CliUsageError(`unexpected argument "${r.positionals[positionals]}"`);
    }
    return {
      values: r.values as Record<string, string | boolean | undefined>,
      positionals: r.positionals,
    };
  } catch (err) {
    if (err instanceof CliUsageError) throw err;
    throw new CliUsageError((err as Error).message);
  }
}

/** A whole number option within a range. */
export function intOption(
  value: string | boolean | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) {
    throw new CliUsageError(`--${name} must be a whole number`);
  }
  const n = Number(value);
  if (n < min || n > max) throw new CliUsageError(`--${name} must be between ${min} and ${max}`);
  return n;
}
