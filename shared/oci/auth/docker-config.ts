import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidValueError, SlipwayError } from '../../core/errors.js';
import { checkHelperName, runCredentialHelper } from './credential-helper.js';
import { type CredentialSource, type Credentials, normaliseRegistry } from './credentials.js';

// Credentials where `docker login` and `podman login` (or docker/login-action) leave them. Within a file,
// credHelpers[registry] is asked first, then credsStore, then the inline `auths` entry; a helper with
// nothing for the registry lets the next one answer, so an inline entry still works beside a store.

type FileKind = 'docker config file' | 'containers auth file';

interface AuthFile {
  path: string;
  kind: FileKind;
  auths: Map<string, Credentials>;
  credHelpers: Map<string, string>;
  credsStore?: string;
}

export interface DockerConfigOptions {
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
}

export function dockerConfigCredentials(options: DockerConfigOptions = {}): CredentialSource {
  const env = options.env ?? process.env;
  const home = options.homeDir ?? (env.HOME || homedir());
  const dockerPath = env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, 'config.json') : join(home, '.docker', 'config.json');
  const containersPath =
    env.REGISTRY_AUTH_FILE || (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json') : undefined);

  let loading: Promise<AuthFile[]> | undefined;
  const load = (): Promise<AuthFile[]> => {
    loading ??= Promise.all([
      readAuthFile(dockerPath, 'docker config file'),
      containersPath ? readAuthFile(containersPath, 'containers auth file') : undefined,
    ]).then(
      (files) => files.filter((file) => file !== undefined),
      (error: unknown) => {
        // A file fixed while we run should be picked up by the next attempt.
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };

  return {
    description: containersPath ? `docker config ${dockerPath} and ${containersPath}` : `docker config ${dockerPath}`,
    async get(registry) {
      const host = normaliseRegistry(registry);
      // Docker's file is asked first so a registry known to both gets what `docker login` stored.
      for (const file of await load()) {
        const found = await lookUp(file, host, env);
        if (found) return found;
      }
      return undefined;
    },
  };
}

async function lookUp(file: AuthFile, host: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const helper = file.credHelpers.get(host);
  if (helper) {
    const found = await runCredentialHelper(helper, host, { env });
    if (found) return found;
  }
  if (file.credsStore) {
    const found = await runCredentialHelper(file.credsStore, host, { env });
    if (found) return found;
  }
  const inline = file.auths.get(host);
  return inline ? { ...inline } : undefined;
}

const EXPECTED = 'a JSON object with "auths", "credHelpers" or "credsStore"';

async function readAuthFile(path: string, kind: FileKind): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new SlipwayError(`Could not read ${kind} ${path}: ${(error as Error).message}`, { cause: error });
  }
  // docker treats an empty config file as no configuration, and so does `docker login` before writing one.
  if (text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the error, which may be a credential: report only where it is.
    throw new InvalidValueError(kind, path, EXPECTED, `not valid JSON${jsonErrorPosition(text, error)}`);
  }
  if (!isObject(json)) throw new InvalidValueError(kind, path, EXPECTED, 'the top level is not an object');
  const invalid = (detail: string) => new InvalidValueError(kind, path, EXPECTED, detail);

  const file: AuthFile = { path, kind, auths: new Map(), credHelpers: new Map() };
  if (json.credsStore !== undefined && typeof json.credsStore !== 'string')
    throw invalid('"credsStore" is not a string');
  if (json.credsStore) {
    checkHelperName(json.credsStore, `"credsStore" in ${path}`);
    file.credsStore = json.credsStore;
  }
  if (json.credHelpers !== undefined) {
    if (!isObject(json.credHelpers)) throw invalid('"credHelpers" is not an object');
    for (const [key, helper] of Object.entries(json.credHelpers)) {
      if (typeof helper !== 'string') throw invalid(`credHelpers[${JSON.stringify(key)}] is not a string`);
      if (helper === '') continue;
      checkHelperName(helper, `credHelpers[${JSON.stringify(key)}] in ${path}`);
      const host = normaliseKey(key, kind);
      if (host && !file.credHelpers.has(host)) file.credHelpers.set(host, helper);
    }
  }
  if (json.auths !== undefined) {
    if (!isObject(json.auths)) throw invalid('"auths" is not an object');
    for (const [key, entry] of Object.entries(json.auths)) {
      const credentials = parseEntry(entry, (detail) => invalid(`auths[${JSON.stringify(key)}] ${detail}`));
      const host = normaliseKey(key, kind);
      if (!host || !credentials) continue;
      // Several keys may name one registry ("docker.io" and "https://index.docker.io/v1/"): the plain host wins.
      if (!file.auths.has(host) || key.toLowerCase() === host) file.auths.set(host, credentials);
    }
  }
  return file;
}

function parseEntry(entry: unknown, invalid: (detail: string) => InvalidValueError): Credentials | undefined {
  if (entry === null) return undefined;
  if (!isObject(entry)) throw invalid('is not an object');
  const field = (name: string): string | undefined => {
    const value = entry[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalid(`has a "${name}" that is not a string`);
    return value;
  };
  const credentials: Credentials = {};
  const auth = field('auth');
  if (auth) {
    const decoded = /^[A-Za-z0-9+/_-]+={0,2}$/.test(auth) ? Buffer.from(auth, 'base64').toString('utf8') : '';
    // Only the first ':' separates: passwords and tokens may contain colons.
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw invalid('has an "auth" that is not base64 of "username:password"');
    credentials.username = decoded.slice(0, colon);
    credentials.password = decoded.slice(colon + 1);
  } else {
    const username = field('username');
    const password = field('password');
    if (username) credentials.username = username;
    if (username && password !== undefined) credentials.password = password;
  }
  const identityToken = field('identitytoken');
  const registryToken = field('registrytoken');
  if (identityToken) credentials.identityToken = identityToken;
  if (registryToken) credentials.registryToken = registryToken;
  return Object.keys(credentials).length > 0 ? credentials : undefined;
}

/**
 * Docker reduces every key to its host. containers-auth.json(5) also allows keys scoped to a namespace
 * (`quay.io/acme`); those cannot be matched by registry alone, and applying them to the whole registry would
 * send one namespace's credentials to all, so they are left out. Keys with a scheme are docker-style there too.
 */
function normaliseKey(key: string, kind: FileKind): string | undefined {
  if (kind === 'containers auth file' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(key)) {
    const path = key.includes('/') ? key.slice(key.indexOf('/') + 1).replace(/\/+$/, '') : '';
    if (path !== '' && path !== 'v1' && path !== 'v2') return undefined;
  }
  const host = normaliseRegistry(key);
  return host === '' ? undefined : host;
}

function jsonErrorPosition(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineColumn) return ` at line ${lineColumn[1]}, column ${lineColumn[2]}`;
  const position = /at position (\d+)/.exec(message);
  if (!position) return '';
  const before = text.slice(0, Number(position[1])).split('\n');
  return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
