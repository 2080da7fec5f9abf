/**
 * `/openapi.json` (OpenAPI 3.1, generated from the route schemas) and the
 * interactive reference at `/docs`: Swagger UI served from the installed
 * `swagger-ui-dist` package (no CDN, works offline), with a strict
 * Content-Security-Policy.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ServiceEnv } from './route.js';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Tessera API reference</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const INIT = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    validatorUrl: null,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
};
`;

/** The directory of the installed swagger-ui-dist package. */
function swaggerUiDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}

/** The OpenAPI document's fixed parts. */
export function openApiObject(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera',
      version,
      description:
        'Credentials as a service: action tokens, challenges, access tokens (with a verify endpoint for other services), sessions, and OAuth endpoints. Authenticate with `Authorization: Bearer <admin credential | access token | JWT>`. Errors are `{"error": {"code", "message", "field"?}}` with stable `ERR_TESSERA_*` codes. Rate limits answer `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy` (IETF draft 6), and 429 with `Retry-After`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
  };
}

/**
 * Serve `/openapi.json` and `/docs` on `app`.
 * @param version - the package version, for `info.version`
 */
export function mountDocs(app: OpenAPIHono<ServiceEnv>, version: string): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'The admin credential (tsa_…), an access token with tessera:* roles, or a JWT.',
  });
  let document: string | undefined;
  app.get('/openapi.json', (c) => {
    document ??= JSON.stringify(app.getOpenAPI31Document(openApiObject(version)));
    return c.body(document, 200, { 'content-type': 'application/json; charset=utf-8' });
  });
  const cache = new Map<string, Uint8Array>();
  app.get('/docs', (c) =>
    c.body(PAGE, 200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
    }),
  );
  app.get('/docs/init.js', (c) =>
    c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/docs/:file', (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return c.notFound();
    let bytes = cache.get(file);
    if (!bytes) {
      bytes = new Uint8Array(readFileSync(join(swaggerUiDir(), file)));
      cache.set(file, bytes);
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
      'x-content-type-options': 'nosniff',
    });
  });
}
