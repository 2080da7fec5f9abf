/**
 * `tessera keys generate`: a new JWK set for signing JWTs (EdDSA by default,
 * RS256 or ES256), printed as JSON: `{ active_kid, private_keys, public_keys }`.
 * @module
 */
import { generateKeySet, JWT_ALGORITHMS, type JwtAlgorithm } from '../../jwt/index.js';
import { CliUsageError, parseCommandArgs } from '../args.js';
import type { CliCommand } from '../context.js';

/** The `keys` command. */
export const keysCommand: CliCommand = {
  name: 'keys',
  summary: 'generate a JWK set for signing JWTs',
  help: [
    'Usage: tessera keys generate [--alg EdDSA|RS256|ES256] [--kid <id>] [--public]',
    '',
    'Print a new key set as JSON: { "active_kid", "private_keys", "public_keys" }.',
    'It holds a private key: write it to a file only you can read, e.g.',
    '  (umask 077; tessera keys generate > jwks.private.json)',
    'With --public, print only the public JWKS ({ "keys": [...] }) of a new set',
    '(for testing verifiers).',
    '',
    'Options:',
    '  --alg <alg>   EdDSA (Ed25519, default), RS256 (2048-bit RSA) or ES256 (P-256)',
    '  --kid <id>    key id (default: the current date and time, e.g. 2026-01-31T10-00-00Z)',
    '',
  ].join('\n'),
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(
      args,
      { alg: { type: 'string' }, kid: { type: 'string' }, public: { type: 'boolean' } },
      1,
    );
    if (positionals[0] !== 'generate') {
      throw new CliUsageError('expected `tessera keys generate`');
    }
    const alg = (values.alg ?? 'EdDSA') as string;
    if (!(JWT_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new CliUsageError(`--alg must be one of ${JWT_ALGORITHMS.join(', ')}`);
    }
    const kid =
      typeof values.kid === 'string'
        ? values.kid
        : new Date(ctx.clock.now())
            .toISOString()
            .replace(/\.\d+Z$/, 'Z')
            .replaceAll(':', '-');
    const set = await generateKeySet(kid, alg as JwtAlgorithm);
    ctx.io.out(`${JSON.stringify(values.public ? { keys: set.public_keys } : set, null, 2)}\n`);
    return 0;
  },
};
