/**
 * Structured logs (pino, JSON lines). Nothing secret is logged on purpose —
 * request bodies and raw paths never are — and redaction removes, as a second
 * line of defence, any field that could hold a credential wherever it appears.
 * @module
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';

/** Field names whose values are always replaced by `[redacted]`. */
export const REDACTED_FIELDS = [
  'authorization',
  'cookie',
  'set-cookie',
  'token',
  'value',
  'secret',
  'secretPhc',
  'client_secret',
  'access_token',
  'refresh_token',
  'password',
  'credential',
  'code',
  'valueHash',
] as const;

/** Redaction paths: each field at the top level and up to two levels down. */
export const REDACT_PATHS: readonly string[] = REDACTED_FIELDS.flatMap((f) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(f) ? `.${f}` : `["${f}"]`;
  const top = key.startsWith('.') ? key.slice(1) : key;
  return [top, `*${key}`, `*.*${key}`];
});

/**
 * Create the service logger.
 * @param options - `level` (default `info`); `destination`: a stream (default: stdout, buffered)
 * @example `const log = createServiceLogger({ level: 'info' }); log.info({ port }, 'listening');`
 */
export function createServiceLogger(
  options: { level?: LogLevel; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'tessera' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      // Error codes are not secrets: keep `err.code` (the redaction above would hide it).
      serializers: {
        err: (err: unknown) => {
          const e = err as { name?: string; message?: string; code?: unknown; stack?: string };
          return {
            type: e?.name,
            message: e?.message,
            errorCode: typeof e?.code === 'string' ? e.code : undefined,
            stack: e?.stack,
          };
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
