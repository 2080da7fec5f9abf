#!/usr/bin/env node
// Layering check: `core` and the domain folders import nothing from store
// implementations, HTTP, the server, the CLI or a framework/driver; only the
// store contract's types. Exits 1 with the offending imports listed.
// Usage: node scripts/check-layers.mjs [srcDir]   (default: ./src)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? resolve(import.meta.dirname, '..', 'src'));
const guarded = ['core', 'action-tokens', 'challenges', 'access-tokens', 'sessions', 'jwt'];
const forbiddenDirs = ['stores', 'http', 'server', 'cli', 'compat', 'cdk', 'testing'];
const allowedStoreFiles = new Set(['stores/contract.js', 'stores/contract.ts']);
const forbiddenPackages = [
  'better-sqlite3',
  'ioredis',
  'pg',
  '@aws-sdk/',
  'express',
  'fastify',
  'hono',
  '@hono/',
  'pino',
  'aws-cdk-lib',
  'constructs',
];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const problems = [];
for (const top of guarded) {
  const dir = join(root, top);
  try {
    statSync(dir);
  } catch {
    continue;
  }
  for (const file of files(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    )) {
      const spec = m[1] ?? m[2];
      const rel = relative(root, file);
      if (spec.startsWith('.')) {
        const target = relative(root, resolve(join(root, rel, '..'), spec));
        const head = target.split('/')[0];
        if (forbiddenDirs.includes(head) && !allowedStoreFiles.has(target)) {
          problems.push(`${rel}: imports ${spec} (${head}/ is off limits for ${top}/)`);
        }
        if (top === 'core' && guarded.includes(head) && head !== 'core') {
          problems.push(`${rel}: core imports the domain module ${spec}`);
        }
      } else if (
        forbiddenPackages.some((p) => spec === p || spec.startsWith(p.endsWith('/') ? p : `${p}/`))
      ) {
        problems.push(`${rel}: imports the driver or framework ${spec}`);
      }
    }
  }
}
if (problems.length > 0) {
  console.error(`Layering check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`Layering check passed (${guarded.join(', ')}).`);
