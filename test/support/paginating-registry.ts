import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small in-memory OCI registry on loopback, for what docker-registry 2.8 cannot be made to do: it implements
// the referrers API and paginates both referrers and tag lists with `Link: <…>; rel="next"` (distribution-spec
// "Listing Referrers" and "Listing Tags", `n` and `last`), answers uploads with path-relative Locations, and can
// be told to answer the referrers endpoint with a given error status. Every request is recorded.

export interface PaginatingRegistryOptions {
  /** Entries per page for tag lists and referrers (a client's larger `n` is cut to it, as registries do). */
  pageSize?: number;
  /** Link targets as absolute URLs instead of absolute paths. */
  absoluteLinks?: boolean;
  /** Upload Locations: `relative` (resolved against the request URL), `path` (/v2/…) or `url` (http://…). */
  uploadLocation?: 'relative' | 'path' | 'url';
  /** Answer every referrers request with this status instead (404: no referrers API; 400: a fault). */
  referrersStatus?: number;
}

interface Repository {
  manifests: Map<string, { bytes: Buffer; mediaType: string }>;
  tags: Map<string, string>;
  blobs: Map<string, Buffer>;
}

export interface PaginatingRegistry {
  host: string;
  /** "METHOD path?query" of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export async function startPaginatingRegistry(options: PaginatingRegistryOptions = {}): Promise<PaginatingRegistry> {
  const pageSize = options.pageSize ?? 2;
  const repositories = new Map<string, Repository>();
  const uploads = new Map<string, Buffer>();
  const requests: string[] = [];
  let host = '';

  const repo = (name: string, create: boolean): Repository | undefined => {
    let found = repositories.get(name);
    if (!found && create) {
      found = { manifests: new Map(), tags: new Map(), blobs: new Map() };
      repositories.set(name, found);
    }
    return found;
  };
  const link = (path: string) => `<${options.absoluteLinks ? `http://${host}` : ''}${path}>; rel="next"`;
  const error = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code, message: code.toLowerCase().replace(/_/g, ' ') }] }));
  };
  const uploadLocation = (name: string, id: string, state: number) => {
    const query = `?state=${state}`;
    if (options.uploadLocation === 'path') return `/v2/${name}/blobs/uploads/session-${id}${query}`;
    if (options.uploadLocation === 'url') return `http://${host}/v2/${name}/blobs/uploads/session-${id}${query}`;
    // Resolves against /v2/<name>/blobs/uploads/ (POST) and /v2/<name>/blobs/uploads/session-<id> (PATCH) alike.
    return `session-${id}${query}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}${url.search}`);
    if (url.pathname === '/v2/') return void res.end('{}');
    const match = /^\/v2\/(.+?)\/(manifests|blobs\/uploads|blobs|tags\/list|referrers)(?:\/(.*))?$/.exec(url.pathname);
    if (!match) return error(res, 404, 'NOT_FOUND');
    const [, name = '', kind, rest = ''] = match;

    if (kind === 'manifests') {
      if (method === 'PUT') {
        const repository = repo(name, true)!;
        const digest = digestOf(body);
        const mediaType = req.headers['content-type'] ?? '';
        repository.manifests.set(digest, { bytes: body, mediaType });
        if (!rest.startsWith('sha256:')) repository.tags.set(rest, digest);
        const subject = (JSON.parse(body.toString('utf8')) as { subject?: { digest: string } }).subject;
        res.writeHead(201, {
          'docker-content-digest': digest,
          location: `/v2/${name}/manifests/${digest}`,
          ...(subject ? { 'oci-subject': subject.digest } : {}),
        });
        return void res.end();
      }
      const repository = repo(name, false);
      const digest = rest.startsWith('sha256:') ? rest : repository?.tags.get(rest);
      const manifest = digest === undefined ? undefined : repository?.manifests.get(digest);
      if (!manifest || digest === undefined) return error(res, 404, 'MANIFEST_UNKNOWN');
      res.writeHead(200, {
        'content-type': manifest.mediaType,
        'content-length': manifest.bytes.byteLength,
        'docker-content-digest': digest,
      });
      return void res.end(method === 'HEAD' ? undefined : manifest.bytes);
    }

    if (kind === 'blobs/uploads') {
      if (method === 'POST') {
        repo(name, true);
        const id = randomUUID();
        uploads.set(id, Buffer.alloc(0));
        res.writeHead(202, { location: uploadLocation(name, id, 0), 'content-length': 0 });
        return void res.end();
      }
      const id = /^session-([0-9a-f-]+)$/.exec(rest)?.[1];
      const data = id === undefined ? undefined : uploads.get(id);
      if (id === undefined || data === undefined) return error(res, 404, 'BLOB_UPLOAD_UNKNOWN');
      if (method === 'PATCH') {
        uploads.set(id, Buffer.concat([data, body]));
        res.writeHead(202, { location: uploadLocation(name, id, Number(url.searchParams.get('state')) + 1) });
        return void res.end();
      }
      if (method === 'PUT') {
        const all = Buffer.concat([data, body]);
        const digest = url.searchParams.get('digest');
        if (digest !== digestOf(all)) return error(res, 400, 'DIGEST_INVALID');
        repo(name, true)!.blobs.set(digest, all);
        uploads.delete(id);
        res.writeHead(201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
        return void res.end();
      }
      if (method === 'DELETE') {
        uploads.delete(id);
        res.writeHead(204);
        return void res.end();
      }
    }

    if (kind === 'blobs') {
      const blob = repo(name, false)?.blobs.get(rest);
      if (!blob) return error(res, 404, 'BLOB_UNKNOWN');
      res.writeHead(200, { 'content-length': blob.byteLength, 'docker-content-digest': rest });
      return void res.end(method === 'HEAD' ? undefined : blob);
    }

    if (kind === 'tags/list') {
      const repository = repo(name, false);
      if (!repository) return error(res, 404, 'NAME_UNKNOWN');
      const n = Math.min(Number(url.searchParams.get('n') ?? pageSize), pageSize);
      const last = url.searchParams.get('last');
      const all = [...repository.tags.keys()].sort();
      const after = last === null ? all : all.filter((tag) => tag > last);
      const page = after.slice(0, n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (after.length > n) headers.link = link(`/v2/${name}/tags/list?n=${n}&last=${page.at(-1)}`);
      res.writeHead(200, headers);
      return void res.end(JSON.stringify({ name, tags: page }));
    }

    if (kind === 'referrers') {
      if (options.referrersStatus !== undefined) return error(res, options.referrersStatus, 'UNSUPPORTED');
      const repository = repo(name, false);
      const referrers = [...(repository?.manifests ?? [])]
        .map(([digest, { bytes, mediaType }]) => {
          const parsed = JSON.parse(bytes.toString('utf8')) as {
            subject?: { digest: string };
            artifactType?: string;
            config?: { mediaType: string };
            annotations?: Record<string, string>;
          };
          if (parsed.subject?.digest !== rest) return undefined;
          const artifactType = parsed.artifactType ?? parsed.config?.mediaType;
          return {
            mediaType,
            digest,
            size: bytes.byteLength,
            ...(artifactType ? { artifactType } : {}),
            ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
          };
        })
        .filter((entry) => entry !== undefined)
        .sort((a, b) => a.digest.localeCompare(b.digest));
      // The page token is an offset; any opaque value would do.
      const offset = Number(url.searchParams.get('page') ?? 0);
      const page = referrers.slice(offset, offset + pageSize);
      const headers: Record<string, string> = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
      if (offset + pageSize < referrers.length)
        headers.link = link(`/v2/${name}/referrers/${rest}?page=${offset + pageSize}`);
      res.writeHead(200, headers);
      return void res.end(JSON.stringify({ schemaVersion: 2, mediaType: headers['content-type'], manifests: page }));
    }
    return error(res, 405, 'UNSUPPORTED');
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((failure: unknown) => {
        res.writeHead(500);
        res.end(String(failure));
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
