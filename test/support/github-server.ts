import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import { type CreateRepositoryOptions, GitHost, type HostedRepository } from './github-git.js';
import { GIT_OPERATIONS, handleGitRest } from './github-git-rest.js';
import { executeGraphQL } from './github-graphql.js';
import { ISSUE_OPERATIONS, IssueStore, type IssuesOptions } from './github-issues.js';
import { REVIEW_OPERATIONS, ReviewStore } from './github-reviews.js';

// A loopback stand-in for the GitHub REST API's artifact attestation endpoints, plus the blob storage that
// listings point into through bundle_url. It is only as good as its fidelity, so every request it accepts
// and every response it sends is checked against GitHub's published OpenAPI description
// (@octokit/openapi, api.github.com.deref.json) for the operation: a mismatch is answered with 500 and
// recorded in `schemaErrors`, which tests assert stays empty. Faults tests switch on: a 403 for a repository
// (plan or permission), the next k requests failing with 503/429/403 and Retry-After or a rate-limit reset,
// and tampering with the next response body, which proves the schema check catches a wrong shape.
//
// For promote it also hosts git repositories (github-git.ts: real bare repositories in a temp dir) and serves
// the REST operations and the GraphQL API (github-graphql.ts, validated against GitHub's published schema)
// that read and write them, with compare-and-swap on every ref move as GitHub enforces it. `beforeNext`
// runs a test's action (another commit, a ref moved) just before a chosen request: the race between a
// writer's read and its write, reproduced on demand.

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  headers: Record<string, string | undefined>;
  /** Parsed JSON body. */
  body?: unknown;
}

export interface StoredAttestation {
  id: number;
  /** owner/repo, lower-cased: GitHub's names are case-insensitive. */
  repository: string;
  repositoryId: number;
  bundle: Record<string, unknown>;
  subjectDigests: string[];
  predicateType: string;
}

export interface GitHubServerOptions extends IssuesOptions {
  /** The only token accepted (as `Bearer` or `token`); anything else gets 401. */
  token: string;
  /** `/api/v3` to stand in for GitHub Enterprise Server, whose API lives under that path. */
  pathPrefix?: string;
  /** Largest page the listing returns whatever per_page asks, so tests reach pagination with few items. */
  pageSize?: number;
  /**
   * How listings carry bundles: `both` (API 2022-11-28 today), `url` only (from 2026-03-10, and what a
   * client must cope with), or `inline` only.
   */
  bundles?: 'both' | 'url' | 'inline';
}

export interface FailureOptions {
  retryAfter?: string;
  /** Sets x-ratelimit-remaining: 0 and x-ratelimit-reset to this epoch second (a primary rate limit). */
  rateLimitReset?: number;
  message?: string;
}

export interface GitHubServer {
  /** The API base URL, as GITHUB_API_URL would give it. */
  url: string;
  /** The GraphQL endpoint: <origin>/graphql, or <origin>/api/graphql for GHES. */
  graphqlUrl: string;
  /** The web origin that html_url and url fields point to. */
  webUrl: string;
  /** The git repositories, pull requests and labels behind the git endpoints. */
  git: GitHost;
  /** Creates a hosted repository (a real bare repository) with optional first files. */
  createRepository(options: CreateRepositoryOptions): Promise<HostedRepository>;
  /**
   * Runs `action` once, just before handling the next request that `match` accepts (any, by default),
   * after the request is recorded and before it is answered.
   */
  beforeNext(action: () => Promise<void> | void, match?: (request: RecordedRequest) => boolean): void;
  /** Origin of the fake blob storage that bundle_url points to (another port: another origin). */
  storageUrl: string;
  requests: RecordedRequest[];
  storageRequests: RecordedRequest[];
  /** Every request or response that did not match the OpenAPI description; must stay empty. */
  schemaErrors: string[];
  attestations: StoredAttestation[];
  /** Issue comments, the token's identity, deployments and commit statuses (github-issues.ts). */
  issues: IssueStore;
  /** Reviews of pull requests, commit → pull request associations and workflow runs (github-reviews.ts). */
  reviews: ReviewStore;
  /** Answers 403 with `message` for one owner/repo, as GitHub does when the plan or permissions forbid it. */
  forbid(repository: string, message?: string): void;
  /** Answers the next `count` API requests with `status` (and Retry-After / rate-limit headers). */
  failNext(count: number, status?: number, options?: FailureOptions): void;
  /** Replaces the next API response body before it is checked, to prove the check catches wrong shapes. */
  tamperNext(change: (body: unknown) => unknown): void;
  close(): Promise<void>;
}

// --- The OpenAPI description --------------------------------------------------------------------------

interface SchemaObject {
  [key: string]: unknown;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: SchemaObject;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: SchemaObject }> };
  responses: Record<string, { content?: Record<string, { schema?: SchemaObject }> }>;
}
interface Description {
  paths: Record<string, Record<string, Operation>>;
}

interface CheckedOperation {
  method: string;
  template: string;
  /** Matches the path below the prefix; groups are the path parameters in order. */
  pattern: RegExp;
  operation: Operation;
  parameters: Map<string, { parameter: Parameter; validate: ValidateFunction }>;
  requestBody?: ValidateFunction;
  responses: Map<number, ValidateFunction>;
}

/** Compiling a pull request's schema takes a while: each operation is compiled when first requested. */
type LazyOperation = Pick<CheckedOperation, 'method' | 'template' | 'pattern' | 'operation'> & {
  compiled(): CheckedOperation;
};

interface Checker {
  operations: LazyOperation[];
  /** GitHub's "Basic Error", for statuses an operation does not list (401, 429, 5xx). */
  basicError: ValidateFunction;
}

const SERVED: readonly [string, string][] = [
  ['post', '/repos/{owner}/{repo}/attestations'],
  ['get', '/repos/{owner}/{repo}/attestations/{subject_digest}'],
  ...GIT_OPERATIONS,
  ...ISSUE_OPERATIONS,
  ...REVIEW_OPERATIONS,
];

let checker: Promise<Checker> | undefined;

/** Loads the 70 MB description once per test process and compiles only the operations served. */
function loadChecker(): Promise<Checker> {
  checker ??= (async () => {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.deref.json');
    const description = JSON.parse(await readFile(file, 'utf8')) as Description;
    // strict: false because the description carries OpenAPI-only keywords (example, x-github…) that are
    // annotations, not constraints; `nullable` is understood by Ajv itself.
    const ajv = new Ajv({ strict: false, allErrors: true });
    formats.default(ajv);
    // GitHub's own format for `owner/name` in the pulls body (head_repo).
    ajv.addFormat('repo.nwo', /^[^/\s]+\/[^/\s]+$/);
    const operations = SERVED.map(([method, template]): LazyOperation => {
      const operation = description.paths[template]?.[method];
      if (!operation) throw new Error(`the OpenAPI description has no ${method.toUpperCase()} ${template}`);
      const source = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
        // x-multi-segment parameters (the subject digest) may contain '/'; others are one segment.
        const multi = operation.parameters?.find((p) => p.name === name && p.in === 'path') as
          | (Parameter & { 'x-multi-segment'?: boolean })
          | undefined;
        return multi?.['x-multi-segment'] ? '(.+)' : '([^/]+)';
      });
      const base = { method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), operation };
      let compiled: CheckedOperation | undefined;
      return {
        ...base,
        compiled() {
          if (compiled) return compiled;
          const parameters = new Map<string, { parameter: Parameter; validate: ValidateFunction }>();
          for (const parameter of operation.parameters ?? []) {
            parameters.set(`${parameter.in}:${parameter.name}`, {
              parameter,
              validate: ajv.compile(parameter.schema ?? {}),
            });
          }
          const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
          const responses = new Map<number, ValidateFunction>();
          for (const [status, response] of Object.entries(operation.responses)) {
            const schema = response.content?.['application/json']?.schema;
            if (schema) responses.set(Number(status), ajv.compile(schema));
          }
          compiled = {
            ...base,
            parameters,
            ...(bodySchema ? { requestBody: ajv.compile(bodySchema) } : {}),
            responses,
          };
          return compiled;
        },
      };
    });
    const post = description.paths['/repos/{owner}/{repo}/attestations']?.post;
    const basicErrorSchema = post?.responses['403']?.content?.['application/json']?.schema;
    if (!basicErrorSchema) throw new Error('the OpenAPI description has no Basic Error schema where expected');
    return { operations, basicError: ajv.compile(basicErrorSchema) };
  })();
  return checker;
}

function explain(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
}

/** Query values are strings on the wire; schema types say what they must read as. */
function coerce(value: string, schema: SchemaObject | undefined): unknown {
  const type = schema?.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

// --- Snappy, as GitHub's blob storage serves bundles (`.json.sn`) ----------------------------------------

/**
 * Snappy block format with literals, 1-byte and 2-byte-offset copies: enough that the client's decoder
 * meets each element kind it will see from the real service.
 */
export function snappyEncode(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let n = input.length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      out.push(n);
      break;
    }
    out.push((n & 0x7f) | 0x80);
  }
  const literal = (from: number, to: number) => {
    for (let start = from; start < to; start += 65536) {
      const chunk = input.subarray(start, Math.min(to, start + 65536));
      const n = chunk.length - 1;
      if (n < 60) out.push(n << 2);
      else if (n < 256) out.push(60 << 2, n);
      else out.push(61 << 2, n & 0xff, n >> 8);
      out.push(...chunk);
    }
  };
  const seen = new Map<number, number>();
  let pending = 0;
  let i = 0;
  while (i + 4 <= input.length) {
    const key =
      ((input[i] as number) | ((input[i + 1] as number) << 8) | ((input[i + 2] as number) << 16)) +
      (input[i + 3] as number) * 2 ** 24;
    const candidate = seen.get(key);
    seen.set(key, i);
    if (candidate === undefined || i - candidate > 65535) {
      i++;
      continue;
    }
    let length = 0;
    while (length < 64 && i + length < input.length && input[candidate + length] === input[i + length]) length++;
    literal(pending, i);
    const offset = i - candidate;
    if (length <= 11 && offset < 2048) out.push(1 | ((length - 4) << 2) | ((offset >> 8) << 5), offset & 0xff);
    else out.push(2 | ((length - 1) << 2), offset & 0xff, offset >> 8);
    i += length;
    pending = i;
  }
  literal(pending, input.length);
  return Uint8Array.from(out);
}

// --- The server ------------------------------------------------------------------------------------------

const DOCS = 'https://docs.github.com/rest/repos/attestations';
const API_VERSION = '2022-11-28';

function statementOf(bundle: Record<string, unknown>): { subjects: string[]; predicateType: string } | undefined {
  const envelope = bundle.dsseEnvelope as { payload?: unknown } | undefined;
  if (typeof envelope?.payload !== 'string') return undefined;
  try {
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      subject?: { digest?: Record<string, string> }[];
      predicateType?: unknown;
    };
    const subjects = (statement.subject ?? []).flatMap((s) =>
      Object.entries(s.digest ?? {}).map(([algorithm, hex]) => `${algorithm}:${hex}`),
    );
    if (!subjects.length || typeof statement.predicateType !== 'string') return undefined;
    return { subjects, predicateType: statement.predicateType };
  } catch {
    return undefined;
  }
}

/** GitHub's predicate_type filter: the shorthands it documents, else the exact URI. */
function predicateMatches(filter: string, predicateType: string): boolean {
  if (filter === 'provenance') return predicateType.startsWith('https://slsa.dev/provenance/');
  if (filter === 'sbom') {
    return predicateType.startsWith('https://spdx.dev/Document') || predicateType === 'https://cyclonedx.org/bom';
  }
  if (filter === 'release') return predicateType.startsWith('https://in-toto.io/attestation/release/');
  return filter === predicateType;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startGitHubServer(options: GitHubServerOptions): Promise<GitHubServer> {
  const check = await loadChecker();
  const prefix = (options.pathPrefix ?? '').replace(/\/+$/, '');
  const pageSize = options.pageSize ?? 100;
  const bundleMode = options.bundles ?? 'both';
  const requests: RecordedRequest[] = [];
  const storageRequests: RecordedRequest[] = [];
  const schemaErrors: string[] = [];
  const attestations: StoredAttestation[] = [];
  const forbidden = new Map<string, string>();
  const repositoryIds = new Map<string, number>();
  const signatures = new Map<number, string>();
  let failures: { count: number; status: number } & FailureOptions = { count: 0, status: 503 };
  let tamper: ((body: unknown) => unknown) | undefined;
  let storageUrl = '';
  let apiOrigin = '';
  let webUrl = '';
  const hooks: { action: () => Promise<void> | void; match: (request: RecordedRequest) => boolean }[] = [];
  const gitRoot = await mkdtemp(join(tmpdir(), 'slipway-fake-github-'));
  const host = new GitHost(gitRoot);
  const issues = new IssueStore(host, options);
  const reviews = new ReviewStore(host, options);
  const gitTemplates = new Set(GIT_OPERATIONS.map(([method, template]) => `${method.toUpperCase()} ${template}`));
  // GHES serves REST under /api/v3 and GraphQL at /api/graphql; github.com at / and /graphql.
  const graphqlPath = prefix.endsWith('/v3') ? `${prefix.slice(0, -3)}/graphql` : `${prefix}/graphql`;

  const storage = createServer(async (req, res) => {
    storageRequests.push({ method: req.method ?? '', path: req.url ?? '/', headers: headersOf(req) });
    const url = new URL(req.url ?? '/', 'http://storage');
    const match = /^\/attestations\/(\d+)\.json\.sn$/.exec(url.pathname);
    const id = Number(match?.[1]);
    const stored = attestations.find((a) => a.id === id);
    // Like a SAS URL: the signature in the query is the authorisation, a bearer header means nothing here.
    if (req.method !== 'GET' || !stored || url.searchParams.get('sig') !== signatures.get(id)) {
      res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>BlobNotFound</Code></Error>');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(snappyEncode(new TextEncoder().encode(JSON.stringify(stored.bundle))));
  });

  const api = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A fault in the fake itself must fail the test that met it, not leave the client waiting.
    handle(req, res).catch((error: unknown) => {
      schemaErrors.push(`fake GitHub failed on ${req.method} ${req.url}: ${String((error as Error)?.stack ?? error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ message: `fake GitHub failed: ${String(error)}` }));
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await readBody(req);
    let body: unknown;
    let bodyIsJson = true;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
      bodyIsJson = false;
    }
    const target = req.url ?? '/';
    requests.push({
      method: req.method ?? '',
      path: target,
      headers: headersOf(req),
      ...(body !== undefined ? { body } : {}),
    });
    const hook = hooks.findIndex((h) => h.match(requests[requests.length - 1] as RecordedRequest));
    if (hook >= 0) {
      const [{ action }] = hooks.splice(hook, 1) as [(typeof hooks)[number]];
      await action();
    }
    const url = new URL(target, `http://${req.headers.host ?? '127.0.0.1'}`);
    const operationPath = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : undefined;
    let found: { op: CheckedOperation; params: string[] } | undefined;
    for (const op of check.operations) {
      const match = operationPath !== undefined && req.method === op.method ? op.pattern.exec(operationPath) : null;
      if (match) found = { op: op.compiled(), params: match.slice(1).map((p) => decodeURIComponent(p)) };
    }

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      let out = payload;
      if (tamper) {
        out = tamper(out);
        tamper = undefined;
      }
      const validate = found?.op.responses.get(status) ?? (status >= 400 ? check.basicError : undefined);
      const where = `${req.method} ${found?.op.template ?? url.pathname} → ${status}`;
      if (!validate) {
        schemaErrors.push(`${where}: the operation declares no response for this status`);
      } else if (!validate(out)) {
        schemaErrors.push(`${where} response: ${explain(validate.errors)}`);
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(
          JSON.stringify({
            message: `fake GitHub: response does not match the OpenAPI description: ${explain(validate.errors)}`,
          }),
        );
        return;
      }
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-github-api-version-selected': API_VERSION,
        ...headers,
      });
      res.end(JSON.stringify(out));
    };
    const error = (status: number, message: string, headers: Record<string, string> = {}) =>
      send(status, { message, documentation_url: DOCS, status: String(status) }, headers);

    const authorization = req.headers.authorization ?? '';
    // The scheme is case-insensitive (RFC 9110); @octokit/auth-token sends `token`, others `bearer`.
    const [scheme = '', credential] = authorization.split(' ');
    if (!['bearer', 'token'].includes(scheme.toLowerCase()) || credential !== options.token) {
      return error(401, 'Bad credentials');
    }
    if (failures.count > 0) {
      failures.count--;
      const headers: Record<string, string> = {};
      if (failures.retryAfter !== undefined) headers['retry-after'] = failures.retryAfter;
      if (failures.rateLimitReset !== undefined) {
        headers['x-ratelimit-remaining'] = '0';
        headers['x-ratelimit-reset'] = String(failures.rateLimitReset);
      }
      return error(failures.status, failures.message ?? 'Service Unavailable', headers);
    }
    if (url.pathname === graphqlPath) {
      if (req.method !== 'POST') return error(404, 'Not Found');
      const answer = await executeGraphQL(bodyIsJson ? body : undefined, { host, webUrl, schemaErrors });
      res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(answer.body));
      return;
    }
    if (!found) {
      schemaErrors.push(`${req.method} ${url.pathname}: not an operation this fake serves`);
      return error(404, 'Not Found');
    }

    // The request, against the operation's parameters and body.
    const { op, params } = found;
    const problems: string[] = [];
    const version = req.headers['x-github-api-version'];
    if (version !== undefined && version !== API_VERSION) {
      return error(400, `API version ${version} is not supported by this fake.`);
    }
    for (const [key, value] of url.searchParams) {
      const declared = op.parameters.get(`query:${key}`);
      if (!declared) problems.push(`query parameter ${key} is not declared`);
      else if (!declared.validate(coerce(value, declared.parameter.schema))) {
        problems.push(`query parameter ${key}: ${explain(declared.validate.errors)}`);
      }
    }
    for (const { parameter } of op.parameters.values()) {
      if (parameter.required && parameter.in === 'query' && !url.searchParams.has(parameter.name)) {
        problems.push(`query parameter ${parameter.name} is required`);
      }
    }
    if (op.requestBody) {
      if (!bodyIsJson) problems.push('request body is not JSON');
      else if (body === undefined) {
        if (op.operation.requestBody?.required) problems.push('request body is required');
      } else if (!op.requestBody(body)) {
        problems.push(`request body: ${explain(op.requestBody.errors)}`);
      }
    } else if (text) {
      problems.push('the operation takes no request body');
    }
    if (problems.length) {
      const message = `${req.method} ${op.template} request: ${problems.join('; ')}`;
      schemaErrors.push(message);
      return error(500, `fake GitHub: request does not match the OpenAPI description: ${problems.join('; ')}`);
    }

    const [owner = '', repo = ''] = params;
    const repository = `${owner}/${repo}`.toLowerCase();
    const refusal = forbidden.get(repository);
    if (refusal !== undefined) return error(403, refusal);
    if (
      REVIEW_OPERATIONS.some(([method, template]) => method.toUpperCase() === op.method && template === op.template)
    ) {
      const answer = await reviews.handle(
        { api: `${apiOrigin}${prefix}`, web: webUrl },
        op.method,
        op.template,
        params,
        url.searchParams,
        url,
      );
      return send(answer.status, answer.body, answer.headers);
    }
    if (ISSUE_OPERATIONS.some(([method, template]) => method.toUpperCase() === op.method && template === op.template)) {
      const answer = await issues.handle(
        { api: `${apiOrigin}${prefix}`, web: webUrl },
        op.method,
        op.template,
        params,
        url.searchParams,
        body,
        url,
      );
      return send(answer.status, answer.body, answer.headers);
    }
    if (gitTemplates.has(`${op.method} ${op.template}`)) {
      const answer = await handleGitRest(
        host,
        { api: `${apiOrigin}${prefix}`, web: webUrl },
        op.method,
        op.template,
        params,
        url.searchParams,
        body,
      );
      return send(answer.status, answer.body, answer.headers);
    }
    let repositoryId = repositoryIds.get(repository);
    if (repositoryId === undefined) {
      repositoryId = repositoryIds.size + 1;
      repositoryIds.set(repository, repositoryId);
    }

    if (op.template === '/repos/{owner}/{repo}/attestations') {
      const bundle = (body as { bundle: Record<string, unknown> }).bundle;
      const statement = statementOf(bundle);
      if (!statement) {
        return send(422, {
          message: 'Validation Failed',
          documentation_url: DOCS,
          errors: [
            { resource: 'Attestation', field: 'bundle', code: 'invalid', message: 'bundle has no in-toto statement' },
          ],
        });
      }
      const id = attestations.length + 1;
      attestations.push({
        id,
        repository,
        repositoryId,
        bundle,
        subjectDigests: statement.subjects,
        predicateType: statement.predicateType,
      });
      signatures.set(id, randomBytes(12).toString('base64url'));
      return send(201, { id });
    }

    // GET …/attestations/{subject_digest}: newest first, cursor-paged through Link like GitHub.
    const digest = params[2] ?? '';
    const filter = url.searchParams.get('predicate_type');
    const matching = attestations
      .filter((a) => a.repository === repository && a.subjectDigests.includes(digest))
      .filter((a) => !filter || predicateMatches(filter, a.predicateType))
      .sort((a, b) => b.id - a.id);
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100, pageSize);
    const after = url.searchParams.get('after');
    const start = after ? Number(Buffer.from(after, 'base64url').toString('utf8')) : 0;
    const page = matching.slice(start, start + perPage);
    const headers: Record<string, string> = {};
    if (start + perPage < matching.length) {
      const next = new URL(url);
      next.searchParams.set('after', Buffer.from(String(start + perPage)).toString('base64url'));
      headers.link = `<${next}>; rel="next"`;
    }
    send(
      200,
      {
        attestations: page.map((a) => ({
          repository_id: a.repositoryId,
          ...(bundleMode !== 'url' ? { bundle: a.bundle } : {}),
          ...(bundleMode !== 'inline'
            ? { bundle_url: `${storageUrl}/attestations/${a.id}.json.sn?sig=${signatures.get(a.id)}&sp=r` }
            : {}),
          initiator: 'user',
        })),
      },
      headers,
    );
  };

  apiOrigin = await listen(api);
  webUrl = apiOrigin;
  storageUrl = await listen(storage);

  return {
    url: `${apiOrigin}${prefix}`,
    graphqlUrl: `${apiOrigin}${graphqlPath}`,
    webUrl,
    git: host,
    createRepository: (repository) => host.createRepository(repository),
    beforeNext(action, match = () => true) {
      hooks.push({ action, match });
    },
    storageUrl,
    requests,
    storageRequests,
    schemaErrors,
    attestations,
    issues,
    reviews,
    forbid(repository, message = 'Feature not available for the repository plan or visibility.') {
      forbidden.set(repository.toLowerCase(), message);
    },
    failNext(count, status = 503, failure = {}) {
      failures = { count, status, ...failure };
    },
    tamperNext(change) {
      tamper = change;
    },
    async close() {
      await Promise.all([api, storage].map((s) => new Promise<void>((done) => s.close(() => done()))));
      await rm(gitRoot, { recursive: true, force: true });
    },
  };
}
