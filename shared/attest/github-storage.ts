import { InvalidValueError, SlipwayError } from '../core/errors.js';
import { backoffMs, DEFAULT_RETRY, isRetryableStatus, retryAfterMs, retryLater, withRetry } from '../core/retry.js';
import { GitHubApiError, type StatusHints } from '../github/errors.js';
import { nextPageUrl, type SlipwayOctokit } from '../github/octokit.js';
import type { BundleJson, StorageLocation } from './types.js';

// Attestations stored with GitHub (the artifact attestations API), which `gh attestation verify` reads by
// default. Uploading is one POST per bundle. Listing pages through every attestation for a subject digest;
// each item carries the bundle inline, or only a bundle_url into blob storage (GitHub's newer API versions
// drop the inline copy), which is fetched without our token and may be snappy-compressed, as gh handles it.

export type GitHubStored = Extract<StorageLocation, { kind: 'github' }> & { id: number; url: string };

/** Bundles fetched from blob storage at once; enough to overlap latency without hammering storage. */
const DOWNLOAD_CONCURRENCY = 8;
/** A bundle is a few KiB to a few MiB; anything claiming more is not one (or is a decompression bomb). */
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
/** A listing longer than this is a server that never stops handing out next links. */
const MAX_PAGES = 1000;

const DIGEST = /^sha256:[a-f0-9]{64}$/;

const UPLOAD_HINTS: StatusHints = {
  403:
    'the workflow needs `permissions: attestations: write` (and `id-token: write`), or artifact attestations ' +
    "are not available for this repository's plan or visibility (private and internal repositories need " +
    'GitHub Enterprise Cloud)',
  404: 'the repository does not exist or the token cannot see it',
  422: 'GitHub refused the bundle: it is not a valid Sigstore bundle, or too many identical uploads were flagged as spam',
};

const LIST_HINTS: StatusHints = {
  403: 'the token needs `attestations: read` (or `contents: read`) on this repository',
};

/**
 * Stores one bundle with the repository; the URL is where a person can see it on GitHub, under `serverUrl`
 * (the run's web root, shared/github/context.ts).
 */
export async function uploadAttestation(
  octokit: SlipwayOctokit,
  owner: string,
  repo: string,
  bundle: BundleJson,
  serverUrl: string,
): Promise<GitHubStored> {
  const path = `${repoPath(owner, repo)}/attestations`;
  const { data } = await octokit.request('POST /repos/{owner}/{repo}/attestations', {
    owner,
    repo,
    // The description types the bundle loosely; it is sent exactly as signed.
    bundle: bundle as never,
    request: { hints: UPLOAD_HINTS },
  });
  const id = (data as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    throw new SlipwayError(`GitHub API POST ${path} stored the attestation but answered without its id.`);
  }
  return { kind: 'github', id, url: `${serverUrl.replace(/\/+$/, '')}/${owner}/${repo}/attestations/${id}` };
}

interface ListedAttestation {
  bundle?: unknown;
  bundle_url?: unknown;
}

/**
 * Every bundle stored with the repository for `digest` (sha256:<hex>), optionally only those of one
 * predicate type (a full URI, or GitHub's shorthands `provenance`, `sbom`, `release`). Signatures are not
 * checked here: callers verify every bundle before trusting it.
 */
export async function listAttestations(
  octokit: SlipwayOctokit,
  owner: string,
  repo: string,
  digest: string,
  predicateType?: string,
  options: { fetch?: typeof fetch; sleep?: (ms: number) => Promise<void> } = {},
): Promise<BundleJson[]> {
  if (!DIGEST.test(digest)) {
    throw new InvalidValueError('subject digest', digest, 'sha256:<64 lower-case hex digits>');
  }
  const path = `${repoPath(owner, repo)}/attestations/${digest}`;
  const items: ListedAttestation[] = [];
  const seen = new Set<string>();
  try {
    let response: { data: unknown; headers: { link?: string | undefined }; url: string } = await octokit.request(
      'GET /repos/{owner}/{repo}/attestations/{subject_digest}',
      {
        owner,
        repo,
        subject_digest: digest,
        per_page: 100,
        ...(predicateType ? { predicate_type: predicateType } : {}),
        request: { hints: LIST_HINTS },
      },
    );
    // Pages follow the Link header's rel="next" (GitHub's cursors); the hook in shared/github/octokit.ts keeps
    // every page on the API's origin, and the checks here stop a listing that would never end.
    for (;;) {
      const list = (response.data as { attestations?: unknown } | undefined)?.attestations;
      if (!Array.isArray(list)) {
        throw new SlipwayError(`GitHub API GET ${path} answered without an attestations list.`);
      }
      items.push(...(list as ListedAttestation[]));
      const next = nextPageUrl(response.headers.link, response.url);
      if (!next) break;
      if (seen.size >= MAX_PAGES || seen.has(next)) {
        throw new SlipwayError(`GitHub API GET ${path}: pagination did not end.`);
      }
      seen.add(next);
      response = await octokit.request({ method: 'GET', url: next, request: { hints: LIST_HINTS } });
    }
  } catch (error) {
    // GitHub answers 404 for a digest it holds no attestation of (gh attestation treats it so): none found.
    if (error instanceof GitHubApiError && error.status === 404) return [];
    throw error;
  }

  const bundles: BundleJson[] = [];
  for (let start = 0; start < items.length; start += DOWNLOAD_CONCURRENCY) {
    const batch = items.slice(start, start + DOWNLOAD_CONCURRENCY);
    bundles.push(...(await Promise.all(batch.map((item) => bundleOf(path, item, options)))));
  }
  return bundles;
}

async function bundleOf(
  path: string,
  item: ListedAttestation,
  options: { fetch?: typeof fetch; sleep?: (ms: number) => Promise<void> },
): Promise<BundleJson> {
  // The inline copy is the same bundle as the one at bundle_url; using it saves a download per item.
  if (item.bundle !== undefined && item.bundle !== null) return asBundle(item.bundle, `GitHub API GET ${path}`);
  if (typeof item.bundle_url !== 'string' || !item.bundle_url) {
    throw new SlipwayError(`GitHub API GET ${path} listed an attestation with neither a bundle nor a bundle_url.`);
  }
  let url: URL;
  try {
    url = new URL(item.bundle_url);
  } catch {
    throw new SlipwayError(
      `GitHub API GET ${path} gave a bundle_url that is not a URL: ${JSON.stringify(item.bundle_url.slice(0, 200))}.`,
    );
  }
  const bytes = await downloadBundle(url, options);
  // Only the host and path are shown: the query of a storage URL is its signature.
  const where = `the bundle at ${url.origin}${url.pathname}`;
  return asBundle(parseBundleBytes(bytes, where), where);
}

/**
 * Downloads a bundle from the storage URL GitHub handed out. The signed URL carries its own authorisation, so no
 * token is sent (storage is another host, which must never see ours). Retries like the API client does; errors
 * never show the URL's query, which is a credential.
 */
async function downloadBundle(
  url: URL,
  options: { fetch?: typeof fetch; sleep?: (ms: number) => Promise<void> },
): Promise<Uint8Array> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const shown = `GET ${url.origin}${url.pathname}`;
  const policy = { ...DEFAULT_RETRY, attempts: 4 };
  return withRetry(
    async (attempt) => {
      let response: Response;
      try {
        response = await doFetch(url, { headers: { accept: 'application/json, */*' } });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return retryLater(
          reason,
          () => {
            const failure = new GitHubApiError(`Downloading ${shown} failed: ${reason}.`, 'GET', url.pathname, 0);
            failure.cause = error;
            return failure;
          },
          { waitMs: backoffMs(attempt, policy) },
        );
      }
      if (response.ok) {
        const declared = Number(response.headers.get('content-length'));
        if (declared > MAX_BUNDLE_BYTES) {
          await response.body?.cancel();
          throw new SlipwayError(`${shown} is ${declared} bytes, more than any attestation bundle.`);
        }
        return new Uint8Array(await response.arrayBuffer());
      }
      await response.body?.cancel().catch(() => undefined);
      const failure = () =>
        new GitHubApiError(
          `Downloading ${shown} failed: HTTP ${response.status}.`,
          'GET',
          url.pathname,
          response.status,
        );
      if (!isRetryableStatus(response.status)) throw failure();
      return retryLater(`HTTP ${response.status}`, failure, {
        retryAfterMs: retryAfterMs(response.headers.get('retry-after'), Date.now()),
      });
    },
    { policy, ...(options.sleep ? { sleep: options.sleep } : {}) },
  );
}

/** Bundle bytes from storage: JSON as is, or snappy-compressed JSON (`.json.sn`, which GitHub serves). */
export function parseBundleBytes(bytes: Uint8Array, where: string): unknown {
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    // Not plain JSON: snappy's first byte is a length varint, which never starts a JSON document we accept.
  }
  let decompressed: Uint8Array;
  try {
    decompressed = snappyDecode(bytes, MAX_BUNDLE_BYTES);
  } catch (error) {
    throw new SlipwayError(`${where} is neither JSON nor snappy-compressed JSON: ${(error as Error).message}.`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(decompressed));
  } catch (error) {
    throw new SlipwayError(`${where} decompressed to something that is not JSON: ${(error as Error).message}.`);
  }
}

function asBundle(value: unknown, where: string): BundleJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SlipwayError(`${where}: an attestation bundle is not a JSON object.`);
  }
  if (typeof (value as { mediaType?: unknown }).mediaType !== 'string') {
    throw new SlipwayError(`${where}: an attestation bundle has no mediaType.`);
  }
  return value as BundleJson;
}

function repoPath(owner: string, repo: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(owner)) {
    throw new InvalidValueError('repository owner', owner, 'a GitHub user or organisation name');
  }
  if (!/^[A-Za-z0-9._-]+$/.test(repo) || repo === '.' || repo === '..') {
    throw new InvalidValueError('repository name', repo, 'a GitHub repository name (letters, digits, . _ -)');
  }
  return `/repos/${owner}/${repo}`;
}

/**
 * Decodes snappy's block format (github.com/google/snappy format_description.txt): a varint length, then
 * literals and back-references. Written here because a dependency for forty lines of decoding would cost
 * more in supply-chain review than it saves.
 */
export function snappyDecode(input: Uint8Array, maxLength: number): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw new Error('bad length preamble');
    const byte = input[pos++] as number;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (length > maxLength) throw new Error(`decompressed length ${length} exceeds ${maxLength}`);
  const out = new Uint8Array(length);
  let written = 0;
  const need = (n: number) => {
    if (pos + n > input.length) throw new Error('truncated input');
  };
  while (pos < input.length) {
    const tag = input[pos++] as number;
    const kind = tag & 3;
    if (kind === 0) {
      let literal = tag >>> 2;
      if (literal >= 60) {
        const bytes = literal - 59;
        need(bytes);
        literal = 0;
        for (let i = 0; i < bytes; i++) literal += (input[pos + i] as number) * 2 ** (8 * i);
        pos += bytes;
      }
      literal += 1;
      need(literal);
      if (written + literal > length) throw new Error('literal overruns the declared length');
      out.set(input.subarray(pos, pos + literal), written);
      pos += literal;
      written += literal;
      continue;
    }
    let copy: number;
    let offset: number;
    if (kind === 1) {
      need(1);
      copy = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | (input[pos++] as number);
    } else if (kind === 2) {
      need(2);
      copy = 1 + (tag >>> 2);
      offset = (input[pos] as number) | ((input[pos + 1] as number) << 8);
      pos += 2;
    } else {
      need(4);
      copy = 1 + (tag >>> 2);
      offset =
        ((input[pos] as number) |
          ((input[pos + 1] as number) << 8) |
          ((input[pos + 2] as number) << 16) |
          ((input[pos + 3] as number) << 24)) >>>
        0;
      pos += 4;
    }
    if (offset === 0 || offset > written) throw new Error('copy offset out of range');
    if (written + copy > length) throw new Error('copy overruns the declared length');
    // Byte by byte: a copy may overlap its own output (offset < length repeats a run).
    for (let i = 0; i < copy; i++, written++) out[written] = out[written - offset] as number;
  }
  if (written !== length) throw new Error(`decompressed ${written} bytes, expected ${length}`);
  return out;
}
