import { ConfigurationError } from '../core/errors.js';
import type { ImageReference } from './reference.js';

// The username and password inputs every registry action takes. Apart from login.ts, which builds the registry
// client, because each action reads these inputs before any error can stop it, and the client's modules
// (HTTP, credential helpers, docker config) need not load for a step that stops at a bad input.

export interface Login {
  registry: string;
  username: string;
  password: string;
}

/** The username and password inputs, both or neither; for actions whose registries are known only later. */
export function credentialsFromInputs(
  username: string | undefined,
  password: string | undefined,
): { username: string; password: string } | undefined {
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigurationError(
      username === undefined ? 'username' : 'password',
      '',
      'username and password together',
      'only one of them was given',
    );
  }
  return username === undefined || password === undefined ? undefined : { username, password };
}

/**
 * The username and password inputs as a login for the image's registry; both or neither must be given.
 * An OCI layout needs no login, so the inputs are ignored there.
 */
export function loginFromInputs(
  username: string | undefined,
  password: string | undefined,
  image: ImageReference,
): Login | undefined {
  const credentials = credentialsFromInputs(username, password);
  if (!credentials || image.kind !== 'registry') return undefined;
  return { registry: image.registry, ...credentials };
}
