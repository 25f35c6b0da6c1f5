import { createHash } from 'node:crypto';
import { type Logger, silentLogger } from '../core/logger.js';
import type { RetryPolicy } from '../core/retry.js';
import { Authenticator } from './auth/authenticator.js';
import type { CredentialSource } from './auth/credentials.js';
import { DigestMismatchError, digestOf, parseDigest, verifyStream } from './digest.js';
import { ConflictError, NotFoundError, StoreError, type StoreOperation } from './errors.js';
import { type RegistryRequest, RegistryTransport } from './http.js';
import { checkManifestDescriptor, checkReceivedSize, MAX_MANIFEST_BYTES, readLimited } from './limits.js';
import { parseManifest } from './manifest.js';
import { isIndexMediaType, MANIFEST_ACCEPT_HEADER, mediaTypeEssence } from './media-types.js';
import { registryApiHost } from './reference.js';
import type { BlobSource, ByteStream, ImageStore, PutManifestOptions, PutManifestResult } from './store.js';
import type { Timeouts } from './timeouts.js';
import type { Descriptor, Digest, FetchedManifest, ImageIndex } from './types.js';

// A client for the OCI distribution API (distribution-spec v1.1) on Node's fetch. One RegistryClient
// holds the transport (auth tokens, retries) for any number of registries; repository() gives the
// ImageStore for one repository.

export interface RegistryClientOptions {
  /** Where credentials come from; anonymous when absent. */
  credentials?: CredentialSource;
  fetch?: typeof fetch;
  logger?: Logger;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  /** Told every secret obtained (passwords, tokens) so it can be masked. */
  onSecret?: (value: string) => void;
  /**
   * Registries to reach over plain HTTP. Docker treats localhost and 127.0.0.0/8 as insecure by default,
   * and so does this client; anything else is HTTPS unless listed here.
   */
  plainHttp?: readonly string[];
  /** Streams larger than this are uploaded in chunks of this size (PATCH), smaller blobs in one PUT. */
  chunkSize?: number;
  userAgent?: string;
  /**
   * Connect and idle timeouts for every request (shared/oci/timeouts.ts; defaults 30 s and 60 s): a registry
   * that sends nothing for idleTimeoutMs fails the operation with a StallError naming it.
   */
  timeouts?: Partial<Timeouts>;
}

/** Paginated answers (referrers, tag lists) are followed this many pages at most. */
export const MAX_PAGES = 1000;

export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

export class RegistryClient {
  readonly transport: RegistryTransport;
  readonly logger: Logger;
  readonly chunkSize: number;
  readonly #plainHttp: Set<string>;
  /** Per registry and repository: whether the referrers API exists (undefined until asked). */
  readonly referrersSupport = new Map<string, boolean>();

  constructor(options: RegistryClientOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.#plainHttp = new Set(options.plainHttp ?? []);
    const authenticator = new Authenticator({
      credentials: options.credentials ?? { description: 'no credentials', get: async () => undefined },
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onSecret ? { onSecret: options.onSecret } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    });
    this.transport = new RegistryTransport({
      authenticator,
      logger: this.logger,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    });
  }

  /** The API base URL of a registry: `https://registry-1.docker.io`, `http://127.0.0.1:5000`. */
  baseUrl(registry: string): string {
    const host = registryApiHost(registry);
    return `${this.#isPlainHttp(registry) ? 'http' : 'https'}://${host}`;
  }

  #isPlainHttp(registry: string): boolean {
    return this.#plainHttp.has(registry) || isLoopbackRegistry(registry);
  }

  repository(registry: string, repository: string): RegistryRepository {
    return new RegistryRepository(this, registry, repository);
  }

  /** Checks that the registry speaks the distribution API and that credentials, if any, are accepted. */
  async ping(registry: string): Promise<void> {
    await this.transport.send({
      method: 'GET',
      url: `${this.baseUrl(registry)}/v2/`,
      registry,
      scopes: [],
      accept: [200],
      operation: { operation: 'ping', location: registry },
    });
  }
}

/** localhost, [::1] and 127.0.0.0/8, with or without a port: the registries docker reaches over plain HTTP by default. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.split(':')[0]!;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class RegistryRepository implements ImageStore {
  readonly location: string;
  readonly #base: string;

  constructor(
    readonly client: RegistryClient,
    readonly registry: string,
    readonly repository: string,
  ) {
    this.location = `${registry}/${repository}`;
    this.#base = `${client.baseUrl(registry)}/v2/${repository}`;
  }

  get #pull(): string[] {
    return [`repository:${this.repository}:pull`];
  }

  get #push(): string[] {
    return [`repository:${this.repository}:pull,push`];
  }

  #op(operation: string): StoreOperation {
    return { operation, location: this.location };
  }

  #send(request: Omit<RegistryRequest, 'registry'>): Promise<Response> {
    return this.client.transport.send({ ...request, registry: this.registry });
  }

  async resolve(reference: string): Promise<Descriptor | undefined> {
    const response = await this.#send({
      method: 'HEAD',
      url: `${this.#base}/manifests/${reference}`,
      scopes: this.#pull,
      headers: { accept: MANIFEST_ACCEPT_HEADER },
      accept: [200, 404],
      operation: this.#op(`resolve ${reference}`),
    });
    if (response.status === 404) return undefined;
    const header = response.headers.get('docker-content-digest');
    const mediaType = mediaTypeEssence(response.headers.get('content-type') ?? '');
    const size = Number(response.headers.get('content-length'));
    // Some registries omit the digest or size on HEAD; the manifest itself then answers, verified.
    if (!header || !mediaType || !Number.isSafeInteger(size) || size <= 0) {
      return (await this.getManifest(reference)).descriptor;
    }
    const digest = parseDigest(header);
    if (reference.includes(':') && reference !== digest) {
      throw new StoreError(this.#op(`resolve ${reference}`), `the registry answered with digest ${digest}`);
    }
    return { mediaType, digest, size };
  }

  async getManifest(reference: string, expected?: Pick<Descriptor, 'digest' | 'size'>): Promise<FetchedManifest> {
    const operation = this.#op(`read manifest ${reference}`);
    if (expected !== undefined) checkManifestDescriptor(expected, operation);
    const response = await this.#send({
      method: 'GET',
      url: `${this.#base}/manifests/${reference}`,
      scopes: this.#pull,
      headers: { accept: MANIFEST_ACCEPT_HEADER },
      accept: [200, 404],
      operation,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new NotFoundError(operation, 'manifest unknown', 404);
    }
    const bytes = await readLimited(response, MAX_MANIFEST_BYTES, operation, 'manifest');
    if (expected !== undefined) checkReceivedSize(expected, bytes.byteLength, operation);
    const contentType = response.headers.get('content-type') ?? undefined;
    const { manifest, mediaType } = parseManifest(bytes, contentType);
    // By digest, the bytes must hash to it; by tag, to what the registry says it served.
    const wanted = isDigestReference(reference) ? reference : response.headers.get('docker-content-digest');
    const algorithm = wanted?.startsWith('sha512:') ? 'sha512' : 'sha256';
    const digest = digestOf(bytes, algorithm);
    if (wanted && wanted !== digest) throw new DigestMismatchError(wanted as Digest, digest);
    const etag = response.headers.get('etag') ?? undefined;
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes, manifest, ...(etag ? { etag } : {}) };
  }

  async putManifest(
    bytes: Uint8Array,
    mediaType: string,
    options: PutManifestOptions = {},
  ): Promise<PutManifestResult> {
    const digest = digestOf(bytes);
    const reference = options.tag ?? digest;
    const operation = this.#op(`push manifest ${reference}`);
    const response = await this.#send({
      method: 'PUT',
      url: `${this.#base}/manifests/${reference}`,
      scopes: this.#push,
      headers: { 'content-type': mediaType, ...(options.ifMatch ? { 'if-match': options.ifMatch } : {}) },
      body: bytes,
      accept: [200, 201, 202, 412],
      operation,
    });
    await response.body?.cancel();
    if (response.status === 412) {
      throw new ConflictError(operation, `the tag changed since it was read (If-Match ${options.ifMatch})`, 412);
    }
    const answered = response.headers.get('docker-content-digest');
    if (answered && answered !== digest) {
      throw new StoreError(operation, `the registry stored digest ${answered}, not ${digest}`);
    }
    return {
      descriptor: { mediaType, digest, size: bytes.byteLength },
      subjectIndexed: response.headers.has('oci-subject'),
    };
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    const response = await this.#send({
      method: 'HEAD',
      url: `${this.#base}/blobs/${digest}`,
      scopes: this.#pull,
      accept: [200, 404],
      operation: this.#op(`check blob ${digest}`),
    });
    return response.status === 200;
  }

  async getBlob(descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<ByteStream> {
    const operation = this.#op(`read blob ${descriptor.digest}`);
    const response = await this.#send({
      method: 'GET',
      url: `${this.#base}/blobs/${descriptor.digest}`,
      scopes: this.#pull,
      accept: [200, 404],
      operation,
    });
    if (response.status === 404 || !response.body) {
      await response.body?.cancel();
      throw new NotFoundError(operation, 'blob unknown', 404);
    }
    return verifyStream(response.body, descriptor);
  }

  async putBlob(source: BlobSource): Promise<{ digest: Digest; size: number; uploaded: boolean }> {
    const bytes = source instanceof Uint8Array ? source : undefined;
    const digest = bytes ? digestOf(bytes) : (source as Exclude<BlobSource, Uint8Array>).digest;
    const size = bytes ? bytes.byteLength : (source as Exclude<BlobSource, Uint8Array>).size;
    if (await this.hasBlob(digest)) return { digest, size, uploaded: false };
    const operation = this.#op(`push blob ${digest}`);
    let location = await this.#startUpload(operation);
    try {
      if (bytes && bytes.byteLength <= this.client.chunkSize) {
        // Monolithic: one PUT carries the whole blob; bytes are replayable, so it is retried safely.
        await this.#finishUpload(location, digest, operation, bytes);
      } else {
        location = await this.#uploadChunks(location, bytes ? [bytes] : (source as { stream: ByteStream }).stream, {
          digest,
          size,
          operation,
        });
        await this.#finishUpload(location, digest, operation);
      }
    } catch (error) {
      await this.#cancelUpload(location);
      throw error;
    }
    return { digest, size, uploaded: true };
  }

  async #startUpload(operation: StoreOperation, query = ''): Promise<string> {
    const response = await this.#send({
      method: 'POST',
      url: `${this.#base}/blobs/uploads/${query}`,
      scopes: this.#push,
      accept: [202],
      operation,
    });
    await response.body?.cancel();
    return this.#uploadLocation(response, `${this.#base}/blobs/uploads/${query}`, operation);
  }

  #uploadLocation(response: Response, requestUrl: string, operation: StoreOperation): string {
    const location = response.headers.get('location');
    if (!location) throw new StoreError(operation, `HTTP ${response.status} without a Location header`);
    return resolveLocation(location, response.url || requestUrl);
  }

  /** Sends the stream in PATCH chunks of chunkSize, verifying digest and size before the upload is committed. */
  async #uploadChunks(
    start: string,
    stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    expected: { digest: Digest; size: number; operation: StoreOperation },
  ): Promise<string> {
    const chunkSize = this.client.chunkSize;
    const hash = createHash(expected.digest.startsWith('sha512:') ? 'sha512' : 'sha256');
    let location = start;
    let offset = 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const chunk = Buffer.concat(pending, pendingBytes);
      const response = await this.#send({
        method: 'PATCH',
        url: location,
        scopes: this.#push,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + chunk.byteLength - 1}`,
          'content-length': String(chunk.byteLength),
        },
        body: chunk,
        accept: [202],
        operation: expected.operation,
      });
      await response.body?.cancel();
      location = this.#uploadLocation(response, location, expected.operation);
      offset += chunk.byteLength;
      pending = [];
      pendingBytes = 0;
    };
    for await (const piece of stream) {
      hash.update(piece);
      let rest = piece;
      while (rest.byteLength > 0) {
        const take = Math.min(rest.byteLength, chunkSize - pendingBytes);
        pending.push(rest.subarray(0, take));
        pendingBytes += take;
        rest = rest.subarray(take);
        if (pendingBytes === chunkSize) await flush();
      }
    }
    await flush();
    const actual = `${expected.digest.split(':')[0]}:${hash.digest('hex')}` as Digest;
    if (actual !== expected.digest) throw new DigestMismatchError(expected.digest, actual);
    if (offset !== expected.size) {
      throw new StoreError(expected.operation, `the stream had ${offset} bytes, not the ${expected.size} declared`);
    }
    return location;
  }

  async #finishUpload(location: string, digest: Digest, operation: StoreOperation, body?: Uint8Array): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const response = await this.#send({
      method: 'PUT',
      url: url.toString(),
      scopes: this.#push,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(body?.byteLength ?? 0) },
      ...(body ? { body } : {}),
      accept: [201],
      operation,
    });
    await response.body?.cancel();
  }

  async #cancelUpload(location: string): Promise<void> {
    try {
      const response = await this.#send({
        method: 'DELETE',
        url: location,
        scopes: this.#push,
        accept: [202, 204, 404],
        operation: this.#op('cancel upload'),
      });
      await response.body?.cancel();
    } catch {
      // Best effort: the registry expires abandoned uploads on its own.
    }
  }

  async mountBlob(digest: Digest, from: ImageStore): Promise<boolean> {
    if (!(from instanceof RegistryRepository) || from.registry !== this.registry || from === this) return false;
    if (from.repository === this.repository) return this.hasBlob(digest);
    const operation = this.#op(`mount blob ${digest} from ${from.repository}`);
    const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from.repository)}`;
    const response = await this.#send({
      method: 'POST',
      url: `${this.#base}/blobs/uploads/${query}`,
      scopes: [...this.#push, `repository:${from.repository}:pull`],
      accept: [201, 202],
      operation,
    });
    await response.body?.cancel();
    if (response.status === 201) return true;
    // 202: the registry could not mount and opened an ordinary upload instead; close it, the caller copies.
    await this.#cancelUpload(this.#uploadLocation(response, `${this.#base}/blobs/uploads/${query}`, operation));
    return false;
  }

  async listTags(): Promise<string[]> {
    const operation = this.#op('list tags');
    const tags: string[] = [];
    await this.#paginate(`${this.#base}/tags/list?n=1000`, operation, [200, 404], async (response) => {
      if (response.status === 404) {
        // distribution answers 404 (NAME_UNKNOWN) only for a repository that does not exist; an empty one lists [].
        const body = await readLimited(response, MAX_ERROR_JSON, operation, 'error').catch(() => new Uint8Array());
        const code = registryErrorCode(body);
        throw new NotFoundError(
          operation,
          `repository ${this.repository} does not exist on ${this.registry}${code ? ` (HTTP 404 ${code})` : ' (HTTP 404)'}`,
          404,
        );
      }
      const body = parseJsonBody<{ tags?: unknown }>(
        await readLimited(response, MAX_MANIFEST_BYTES, operation, 'tag list'),
        operation,
        'tag list',
      );
      const page = body.tags ?? [];
      if (!Array.isArray(page) || page.some((tag) => typeof tag !== 'string')) {
        throw new StoreError(operation, 'the tag list has no array of tag names');
      }
      tags.push(...(page as string[]));
      return true;
    });
    return tags.sort();
  }

  async nativeReferrers(digest: Digest): Promise<Descriptor[] | undefined> {
    const key = this.location;
    if (this.client.referrersSupport.get(key) === false) return undefined;
    const operation = this.#op(`list referrers of ${digest}`);
    const referrers: Descriptor[] = [];
    let first = true;
    let supported = true;
    await this.#paginate(`${this.#base}/referrers/${digest}`, operation, [200, 404], async (response) => {
      const type = mediaTypeEssence(response.headers.get('content-type') ?? '');
      if (first) {
        first = false;
        // Only 404 means "no referrers API" (distribution-spec: a registry with the API answers 200, even
        // for an unknown digest). A 400 or 5xx is a fault to report, never a reason to stop asking.
        if (response.status === 404 || !isIndexMediaType(type)) {
          await response.body?.cancel();
          this.client.referrersSupport.set(key, false);
          supported = false;
          return false;
        }
        this.client.referrersSupport.set(key, true);
      } else if (response.status !== 200) {
        throw new StoreError(
          operation,
          `HTTP ${response.status} for a later page of the referrers list`,
          response.status,
        );
      }
      const index = parseJsonBody<ImageIndex>(
        await readLimited(response, MAX_MANIFEST_BYTES, operation, 'referrers list'),
        operation,
        'referrers list',
      );
      if (index.manifests !== undefined && !Array.isArray(index.manifests)) {
        throw new StoreError(operation, 'the referrers list has no manifests array');
      }
      referrers.push(...(index.manifests ?? []));
      return true;
    });
    return supported ? referrers : undefined;
  }

  /**
   * GETs `url` and every page its `Link: <…>; rel="next"` header leads to (RFC 8288; the distribution-spec
   * paginates tag lists and referrers so). `onPage` reads each page and returns false to stop early. Links
   * are followed only on the registry itself, so a hostile Link cannot carry credentials elsewhere.
   */
  async #paginate(
    start: string,
    operation: StoreOperation,
    accept: readonly number[],
    onPage: (response: Response) => Promise<boolean>,
  ): Promise<void> {
    const origin = new URL(start).origin;
    let url: string | undefined = start;
    for (let page = 1; url !== undefined; page++) {
      if (page > MAX_PAGES) {
        throw new StoreError(
          operation,
          `the registry sent more than ${MAX_PAGES} pages (Link: rel="next" kept coming)`,
        );
      }
      const response = await this.#send({ method: 'GET', url, scopes: this.#pull, accept, operation });
      const next = nextLink(response.headers.get('link'), url);
      if ((await onPage(response)) === false) return;
      if (next !== undefined && new URL(next).origin !== origin) {
        throw new StoreError(operation, `the registry's next-page link ${next} leads to another host`);
      }
      url = next;
    }
  }
}

/** Of an error answer, enough to read the registry's error code. */
const MAX_ERROR_JSON = 64 * 1024;

function registryErrorCode(body: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as { errors?: { code?: unknown }[] };
    const code = parsed.errors?.[0]?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function parseJsonBody<T>(bytes: Uint8Array, operation: StoreOperation, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new StoreError(operation, `the ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError(operation, `the ${what} is not a JSON object`);
  }
  return value as T;
}

/**
 * An upload Location resolved as RFC 3986 §5 says: against the URL of the request that returned it, so
 * `uploads/abc`, `/v2/…` and `https://other/…` each land where the registry meant.
 */
export function resolveLocation(location: string, requestUrl: string): string {
  return new URL(location, requestUrl).toString();
}

function isDigestReference(reference: string): reference is Digest {
  return /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(reference);
}

/** The RFC 5988 `rel="next"` link of a paginated answer, resolved against the current URL. */
export function nextLink(header: string | null, current: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (match) return new URL(match[1]!, current).toString();
  }
  return undefined;
}
