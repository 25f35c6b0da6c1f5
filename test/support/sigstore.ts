import { createHash, sign as cryptoSign, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  tsaHandler,
} from '@sigstore/mock';
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import type { WorkflowClaims } from '../../shared/attest/types.js';

// A loopback Sigstore: Fulcio, Rekor (v1) and an RFC 3161 TSA behind one node:http server, with a trusted root
// that verifies what they issue. @sigstore/mock's own mockFulcio/mockRekor are nock one-shots that hide their
// keys, so nothing they sign can be verified; here its building blocks are wired up the way its mock-server CLI
// does, and the gaps that make its Rekor unusable for DSSE are filled in (see rekorEntries).
//
// The same trusted root is also published as a TUF repository under /tuf, because the `sigstore` package's
// verify() only ever reads its trust root through TUF; that lets tests use it as an independent verifier.

export interface RecordedRequest {
  method: string;
  path: string;
}

export interface LocalTuf {
  /** Pass as tufMirrorURL. */
  mirrorURL: string;
  /** A root.json signed by this repository's key; pass as tufRootPath. */
  rootPath: string;
  /** A fresh cache directory; pass as tufCachePath. */
  cachePath: string;
}

export interface Sigstore {
  url: string;
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  /** application/vnd.dev.sigstore.trustedroot+json;version=0.1, as JSON. */
  trustedRoot: Record<string, unknown>;
  tuf: LocalTuf;
  requests: RecordedRequest[];
  /** Answers the next `count` requests whose path starts with `pathPrefix` with `status` (429, 503, …). */
  failNext(pathPrefix: string, status: number, count?: number, message?: string): void;
  close(): Promise<void>;
}

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The claim our Fulcio takes the SAN from. GitHub's real Fulcio derives the SAN as
 * `https://github.com/<job_workflow_ref>`; the mock copies one claim verbatim, and no claim GitHub issues has
 * that value (`sub` is `repo:<owner>/<name>:ref:<ref>`), so the server adds this derived claim before the mock
 * sees the token.
 */
const SAN_CLAIM = 'slipway_build_signer_uri';

const SIGNING_CERT_PATH = '/api/v2/signingCert';
const OID_ISSUER = '1.3.6.1.4.1.57264.1.8';
const LOG_ENTRIES_PATH = '/api/v1/log/entries';
const TIMESTAMP_PATH = '/api/v1/timestamp';

/** An unsigned JWT (`header.payload.`) with the claims a GitHub Actions OIDC token for audience `sigstore` has. */
export function githubToken(claims: Partial<WorkflowClaims> = {}): string {
  const repository = claims.repository ?? 'acme/app';
  const ref = claims.ref ?? 'refs/heads/main';
  const workflowRef = `${repository}/.github/workflows/release.yml@${ref}`;
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: GITHUB_ISSUER,
    aud: 'sigstore',
    sub: `repo:${repository}:ref:${ref}`,
    repository,
    repository_id: '123456789',
    repository_owner: repository.split('/')[0],
    repository_owner_id: '987654',
    ref,
    sha: '4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b',
    event_name: 'push',
    workflow_ref: workflowRef,
    job_workflow_ref: workflowRef,
    runner_environment: 'github-hosted',
    run_id: '4242424242',
    run_attempt: '1',
    iat: now,
    nbf: now,
    exp: now + 300,
    ...claims,
  };
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}

/**
 * Writes what the sign and verify actions are pointed at in `dir`: trusted-root.json (this Sigstore's trusted
 * root) and signing-config.json (its Fulcio, Rekor and TSA), as the inputs `trusted-root` and `signing-config`.
 */
export function writeSigningFiles(dir: string, sigstore: Sigstore): void {
  writeFileSync(path.join(dir, 'trusted-root.json'), JSON.stringify(sigstore.trustedRoot));
  writeFileSync(
    path.join(dir, 'signing-config.json'),
    JSON.stringify({ fulcioUrl: sigstore.fulcioUrl, rekorUrl: sigstore.rekorUrl, tsaUrl: sigstore.tsaUrl }),
  );
}

export async function startSigstore(): Promise<Sigstore> {
  const requests: RecordedRequest[] = [];
  const faults: { prefix: string; status: number; count: number; message: string }[] = [];
  const routes = new Map<string, HandlerFn>();

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // One key for every service, as mock-server does: the trust root only needs to name it once per role.
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(keyPair);
  const ca = await initializeCA(keyPair, ctlog);
  // The mock writes every URL extension (source repository, owner, build signer, …) under https://github.com;
  // the real Fulcio writes them under the web root of the host whose token it was given, as the SAN is.
  const issue = ca.issueCertificate.bind(ca);
  ca.issueCertificate = (request) => {
    const iss = request.extensions?.find((e) => e.oid === OID_ISSUER && !e.legacy)?.value;
    const server = serverOfIssuer(iss);
    const extensions = request.extensions?.map((e) =>
      e.value.startsWith('https://github.com/') ? { ...e, value: `${server}${e.value.slice(18)}` } : e,
    );
    return issue({ ...request, ...(extensions ? { extensions } : {}) });
  };
  const tlog = await initializeTLog(url, keyPair);
  // The TSA's clock is held to whole seconds: pkijs drops trailing zeros from the fraction of genTime (as DER
  // requires), and @sigstore/core 4.0.1 only parses no fraction or exactly three digits, so about one
  // timestamp in ten would otherwise fail to parse ("invalid time").
  const tsaClock = new Date(wholeSecond());
  const tsa = await initializeTSA(keyPair, tsaClock);

  const fulcio = fulcioHandler(ca, { strict: true, subjectClaim: SAN_CLAIM }).fn;
  routes.set(SIGNING_CERT_PATH, (body) => fulcio(withSanClaim(body)));
  const timestamp = tsaHandler(tsa, { strict: true }).fn;
  routes.set(TIMESTAMP_PATH, (body) => {
    tsaClock.setTime(wholeSecond());
    return timestamp(body);
  });

  // Rekor keeps its entries so that logging an equal entry again answers 409 with the existing entry's
  // location, as the real one does (the client then fetches it: fetchOnConflict).
  const rekorEntries = new Map<string, { uuid: string; entry: unknown }>();
  const byUuid = new Map<string, unknown>();
  routes.set(LOG_ENTRIES_PATH, async (body) => {
    const proposed = JSON.parse(body) as ProposedEntry;
    const entry = canonicalEntry(proposed);
    const key = canonicalJson(entry);
    const existing = rekorEntries.get(key);
    if (existing) {
      return {
        statusCode: 409,
        contentType: 'application/json',
        response: JSON.stringify({
          code: 409,
          message: `an equivalent entry already exists in the transparency log with UUID ${existing.uuid}`,
        }),
        location: `${LOG_ENTRIES_PATH}/${existing.uuid}`,
      };
    }
    const logged = (await tlog.log(entry)) as unknown as Record<string, unknown>;
    const [uuid, value] = Object.entries(logged)[0]!;
    rekorEntries.set(key, { uuid, entry: value });
    byUuid.set(uuid, value);
    return { statusCode: 201, contentType: 'application/json', response: JSON.stringify(logged) };
  });

  const start = new Date(Date.now() - 60_000);
  const spki = (der: Buffer) => ({
    rawBytes: der,
    keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
    validFor: { start },
  });
  const logId = (der: Buffer) => ({ keyId: createHash('sha256').update(der).digest() });
  const bytes = (view: ArrayBufferView) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const root = TrustedRoot.fromJSON(
    TrustedRoot.toJSON({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: url,
          hashAlgorithm: HashAlgorithm.SHA2_256,
          publicKey: spki(tlog.publicKey),
          logId: logId(tlog.publicKey),
          checkpointKeyId: undefined,
          operator: 'slipway.test',
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'slipway.test', commonName: 'fulcio' },
          uri: url,
          certChain: { certificates: [{ rawBytes: bytes(ca.rootCertificate) }] },
          validFor: { start },
          operator: 'slipway.test',
        },
      ],
      ctlogs: [
        {
          baseUrl: url,
          hashAlgorithm: HashAlgorithm.SHA2_256,
          publicKey: spki(ctlog.publicKey),
          logId: { keyId: bytes(ctlog.logID) },
          checkpointKeyId: undefined,
          operator: 'slipway.test',
        },
      ],
      timestampAuthorities: [
        {
          subject: { organization: 'slipway.test', commonName: 'tsa' },
          uri: url,
          certChain: {
            certificates: [{ rawBytes: bytes(tsa.intCertificate) }, { rawBytes: bytes(tsa.rootCertificate) }],
          },
          validFor: { start },
          operator: 'slipway.test',
        },
      ],
    }),
  );
  const trustedRoot = TrustedRoot.toJSON(root) as Record<string, unknown>;

  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-sigstore-'));
  const tufFiles = tufRepository(Buffer.from(JSON.stringify(trustedRoot)));
  const rootPath = path.join(dir, 'root.json');
  writeFileSync(rootPath, tufFiles.get('/1.root.json')!);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const pathname = new URL(req.url ?? '/', url).pathname;
    requests.push({ method, path: pathname });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');

    const fault = faults.find((f) => f.count > 0 && pathname.startsWith(f.prefix));
    if (fault) {
      fault.count -= 1;
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: fault.status, message: fault.message }));
      return;
    }

    if (method === 'GET' && pathname.startsWith('/tuf/')) {
      const file = tufFiles.get(pathname.slice('/tuf'.length));
      res.writeHead(file ? 200 : 404, { 'content-type': 'application/json' });
      res.end(file ?? '');
      return;
    }
    if (method === 'GET' && pathname.startsWith(`${LOG_ENTRIES_PATH}/`)) {
      const uuid = pathname.slice(LOG_ENTRIES_PATH.length + 1);
      const entry = byUuid.get(uuid);
      res.writeHead(entry ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(entry ? { [uuid]: entry } : { code: 404, message: 'entry not found' }));
      return;
    }
    const route = method === 'POST' ? routes.get(pathname) : undefined;
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 404, message: `no route for ${method} ${pathname}` }));
      return;
    }
    const result = (await route(body)) as Awaited<ReturnType<HandlerFn>> & { location?: string };
    res.writeHead(result.statusCode, {
      'content-type': result.contentType ?? 'text/plain',
      ...(result.location ? { location: result.location } : {}),
    });
    res.end(typeof result.response === 'string' ? result.response : bytes(result.response));
  }

  return {
    url,
    fulcioUrl: url,
    rekorUrl: url,
    tsaUrl: url,
    trustedRoot,
    tuf: { mirrorURL: `${url}/tuf`, rootPath, cachePath: path.join(dir, 'cache') },
    requests,
    failNext(prefix, status, count = 1, message = `injected ${status}`) {
      faults.push({ prefix, status, count, message });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface ProposedEntry {
  apiVersion?: string;
  kind?: string;
  spec?: { proposedContent?: { envelope: string; verifiers: string[] } };
}

/**
 * What Rekor stores for a proposed entry. The stock mock handler logs a DSSE proposal verbatim, and
 * @sigstore/verify then rejects the entry ("signature count mismatch"); the real Rekor replaces
 * proposedContent with hashes of the envelope and payload plus the signatures, so this does too.
 * hashedrekord (and anything else) is stored as proposed, which is what Rekor does for those.
 */
function canonicalEntry(proposed: ProposedEntry): object {
  const content = proposed.spec?.proposedContent;
  if (proposed.kind !== 'dsse' || !content) return proposed;
  const envelope = JSON.parse(content.envelope) as { payload: string; signatures: { sig: string }[] };
  const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((s, i) => ({ signature: s.sig, verifier: content.verifiers[i] })),
    },
  };
}

/** Adds the SAN claim to the token in a signing-certificate request; see SAN_CLAIM. */
function withSanClaim(body: string): string {
  try {
    const request = JSON.parse(body) as { credentials: { oidcIdentityToken: string } };
    const [header, payload] = request.credentials.oidcIdentityToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof claims.job_workflow_ref === 'string') {
      claims[SAN_CLAIM] = `${serverOfIssuer(claims.iss)}/${claims.job_workflow_ref}`;
    }
    request.credentials.oidcIdentityToken = `${header}.${b64url(claims)}.`;
    return JSON.stringify(request);
  } catch {
    // Not a request the mock can parse either; let it answer 400 as Fulcio would.
    return body;
  }
}

/**
 * The GitHub web root whose Actions issue tokens from `iss`, as the SAN names it: a GHE.com tenant's tokens come
 * from token.actions.<tenant>.ghe.com, a GHES host's from <host>/_services/token, github.com's from
 * token.actions.githubusercontent.com.
 */
function serverOfIssuer(iss: unknown): string {
  const issuer = typeof iss === 'string' ? iss : '';
  const tenant = /^https:\/\/token\.actions\.([a-z0-9-]+)\.ghe\.com$/.exec(issuer)?.[1];
  if (tenant) return `https://${tenant}.ghe.com`;
  if (issuer.endsWith('/_services/token')) return issuer.slice(0, -'/_services/token'.length);
  return 'https://github.com';
}

/**
 * A one-version TUF repository (no consistent snapshots) whose only target is trusted_root.json, every role
 * signed by one Ed25519 key. Keys are paths under the mirror URL.
 */
function tufRepository(trustedRoot: Buffer): Map<string, string> {
  const key = generateKeyPairSync('ed25519');
  // TUF's ed25519 keyval is the raw 32-byte key in hex: the tail of the SPKI DER.
  const publicHex = key.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const keyJson = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } };
  const keyid = createHash('sha256').update(canonicalJson(keyJson)).digest('hex');
  const role = { keyids: [keyid], threshold: 1 };
  // TUF timestamps carry no fraction of a second.
  const expires = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const common = { spec_version: '1.0.31', version: 1, expires };
  const envelope = (signed: object) =>
    JSON.stringify({
      signatures: [
        { keyid, sig: cryptoSign(null, Buffer.from(canonicalJson(signed)), key.privateKey).toString('hex') },
      ],
      signed,
    });
  return new Map([
    [
      '/1.root.json',
      envelope({
        _type: 'root',
        ...common,
        consistent_snapshot: false,
        keys: { [keyid]: keyJson },
        roles: { root: role, targets: role, snapshot: role, timestamp: role },
      }),
    ],
    ['/timestamp.json', envelope({ _type: 'timestamp', ...common, meta: { 'snapshot.json': { version: 1 } } })],
    ['/snapshot.json', envelope({ _type: 'snapshot', ...common, meta: { 'targets.json': { version: 1 } } })],
    [
      '/targets.json',
      envelope({
        _type: 'targets',
        ...common,
        targets: {
          'trusted_root.json': {
            length: trustedRoot.length,
            hashes: { sha256: createHash('sha256').update(trustedRoot).digest('hex') },
          },
        },
      }),
    ],
    ['/targets/trusted_root.json', trustedRoot.toString('utf8')],
  ]);
}

/** OLPC canonical JSON (sorted keys, no whitespace, only `"` and `\` escaped), as TUF signs it. */
function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${canonicalJson(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function wholeSecond(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
