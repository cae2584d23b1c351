// A real OpenID provider for Swarmdesk's tests: the certified `oidc-provider` package.
//
// Environment: PORT, ISSUER, AUDIENCE (the resource whose access tokens are JWTs),
// CLIENT_SECRET (of the confidential client `swarmdesk`), KEYS_FILE (private JWKS, kept
// across restarts), ROTATE=1 (put a new signing key first; the old ones stay published).
//
// Logging in is scripted, not typed into a form: opening the interaction URL with
// `?login=SUB&name=NAME&roles=a,b` signs SUB in (its claims are those) and grants the
// client what it asked for. Tokens carry `roles` and `realm_access.roles` (Keycloak's shape).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const { PORT, ISSUER, AUDIENCE, CLIENT_SECRET, KEYS_FILE } = process.env;

function newKey(type = 'rsa') {
  const options = type === 'rsa' ? { modulusLength: 2048 } : { namedCurve: 'P-256' };
  const { privateKey } = generateKeyPairSync(type, options);
  const alg = type === 'rsa' ? 'RS256' : 'ES256';
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig' };
}

// The first key signs; an EC key (ES256) is published too, for tokens signed with it.
let keys = existsSync(KEYS_FILE) ? JSON.parse(readFileSync(KEYS_FILE, 'utf8')).keys : [];
if (keys.length === 0) keys = [newKey(), newKey('ec')];
else if (process.env.ROTATE === '1') keys = [newKey(), ...keys];
writeFileSync(KEYS_FILE, JSON.stringify({ keys }));

const accounts = new Map();

const provider = new Provider(ISSUER, {
  jwks: { keys },
  clients: [
    {
      client_id: 'swarmdesk',
      client_secret: CLIENT_SECRET,
      application_type: 'native', // loopback redirect URIs on any port (RFC 8252)
      redirect_uris: ['http://127.0.0.1/auth/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    {
      client_id: 'tests',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/cb'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: { openid: ['sub'], profile: ['name', 'roles', 'realm_access'] },
  scopes: ['openid', 'profile', 'api'],
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: AUDIENCE,
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  pkce: { required: () => true },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, ...(accounts.get(id) ?? {}) }),
  }),
  extraTokenClaims: (_ctx, token) => (token.accountId ? accounts.get(token.accountId) : undefined),
});

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match || ctx.method !== 'GET') return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const sub = ctx.query.login;
  if (!sub && details.prompt.name === 'login') {
    ctx.status = 400;
    ctx.body = 'add ?login=SUB&name=NAME&roles=a,b';
    return undefined;
  }
  const accountId = sub || details.session.accountId;
  if (sub) {
    const roles = String(ctx.query.roles ?? '').split(',').filter(Boolean);
    const claims = { name: String(ctx.query.name ?? sub), roles, realm_access: { roles } };
    accounts.set(accountId, claims);
  }
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope('openid profile api');
  grant.addResourceScope(AUDIENCE, 'api');
  const grantId = await grant.save();
  await provider.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
  ctx.respond = false;
  return undefined;
});

provider.listen(Number(PORT), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${ISSUER} (signing key ${keys[0].kid})`);
});
