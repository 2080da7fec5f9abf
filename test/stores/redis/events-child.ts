/**
 * A separate OS process for the cross-process events test. Usage:
 * `node --import tsx events-child.ts <url> <prefix> <channel> receive|send <message>`
 * - receive: subscribe, print `subscribed`, then print `got <message>` for the
 *   first message and exit;
 * - send: print `ready`, wait for a line on stdin, publish, print `sent`, exit.
 */
import { createRedisStore } from '../../../src/stores/redis/index.js';

const [url, prefix, channel, mode, message] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string | undefined,
];
const store = createRedisStore({ url, prefix });
await store.migrate();
const deadline = setTimeout(() => {
  process.stderr.write('events-child timed out\n');
  process.exit(2);
}, 20_000);
if (mode === 'receive') {
  await new Promise<void>((resolve) => {
    void store.events
      .subscribe(channel, (m) => {
        process.stdout.write(`got ${m}\n`);
        resolve();
      })
      .then(() => process.stdout.write('subscribed\n'));
  });
} else {
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdin.destroy();
  await store.events.publish(channel, message ?? 'hello');
  process.stdout.write('sent\n');
}
clearTimeout(deadline);
await store.close();
