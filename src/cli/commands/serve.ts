/**
 * `tessera serve`: run the service.
 * @module
 */
import { parseServeConfig, SERVE_OPTIONS } from '../../server/config.js';
import { startService } from '../../server/serve.js';
import { announceAdminCredential } from '../admin-credential.js';
import type { CliCommand } from '../context.js';

const help = [
  'Usage: tessera serve [options]',
  '',
  'Start the Tessera service. On first start it creates the data directory, a',
  'server secret (mode 0600) and an admin credential, shown once on standard',
  'error when that is a terminal, else written to <data-dir>/admin-credential',
  '(mode 0600); it never goes to standard output, where the logs are.',
  'Several instances may share one networked store (PostgreSQL, Redis, DynamoDB):',
  'they keep no state of their own, rate limits included.',
  '',
  'Options: flag, environment variable, key in the --config JSON file, default.',
  'Flags win over the environment, which wins over the file.',
  '',
  ...SERVE_OPTIONS.flatMap((o) => [
    `  ${`${o.flag} ${o.value}`.padEnd(30)} ${o.env.padEnd(28)} ${`"${o.key}"`.padEnd(20)} ${o.defaultValue === '' ? '' : `default ${o.defaultValue}`}`,
    `      ${o.description}`,
  ]),
  '',
  'Environment only:',
  '  TESSERA_SECRET       id:secret[,id:secret...]  server keys (first active); default: <data-dir>/server-secret',
  '  TESSERA_ADMIN_TOKEN  a fixed admin credential instead of the generated one',
  '',
  'Endpoints besides /v1: GET /healthz (process), GET /readyz (store reachable),',
  'GET /metrics (Prometheus), GET /openapi.json (OpenAPI 3.1), GET /docs (reference).',
  'Logs are JSON lines on stdout (pino), secrets redacted. SIGTERM or SIGINT: stop',
  'accepting, finish in-flight requests (within --shutdown-grace), close the store.',
  '',
].join('\n');

/** The `serve` command. */
export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'start the HTTP service (SQLite in ./.tessera by default)',
  help,
  async run(args, ctx) {
    const config = parseServeConfig(args);
    const svc = await startService(config);
    // Signal handlers first, so a supervisor that signals as soon as it reads the URL is honoured.
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        ctx.io.err(`tessera: ${signal}, shutting down\n`);
        svc.close().then(resolve, (err) => {
          ctx.io.err(`tessera: error while closing: ${(err as Error).message}\n`);
          resolve();
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    // The credential first, so it is in place once a supervisor reads the URL.
    if (svc.newAdminCredential) {
      announceAdminCredential(ctx.io, config.dataDir, svc.newAdminCredential);
    }
    ctx.io.out(
      `tessera: listening on ${svc.url} (store ${svc.store.kind}, data ${config.dataDir})\n`,
    );
    await stopped;
    return 0;
  },
};
