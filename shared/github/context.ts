import { InvalidValueError } from '../core/errors.js';

// Which GitHub the run belongs to: github.com, a GHE.com data-residency tenant (acme.ghe.com) or a GitHub
// Enterprise Server. Every URL Slipway builds or expects from GitHub comes from here (API calls, links, the
// signer identity a certificate names, provenance URIs, the default OIDC issuer), so that GHES and GHE.com users
// never meet a https://github.com that another module hard-coded. Read from the runner's variables once per run,
// as docker/actions-toolkit's GitHub class does; unset variables fall back to what the server URL implies.

type Env = Readonly<Record<string, string | undefined>>;

export type GitHubHostKind = 'github.com' | 'ghe.com' | 'ghes';

export interface GitHubContext {
  /** The web root, without a trailing slash: https://github.com, https://acme.ghe.com, https://ghes.example.com. */
  readonly serverUrl: string;
  /** REST API root: https://api.github.com, https://api.acme.ghe.com, https://ghes.example.com/api/v3. */
  readonly apiUrl: string;
  /** GraphQL endpoint: https://api.github.com/graphql, …, https://ghes.example.com/api/graphql. */
  readonly graphqlUrl: string;
  readonly kind: GitHubHostKind;
  /** A GitHub Enterprise Server: no public-good Sigstore, no attestations API, its own OIDC issuer. */
  readonly isGhes: boolean;
  /** A GHE.com data-residency tenant. */
  readonly isGheCom: boolean;
  /** The GHE.com subdomain (acme for https://acme.ghe.com); absent elsewhere. */
  readonly tenant?: string;
  /**
   * The issuer of this host's GitHub Actions OIDC tokens, which Fulcio writes into the certificate:
   * https://token.actions.githubusercontent.com on github.com, https://token.actions.<tenant>.ghe.com on GHE.com
   * (gh attestation verify's GitHubTenantOIDCIssuer), https://<host>/_services/token on GHES (GitHub's OIDC
   * reference for GHES). An enterprise with a custom issuer (…githubusercontent.com/<enterprise-slug>) must say so.
   */
  readonly actionsIssuer: string;
}

export const GITHUB_COM_SERVER_URL = 'https://github.com';
export const GITHUB_COM_API_URL = 'https://api.github.com';
export const GITHUB_COM_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

const GHE_COM = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.ghe\.com$/;
const GHE_COM_API = /^api\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.ghe\.com$/;

/**
 * The GitHub context of this run, from GITHUB_SERVER_URL, GITHUB_API_URL and GITHUB_GRAPHQL_URL. A variable the
 * runner did not set is derived from the others: the server from the API URL (a CLI user may set only that), the
 * API and GraphQL URLs from the server. Nothing set at all means github.com.
 */
export function githubContext(env: Env): GitHubContext {
  const givenServer = optionalUrl(env, 'GITHUB_SERVER_URL');
  const givenApi = optionalUrl(env, 'GITHUB_API_URL');
  const givenGraphql = optionalUrl(env, 'GITHUB_GRAPHQL_URL');

  const server = givenServer ?? (givenApi ? serverUrlForApi(givenApi) : new URL(GITHUB_COM_SERVER_URL));
  const serverUrl = withoutTrailingSlash(server);
  // URL lower-cases the host, so comparisons below need no case folding.
  const host = server.hostname;
  const tenant = GHE_COM.exec(host)?.[1];
  const kind: GitHubHostKind = host === 'github.com' ? 'github.com' : tenant !== undefined ? 'ghe.com' : 'ghes';

  const apiUrl = givenApi
    ? withoutTrailingSlash(givenApi)
    : kind === 'github.com'
      ? GITHUB_COM_API_URL
      : kind === 'ghe.com'
        ? `${server.protocol}//api.${server.host}`
        : `${serverUrl}/api/v3`;
  const graphqlUrl = givenGraphql
    ? withoutTrailingSlash(givenGraphql)
    : // GHES serves GraphQL beside the REST root (/api/graphql), the others below it (/graphql).
      kind === 'ghes' && apiUrl.endsWith('/api/v3')
      ? `${apiUrl.slice(0, -'/v3'.length)}/graphql`
      : `${apiUrl}/graphql`;
  const actionsIssuer =
    kind === 'github.com'
      ? GITHUB_COM_ACTIONS_ISSUER
      : kind === 'ghe.com'
        ? `https://token.actions.${tenant}.ghe.com`
        : `${serverUrl}/_services/token`;

  return {
    serverUrl,
    apiUrl,
    graphqlUrl,
    kind,
    isGhes: kind === 'ghes',
    isGheCom: kind === 'ghe.com',
    ...(tenant !== undefined ? { tenant } : {}),
    actionsIssuer,
  };
}

/**
 * The web root an API root belongs to: api.github.com → github.com, api.TENANT.ghe.com → TENANT.ghe.com,
 * HOST[/prefix]/api/v3 (GHES) → HOST[/prefix].
 */
export function serverUrlForApi(api: URL): URL {
  if (api.hostname === 'api.github.com') return new URL(`${api.protocol}//github.com`);
  const tenant = GHE_COM_API.exec(api.hostname)?.[1];
  if (tenant !== undefined) return new URL(`${api.protocol}//${api.host.slice('api.'.length)}`);
  const path = api.pathname.replace(/\/+$/, '').replace(/\/api\/v3$/, '');
  return new URL(`${api.origin}${path}`);
}

function optionalUrl(env: Env, name: string): URL | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidValueError(name, value, 'an http(s) URL such as https://github.com', 'it is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidValueError(name, value, 'an http(s) URL such as https://github.com');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    // Credentials in the URL are never shown: the message reaches the log.
    const shown = url.username || url.password ? `${url.protocol}//***@${url.host}${url.pathname}` : value;
    throw new InvalidValueError(
      name,
      shown,
      'an http(s) URL such as https://github.com',
      'it must not carry credentials, a query or a fragment',
    );
  }
  return url;
}

function withoutTrailingSlash(url: URL): string {
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
