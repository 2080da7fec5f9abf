/**
 * Progress of long commands on standard error: a bar redrawn in place on a
 * terminal, plain lines (at most one every two seconds, and a final one)
 * otherwise, so logs of scripted runs stay readable.
 * @module
 */
import type { CliIo } from './context.js';

/** A progress reporter. */
export interface Progress {
  /** Report the new count (and, when known, the fraction done, 0..1). */
  update(count: number, fraction?: number): void;
  /** Print the final state. */
  done(message: string): void;
}

/**
 * Create a progress reporter.
 * @param io - where to write (standard error)
 * @param label - what is counted (`export`, `import`)
 * @param options - `tty`: draw a bar (default `io.stderrIsTty`); `now`: clock (tests)
 */
export function createProgress(
  io: CliIo,
  label: string,
  options: { tty?: boolean; now?: () => number; intervalMs?: number } = {},
): Progress {
  const tty = options.tty ?? io.stderrIsTty;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? (tty ? 100 : 2000);
  const started = now();
  let last = 0;
  let drawn = false;
  const rate = (count: number) => {
    const s = (now() - started) / 1000;
    return s > 0 ? Math.round(count / s) : 0;
  };
  return {
    update(count, fraction) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      if (tty) {
        const width = 30;
        const bar =
          fraction === undefined
            ? ''
            : `[${'#'.repeat(Math.round(Math.min(1, fraction) * width)).padEnd(width, ' ')}] ${Math.floor(Math.min(1, fraction) * 100)}% `;
        io.err(`\r${label}: ${bar}${count} records (${rate(count)}/s)\x1b[K`);
        drawn = true;
      } else {
        const pct = fraction === undefined ? '' : ` (${Math.floor(Math.min(1, fraction) * 100)}%)`;
        io.err(`${label}: ${count} records${pct}\n`);
      }
    },
    done(message) {
      io.err(`${tty && drawn ? '\r\x1b[K' : ''}${label}: ${message}\n`);
    },
  };
}
