import { TrustedRoot } from '@sigstore/protobuf-specs';
import { SlipwayError } from '../core/errors.js';
import { fileError, readUserJson, readUserText, type UserFile } from '../core/files.js';
import { TRUSTED_ROOT_INVALID, trustedRootProblems } from './trusted-root-check.js';

// Where verification's trust anchors come from: a trusted root file the user gives, the public-good root
// through TUF, or (key-based verification without either) none at all.

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

/** Where the public-good Sigstore instance publishes its trusted root (@sigstore/tuf's default mirror). */
export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/**
 * A trusted root that trusts nothing: no CA, no log, no TSA. Key-only verification needs no more, the given
 * public key being the only anchor, so verify with `key` and no `trusted-root` fetches nothing (air-gapped
 * runners).
 */
export const EMPTY_TRUSTED_ROOT: object = Object.freeze({
  mediaType: TRUSTED_ROOT_MEDIA_TYPE,
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
});

const EXPECTED = 'a Sigstore trusted root JSON file (mediaType application/vnd.dev.sigstore.trustedroot+json)';

/**
 * Reads the file given as the `trusted-root` input. What is not a trusted root is described, never quoted
 * (shared/core/files.ts): a wrong path can point at a private key as easily as at a certificate.
 */
export function readTrustedRoot(file: UserFile): object {
  const text = readUserText(file, EXPECTED);
  const documents = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (documents.length > 1 && documents.every(isJsonObject)) {
    throw fileError(
      file,
      EXPECTED,
      `${file.path} holds ${documents.length} JSON documents, one per line (as \`gh attestation trusted-root\` prints one per Sigstore instance): keep the one line for the instance that signed`,
    );
  }
  const json = readUserJson(file, EXPECTED);
  const problem = trustedRootProblem(json);
  if (problem !== undefined) throw fileError(file, EXPECTED, `${file.path} ${problem}`);
  return json as object;
}

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** What parsed JSON is instead of a trusted root ("is a Sigstore bundle, …"), or undefined when it is one. */
export function trustedRootProblem(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return `is JSON but not an object (${Array.isArray(json) ? 'an array' : json === null ? 'null' : `a ${typeof json}`})`;
  }
  const record = json as Record<string, unknown>;
  if (typeof record.signed === 'object' && Array.isArray(record.signatures)) {
    return "is TUF metadata (a root.json), not the trusted root it distributes (the target 'trusted_root.json')";
  }
  const mediaType = typeof record.mediaType === 'string' ? record.mediaType : undefined;
  if (mediaType?.startsWith('application/vnd.dev.sigstore.bundle')) return 'is a Sigstore bundle, not a trusted root';
  if (!mediaType?.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    const shown = mediaType === undefined ? 'no mediaType' : `mediaType ${JSON.stringify(mediaType)}`;
    return `is JSON with ${shown}, not a Sigstore trusted root`;
  }
  try {
    TrustedRoot.fromJSON(record);
  } catch (error) {
    return `is not a valid trusted root: ${(error as Error).message}`;
  }
  // H3 (trusted-root-check.ts): entries @sigstore/verify would trust on looser terms than they state.
  const problems = trustedRootProblems(record);
  if (problems.length > 0) return `cannot be used (${TRUSTED_ROOT_INVALID}): ${problems.join('; ')}`;
  return undefined;
}

export interface PublicGoodOptions {
  /** Where TUF caches metadata between runs: the runner's temp directory. */
  cachePath: string;
  /** Bounds the whole TUF update, however many requests it takes and however the mirror stalls. */
  timeoutMs?: number;
  /** For tests: a local TUF repository and the root.json that bootstraps trust in it. */
  mirrorURL?: string;
  rootPath?: string;
}

const DEFAULT_TUF_TIMEOUT_MS = 60_000;
/** Per request; a TUF update is a handful of small requests. */
const TUF_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The public-good Sigstore trusted root, fetched and checked through TUF. Returned as protobuf-specs JSON, the
 * same form as a `trusted-root` file. Any failure, including a mirror that never answers, is a SlipwayError that
 * names the mirror and says how to verify without it.
 */
export async function fetchPublicGoodTrustedRoot(options: PublicGoodOptions): Promise<object> {
  const mirror = options.mirrorURL ?? PUBLIC_GOOD_TUF_MIRROR;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TUF_TIMEOUT_MS;
  const explain = (what: string, cause?: unknown): SlipwayError => {
    const error = new SlipwayError(
      `Could not fetch the public-good Sigstore trusted root through TUF from ${mirror}: ${what}. ` +
        "Verifying keyless attestations needs it; without network access to the TUF mirror, give the input 'trusted-root' " +
        "(a trusted root JSON file: the mirror's targets/trusted_root.json, or one line of `gh attestation trusted-root`) for offline use, " +
        "or 'key' for attestations signed with a key.",
    );
    if (cause !== undefined) error.cause = cause;
    return error;
  };
  const { getTrustedRoot } = await loadTuf();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(explain(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const root = await Promise.race([
      getTrustedRoot({
        cachePath: options.cachePath,
        mirrorURL: mirror,
        ...(options.rootPath ? { rootPath: options.rootPath } : {}),
        timeout: Math.min(TUF_REQUEST_TIMEOUT_MS, timeoutMs),
        retry: { retries: 2, minTimeout: 500, maxTimeout: 2_000 },
      }),
      deadline,
    ]);
    return TrustedRoot.toJSON(root) as object;
  } catch (error) {
    if (error instanceof SlipwayError) throw error;
    throw explain(causeChain(error), error);
  } finally {
    clearTimeout(timer);
  }
}

type TufModule = typeof import('@sigstore/tuf');

/**
 * @sigstore/tuf is CommonJS. Node's import() finds its named exports, but in the ESM bundle (scripts/build.mjs)
 * esbuild turns a dynamic import of CommonJS into a chunk whose only export is `default` (the module.exports
 * object), so a destructured `getTrustedRoot` is undefined there while it works from source. Both shapes are
 * accepted here; anything else is a build fault, reported as such.
 */
async function loadTuf(): Promise<TufModule> {
  const loaded = (await import('@sigstore/tuf')) as TufModule & { default?: Partial<TufModule> };
  if (typeof loaded.getTrustedRoot === 'function') return loaded;
  if (typeof loaded.default?.getTrustedRoot === 'function') return loaded.default as TufModule;
  throw new Error('@sigstore/tuf loaded without getTrustedRoot: the bundle is broken');
}

/** "error refreshing TUF metadata: getaddrinfo ENOTFOUND …": each cause's message once, outermost first. */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current !== undefined && parts.length < 5; ) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && !parts.some((part) => part.includes(message))) parts.push(message);
    current = current instanceof Error ? (current as { cause?: unknown }).cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}
