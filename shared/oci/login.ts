import type { Logger } from '../core/logger.js';
import type { SecretRegistry } from '../core/secrets.js';
import { chainCredentials, explicitCredentials } from './auth/credentials.js';
import { dockerConfigCredentials } from './auth/docker-config.js';
import type { Login } from './login-inputs.js';
import { RegistryClient } from './registry.js';
import type { Timeouts } from './timeouts.js';

export { type Login, loginFromInputs } from './login-inputs.js';

// How every entry point reaches registries: credentials given as inputs for the image's registry first, then
// whatever docker login, its credential helpers and the containers auth file hold. Every secret obtained on
// the way is registered, so it is masked wherever it might appear.

export function createRegistryClient(options: {
  login?: Login | undefined;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  secrets: SecretRegistry;
  userAgent: string;
  /** Connect and idle timeouts for every registry request; defaults 30 s and 60 s (shared/oci/timeouts.ts). */
  timeouts?: Partial<Timeouts> | undefined;
}): RegistryClient {
  const { login } = options;
  return new RegistryClient({
    credentials: chainCredentials(
      ...(login ? [explicitCredentials(login.registry, login.username, login.password)] : []),
      dockerConfigCredentials({ env: options.env }),
    ),
    logger: options.logger,
    onSecret: (value) => options.secrets.add(value),
    userAgent: options.userAgent,
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
  });
}
