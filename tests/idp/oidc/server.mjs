// The city's OIDC provider for the SSO tests: the npm package `oidc-provider`, configured like a real
// identity provider (discovery, JWKS, PKCE S256, back-channel and RP-initiated logout), with its built-in
// development login/consent pages (driven by plain HTTP form posts) and, on the same server, the
// "education cloud" OAuth2 variant's non-standard user-info call (GET /uias/oauth/userinfo).
//
// Start:  node server.mjs [config.json]
// Config (JSON file and/or environment; the environment wins):
//   port      OIDC_PORT     (0 = any free port; the chosen one is printed)
//   issuer    OIDC_ISSUER   (default http://127.0.0.1:<port>)
//   host      OIDC_HOST     (default 127.0.0.1)
//   clients   [{client_id, client_secret, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri,
//              token_endpoint_auth_method, require_pkce, ...any oidc-provider client metadata}]
//   accounts  {sub: {name, email, phone_number, org_code, org_name, identity_type, is_principal, user_org,
//              account_status, ...}}
//   conform_id_token_claims  false (default): the scope's claims are also in the ID token, not only at userinfo
//
// Test control (for tests only; nothing else lives under /__test/):
//   PUT  /__test/accounts/<sub>      body: the account's claims (replaces them)
//   DELETE /__test/accounts/<sub>
//   PUT  /__test/clients/<client_id> body: client metadata (registers or replaces the client)
//   POST /__test/rotate-keys         body (optional): {"retire_old": true} drops the old keys from the JWKS
//
// Once listening it prints one line to stdout: {"listening": true, "port": <port>, "issuer": "<issuer>"}.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import { Provider, errors } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const CUSTOM_CLAIMS = ['org_code', 'org_name', 'parent_org_code', 'identity_type', 'is_principal', 'user_org', 'account_status'];
const PROFILE_CLAIMS = [
  'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture',
  'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
];

function loadConfig() {
  let fileConfig = {};
  const file = process.argv[2] || process.env.OIDC_CONFIG;
  if (file) {
    fileConfig = JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  const port = Number(process.env.OIDC_PORT ?? fileConfig.port ?? 0);
  return {
    host: process.env.OIDC_HOST ?? fileConfig.host ?? '127.0.0.1',
    port,
    issuer: process.env.OIDC_ISSUER ?? fileConfig.issuer,
    clients: fileConfig.clients ?? (process.env.OIDC_CLIENTS ? JSON.parse(process.env.OIDC_CLIENTS) : []),
    accounts: fileConfig.accounts ?? (process.env.OIDC_ACCOUNTS ? JSON.parse(process.env.OIDC_ACCOUNTS) : {}),
    conformIdTokenClaims: Boolean(fileConfig.conform_id_token_claims ?? process.env.OIDC_CONFORM_ID_TOKEN_CLAIMS),
  };
}

const config = loadConfig();
const accounts = new Map(Object.entries(config.accounts));

// One store for every Provider instance this process builds (a key rotation builds a new one), so sessions,
// grants, codes, tokens and clients survive a rotation. A plain Map: no LRU eviction during a long test session.
class Store {
  #map = new Map();

  get(key) {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, options) {
    const expiresAt = options?.maxAge !== undefined ? Date.now() + options.maxAge : undefined;
    this.#map.set(key, { value, expiresAt });
  }

  delete(key) {
    this.#map.delete(key);
  }
}
const store = new Store();
const adapterFor = (model) => new MemoryAdapter(model, store);

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `key-${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };
}

// Newest first: oidc-provider signs with the first key that fits the algorithm.
let signingKeys = [newSigningKey()];
const cookieKeys = [crypto.randomBytes(32).toString('hex')];

async function findAccount(ctx, sub) {
  const claims = accounts.get(sub);
  if (!claims) return undefined;
  return {
    accountId: sub,
    async claims() {
      // Read at the time of asking: a changed account is seen by the next token or userinfo call.
      return { ...(accounts.get(sub) ?? claims), sub };
    },
  };
}

function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    adapter: adapterFor,
    findAccount,
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    claims: {
      acr: null,
      sid: null,
      auth_time: null,
      iss: null,
      openid: ['sub'],
      profile: [...PROFILE_CLAIMS, ...CUSTOM_CLAIMS],
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
      address: ['address'],
      org: CUSTOM_CLAIMS,
    },
    scopes: ['openid', 'offline_access'],
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: {
      // require_pkce=false lets a client behave like the education-cloud platforms that know no PKCE.
      properties: ['require_pkce'],
      validator(ctx, key, value) {
        if (key === 'require_pkce' && value !== undefined && typeof value !== 'boolean') {
          throw new errors.InvalidClientMetadata('require_pkce must be a boolean');
        }
      },
    },
    pkce: {
      required(ctx, client) {
        return client.metadata().require_pkce !== false;
      },
    },
    conformIdTokenClaims: config.conformIdTokenClaims,
    // oidc-provider's outgoing requests (back-channel logout) refuse special-use addresses, loopback included,
    // against SSRF; every relying party of these tests listens on 127.0.0.1, so use a plain fetch.
    fetch(url, options) {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    features: {
      devInteractions: { enabled: true },
      claimsParameter: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 86400,
      Grant: 86400,
      RefreshToken: 86400,
    },
  });
  provider.on('backchannel.error', (ctx, err, client, accountId, sid) => {
    console.error(`backchannel logout to ${client.clientId} (${client.backchannelLogoutUri}) failed: ${err}`);
  });
  provider.on('backchannel.success', (ctx, client, accountId, sid) => {
    console.error(`backchannel logout sent to ${client.clientId} for ${accountId} sid=${sid}`);
  });
  provider.on('server_error', (ctx, err) => {
    console.error('server_error', err);
  });
  return provider;
}

function normaliseClient(clientId, metadata) {
  return {
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...(metadata.backchannel_logout_uri ? { backchannel_logout_session_required: true } : {}),
    ...metadata,
    client_id: clientId,
  };
}

async function putClient(metadata) {
  const clientAdapter = adapterFor('Client');
  const previous = await clientAdapter.find(metadata.client_id);
  await clientAdapter.upsert(metadata.client_id, metadata);
  try {
    // Client.find validates the metadata against this provider's configuration.
    const client = await current.provider.Client.find(metadata.client_id);
    if (!client) throw new Error('client not stored');
    return client;
  } catch (err) {
    if (previous) await clientAdapter.upsert(metadata.client_id, previous);
    else await clientAdapter.destroy(metadata.client_id);
    throw err;
  }
}

let current;
function install(provider) {
  current = { provider, handler: provider.callback() };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req) {
  const text = await readBody(req);
  return text.trim() ? JSON.parse(text) : {};
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function publicKeys() {
  return signingKeys.map(({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use }));
}

async function testControl(req, res, url) {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent); // ['__test', kind, id]
  const [, kind, id] = parts;
  if (kind === 'accounts' && id && parts.length === 3) {
    if (req.method === 'PUT') {
      const claims = await readJson(req);
      accounts.set(id, { ...claims });
      return sendJson(res, 200, { ...claims, sub: id });
    }
    if (req.method === 'DELETE') {
      accounts.delete(id);
      return sendJson(res, 200, { deleted: id });
    }
    if (req.method === 'GET') {
      return accounts.has(id) ? sendJson(res, 200, { ...accounts.get(id), sub: id }) : sendJson(res, 404, {});
    }
  }
  if (kind === 'clients' && id && parts.length === 3 && req.method === 'PUT') {
    const metadata = normaliseClient(id, await readJson(req));
    try {
      const client = await putClient(metadata);
      return sendJson(res, 200, client.metadata());
    } catch (err) {
      return sendJson(res, 400, { error: err.error ?? 'invalid_client_metadata', error_description: err.error_description ?? String(err.message ?? err) });
    }
  }
  if (kind === 'rotate-keys' && parts.length === 2 && req.method === 'POST') {
    const body = await readJson(req);
    const key = newSigningKey();
    signingKeys = body.retire_old ? [key] : [key, ...signingKeys];
    install(buildProvider(current.provider.issuer));
    return sendJson(res, 200, { active_kid: key.kid, keys: publicKeys().map((k) => k.kid) });
  }
  return sendJson(res, 404, { error: 'not_found' });
}

// The education cloud's non-standard user-info call: the token is checked in the provider's own token store,
// the answer is always HTTP 200 with a platform code, as such platforms do.
async function eduUserinfo(req, res, url) {
  let token = url.searchParams.get('access_token');
  const auth = req.headers.authorization;
  if (!token && auth && /^bearer /i.test(auth)) {
    token = auth.slice(7).trim();
  }
  const accessToken = token ? await current.provider.AccessToken.find(token) : undefined;
  if (!accessToken || accessToken.isExpired) {
    return sendJson(res, 200, { code: 40001, msg: 'invalid token' });
  }
  const claims = accounts.get(accessToken.accountId);
  if (!claims) {
    return sendJson(res, 200, { code: 40004, msg: 'user not found' });
  }
  return sendJson(res, 200, {
    code: 0,
    msg: 'success',
    data: {
      userId: accessToken.accountId,
      realName: claims.name ?? null,
      mobile: claims.phone_number ?? null,
      email: claims.email ?? null,
      identityType: claims.identity_type ?? null,
      user_org: claims.user_org ?? [],
      status: claims.account_status ?? null,
    },
  });
}

let ready = false;
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://internal');
  if (!ready) {
    return sendJson(res, 503, { error: 'starting' });
  }
  try {
    if (url.pathname.startsWith('/__test/')) {
      return await testControl(req, res, url);
    }
    if (url.pathname === '/uias/oauth/userinfo' && (req.method === 'GET' || req.method === 'POST')) {
      return await eduUserinfo(req, res, url);
    }
    return current.handler(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(err) });
    else res.end();
  }
});

server.listen(config.port, config.host, async () => {
  const { port } = server.address();
  const issuer = config.issuer ?? `http://${config.host}:${port}`;
  install(buildProvider(issuer));
  for (const client of config.clients) {
    await putClient(normaliseClient(client.client_id, client));
  }
  ready = true;
  process.stdout.write(`${JSON.stringify({ listening: true, port, issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
