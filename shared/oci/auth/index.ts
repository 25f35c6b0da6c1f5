// Registry authentication: credential sources (explicit, docker/podman config files, credential helpers)
// and the Authenticator the registry client consults on a 401.

export { AuthenticationError, Authenticator, type AuthenticatorOptions, mergeScopes } from './authenticator.js';
export { type Challenge, parseWwwAuthenticate } from './challenge.js';
export { type CredentialHelperOptions, helperServerUrl, runCredentialHelper } from './credential-helper.js';
export {
  type CredentialSource,
  type Credentials,
  chainCredentials,
  explicitCredentials,
  normaliseRegistry,
} from './credentials.js';
export { type DockerConfigOptions, dockerConfigCredentials } from './docker-config.js';
