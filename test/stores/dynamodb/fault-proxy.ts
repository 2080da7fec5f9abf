/**
 * A fault-injecting HTTP proxy in front of a DynamoDB endpoint (node:http).
 * It forwards every request unchanged; for a request of an operation the test
 * armed it for, it forwards it, waits for the upstream answer (so the write
 * has been applied), and answers 500 InternalServerError instead: the lost
 * answer after which an AWS SDK client re-sends the request.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running proxy. */
export interface FaultProxy {
  /** The proxy's endpoint, for an SDK client. */
  readonly endpoint: string;
  /** Requests forwarded so far, per operation (`UpdateItem`, `TransactWriteItems`...). */
  readonly seen: Record<string, number>;
  /**
   * Lose the answer of the next request of `operation`, after letting `skip`
   * of them through (default 0). `meanwhile` runs after the upstream answered
   * and before the 500 goes out (other writes landing between the first
   * application and the re-send).
   */
  loseAnswer(operation: string, options?: LoseOptions): void;
  /** Answers lost so far. */
  readonly lost: () => number;
  close(): Promise<void>;
}

/** Options of {@link FaultProxy.loseAnswer}. */
export interface LoseOptions {
  readonly skip?: number;
  readonly meanwhile?: () => Promise<void>;
}

const LOST = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
  message: 'Internal server error (injected after the request was applied)',
});

/** Start a proxy on a free loopback port in front of `upstream` (an http URL). */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const seen: Record<string, number> = {};
  const armed: Array<{ operation: string; skip: number; meanwhile?: () => Promise<void> }> = [];
  let lost = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      seen[operation] = (seen[operation] ?? 0) + 1;
      const up = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (upRes) => {
          const answer: Buffer[] = [];
          upRes.on('data', (c: Buffer) => answer.push(c));
          upRes.on('end', () => {
            const i = armed.findIndex((a) => a.operation === operation && a.skip-- <= 0);
            if (i < 0) {
              res.writeHead(upRes.statusCode ?? 500, upRes.headers);
              res.end(Buffer.concat(answer));
              return;
            }
            const [arm] = armed.splice(i, 1);
            lost++;
            void (arm?.meanwhile?.() ?? Promise.resolve()).then(
              () => {
                res.writeHead(500, {
                  'content-type': 'application/x-amz-json-1.0',
                  'content-length': Buffer.byteLength(LOST),
                });
                res.end(LOST);
              },
              (err: unknown) => {
                res.destroy(err as Error);
              },
            );
          });
        },
      );
      up.on('error', (err) => res.destroy(err));
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    loseAnswer(operation, options = {}) {
      armed.push({ operation, skip: options.skip ?? 0, meanwhile: options.meanwhile });
    },
    lost: () => lost,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
