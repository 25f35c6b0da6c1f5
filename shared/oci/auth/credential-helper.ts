import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { InvalidValueError, SlipwayError, showValue } from '../../core/errors.js';
import { DOCKER_HUB } from '../reference.js';
import { type Credentials, normaliseRegistry } from './credentials.js';

// The docker credential helper protocol: `docker-credential-<name> get` reads a server URL on stdin and
// prints {"ServerURL","Username","Secret"}; failures are printed (to stdout, by docker's own helpers) with a
// non-zero exit, and "credentials not found" means the helper simply has nothing for that server.

export const CREDENTIAL_HELPER_TIMEOUT_MS = 30_000;
const HELPER_NAME = /^[a-zA-Z0-9_.-]+$/;
const MAX_OUTPUT_BYTES = 1024 * 1024;
/** The username helpers give when the secret is an identity token rather than a password. */
const IDENTITY_TOKEN_USERNAME = '<token>';

export interface CredentialHelperOptions {
  /** Environment the helper is found with (PATH) and runs in. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** The server URL helpers store credentials under: what `docker login` used for that registry. */
export function helperServerUrl(registry: string): string {
  const host = normaliseRegistry(registry);
  return host === DOCKER_HUB ? 'https://index.docker.io/v1/' : host;
}

/** Validates a helper name from a config file; it becomes part of a program name looked up on PATH. */
export function checkHelperName(name: string, where: string): void {
  if (!HELPER_NAME.test(name)) {
    throw new InvalidValueError(
      'credential helper name',
      name,
      'letters, digits, "_", "." or "-"',
      `given by ${where}; it becomes the program name docker-credential-<name>`,
    );
  }
}

/** Asks `docker-credential-<helper>` for a registry's credentials; undefined when it has none. */
export async function runCredentialHelper(
  helper: string,
  registry: string,
  options: CredentialHelperOptions = {},
): Promise<Credentials | undefined> {
  checkHelperName(helper, 'the credential configuration');
  const program = `docker-credential-${helper}`;
  const env = options.env ?? process.env;
  const serverUrl = helperServerUrl(registry);
  const executable = await findOnPath(program, env);
  if (!executable) {
    throw new SlipwayError(
      `Credential helper ${program}, configured for ${serverUrl}, was not found on PATH; install it or remove it from the docker config.`,
    );
  }
  const result = await run(executable, program, serverUrl, env, options.timeoutMs ?? CREDENTIAL_HELPER_TIMEOUT_MS);
  if (result.code !== 0) {
    if (/credentials not found/i.test(`${result.stdout}\n${result.stderr}`)) return undefined;
    // Helpers print their error to stdout or stderr; on a failed run neither holds credentials.
    const message = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(0, 5).join(' ');
    const status = result.code === null ? `killed by ${result.signal}` : `exit code ${result.code}`;
    throw new SlipwayError(
      `Credential helper ${program} failed for ${serverUrl} (${status})${message ? `: ${showValue(message)}` : ''}.`,
    );
  }
  return parseHelperOutput(result.stdout, program, serverUrl);
}

function parseHelperOutput(stdout: string, program: string, serverUrl: string): Credentials | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    parsed = undefined;
  }
  // The output is never quoted in the message: it may hold the secret.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SlipwayError(
      `Credential helper ${program} answered for ${serverUrl} with output that is not a JSON object {"ServerURL","Username","Secret"}.`,
    );
  }
  const { Username: username, Secret: secret } = parsed as Record<string, unknown>;
  if (
    (username !== undefined && typeof username !== 'string') ||
    (secret !== undefined && typeof secret !== 'string')
  ) {
    throw new SlipwayError(
      `Credential helper ${program} answered for ${serverUrl} with a Username or Secret that is not a string.`,
    );
  }
  if (!secret) return undefined;
  if (username === IDENTITY_TOKEN_USERNAME) return { identityToken: secret };
  return { username: username ?? '', password: secret };
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(
  executable: string,
  program: string,
  input: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // An argument array and no shell: nothing from the config file is ever interpreted as shell syntax.
    const child = spawn(executable, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      child.kill('SIGKILL');
      // Grandchildren may keep the pipes open after the helper is killed, so do not wait for them to close.
      child.stdout.destroy();
      child.stderr.destroy();
      reject(
        new SlipwayError(`Credential helper ${program} did not answer for ${input} within ${timeoutMs / 1000} s.`),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new SlipwayError(`Credential helper ${program} could not be run: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout: stdout(), stderr: stderr() });
    });
    // A helper that exits without reading stdin makes this write fail with EPIPE; its exit status tells the story.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function collect(stream: NodeJS.ReadableStream): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    if (size >= MAX_OUTPUT_BYTES) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  return () => Buffer.concat(chunks).toString('utf8');
}

async function findOnPath(program: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const windows = process.platform === 'win32';
  const pathKey = windows ? (Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'PATH') : 'PATH';
  // Only .exe/.com on Windows: .cmd and .bat cannot be started without a shell.
  const extensions = windows ? ['.exe', '.com'] : [''];
  for (const dir of (env[pathKey] ?? '').split(delimiter)) {
    // Relative entries would resolve against whatever the working directory is, e.g. a checked-out repository.
    if (!dir || !isAbsolute(dir)) continue;
    for (const extension of extensions) {
      const candidate = join(dir, program + extension);
      try {
        await access(candidate, constants.X_OK);
        if ((await stat(candidate)).isFile()) return candidate;
      } catch {
        // Not here; keep looking along PATH.
      }
    }
  }
  return undefined;
}
