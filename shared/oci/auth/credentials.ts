import { InvalidValueError } from '../../core/errors.js';
import { DOCKER_HUB } from '../reference.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** docker "identitytoken": an OAuth2 refresh token */
  identityToken?: string;
  /** docker "registrytoken": a bearer token used as is */
  registryToken?: string;
}

export interface CredentialSource {
  /** registry is a host[:port] as in image references, e.g. "docker.io", "ghcr.io", "127.0.0.1:5000" */
  get(registry: string): Promise<Credentials | undefined>;
  readonly description: string;
}

// Docker Hub is known by several names; credentials stored under any of them are for the same registry.
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/**
 * The registry host a credential key or registry name refers to: `https://index.docker.io/v1/` → `docker.io`,
 * `https://ghcr.io` and `ghcr.io/v2/` → `ghcr.io`. Hosts compare case-insensitively, so they are lower-cased.
 */
export function normaliseRegistry(registry: string): string {
  const withoutScheme = registry.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const host = (slash === -1 ? withoutScheme : withoutScheme.slice(0, slash)).toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** Credentials given directly (action inputs); answers only for the registry they were given for. */
export function explicitCredentials(registry: string, username: string, password: string): CredentialSource {
  const host = normaliseRegistry(registry);
  if (host === '') throw new InvalidValueError('registry', registry, 'a host[:port] such as ghcr.io');
  return {
    description: `explicit credentials for ${host}`,
    get: async (asked) => (normaliseRegistry(asked) === host ? { username, password } : undefined),
  };
}

/** Asks each source in turn; the first that has credentials for the registry answers. */
export function chainCredentials(...sources: CredentialSource[]): CredentialSource {
  return {
    description: sources.length === 0 ? 'no credentials' : sources.map((source) => source.description).join(', then '),
    async get(registry) {
      for (const source of sources) {
        const found = await source.get(registry);
        if (found) return found;
      }
      return undefined;
    },
  };
}
