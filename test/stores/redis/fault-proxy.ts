/**
 * A TCP proxy between a Redis client and a Redis server that loses replies on
 * demand: it forwards a command that matches, waits until the server answers,
 * and then cuts the client's connection instead of passing the answer on. The
 * command has run on the server, the client never learns it, and a client that
 * resends unanswered commands after reconnecting (ioredis by default) sends it
 * a second time. New connections can also be held back until released.
 */
import { createServer, type Server, Socket } from 'node:net';

/** A RESP command as the proxy sees it (the raw text of one client chunk). */
export type ChunkMatcher = (chunk: string) => boolean;

/** A proxy in front of one Redis server. */
export interface FaultProxy {
  /** The port the proxy listens on (loopback). */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Replies the proxy has swallowed (one per cut connection). */
  readonly cuts: number;
  /** Client chunks that matched the last cut's matcher after the cut: the resends. */
  readonly resent: number;
  /**
   * Arm a cut: the next client chunk matching `match` is forwarded, and the
   * connection it came on is closed as soon as the server answers it (an
   * error answer such as NOSCRIPT or MOVED is passed on and the cut waits for
   * the next match: the command did not run). The promise resolves once the
   * reply has been swallowed.
   */
  cutAfter(match: ChunkMatcher): Promise<void>;
  /** Drop an armed cut that has not happened. */
  disarm(): void;
  /** Accept new connections but forward nothing until {@link release}. */
  hold(): void;
  /** Start forwarding the held connections. */
  release(): void;
  /** Close the proxy and every connection through it. */
  close(): Promise<void>;
}

/** Whether a chunk holds a script call (`EVALSHA` or `EVAL`). */
export const isScript: ChunkMatcher = (chunk) => /\r\n(evalsha|eval)\r\n/i.test(chunk);

/**
 * Start a proxy to `target` on a free loopback port.
 * @example `const proxy = await startFaultProxy({ host: '127.0.0.1', port: 6379 });`
 */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const held: Array<() => void> = [];
  let holding = false;
  let armed: { match: ChunkMatcher; done: () => void } | null = null;
  let after: ChunkMatcher | null = null;
  let cuts = 0;
  let resent = 0;

  const pipe = (client: Socket) => {
    const upstream = new Socket();
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    let cutting: { match: ChunkMatcher; done: () => void } | null = null;
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (after?.(text)) resent++;
      if (armed !== null && cutting === null && armed.match(text)) {
        cutting = armed;
        armed = null;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutting !== null) {
        const cut = cutting;
        cutting = null;
        if (chunk[0] === 0x2d /* - */) {
          // An error (NOSCRIPT, MOVED, TRYAGAIN...): the command did not run.
          // Pass it on and wait for the delivery that runs it.
          armed = cut;
        } else {
          cuts++;
          after = cut.match;
          resent = 0;
          drop();
          cut.done();
          return;
        }
      }
      client.write(chunk);
    });
    upstream.connect(target.port, target.host);
  };

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const start = () => {
      if (client.destroyed) return;
      pipe(client);
      client.resume();
    };
    if (holding) held.push(start);
    else start();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get cuts() {
      return cuts;
    },
    get resent() {
      return resent;
    },
    cutAfter(match) {
      return new Promise<void>((resolve) => {
        armed = { match, done: resolve };
      });
    },
    disarm() {
      armed = null;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const start of held.splice(0)) start();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
