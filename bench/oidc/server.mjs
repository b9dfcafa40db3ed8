// Reference token endpoint for bench/token.py: oidc-provider (a certified OpenID provider) issuing
// ES256-signed JWT access tokens for the client_credentials grant through resource indicators.
//   OIDC_PORT=18201 OIDC_ISSUER=http://127.0.0.1:18201 OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=... \
//   OIDC_WORKERS=2 node bench/oidc/server.mjs
import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 18201);
const issuer = process.env.OIDC_ISSUER || `http://127.0.0.1:${port}`;
const workers = Number(process.env.OIDC_WORKERS || 1);
const clientId = process.env.OIDC_CLIENT_ID;
const clientSecret = process.env.OIDC_CLIENT_SECRET;
const audience = process.env.OIDC_AUDIENCE || 'cio-platform';
if (!clientId || !clientSecret) {
  console.error('OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required');
  process.exit(2);
}

if (cluster.isPrimary && workers > 1) {
  // One signing key for every worker, like identity's key ring shared through the database.
  process.env.OIDC_SIGNING_JWK = JSON.stringify(signingJwk());
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on('exit', (worker, code) => {
    console.error(`worker ${worker.process.pid} exited with ${code}`);
    process.exit(1);
  });
  const stop = () => {
    for (const worker of Object.values(cluster.workers)) worker.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  serve(process.env.OIDC_SIGNING_JWK ? JSON.parse(process.env.OIDC_SIGNING_JWK) : signingJwk());
}

function signingJwk() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', use: 'sig', alg: 'ES256' };
}

function serve(jwk) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk] },
    scopes: ['openid', 'api'],
    ttl: { ClientCredentials: 900 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => `urn:${audience}`,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api',
          audience,
          accessTokenTTL: 900,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  provider.proxy = true;
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  provider.listen(port, '127.0.0.1', () => {
    console.error(`oidc-provider ${process.pid} listening on 127.0.0.1:${port}, issuer ${issuer}`);
  });
}
