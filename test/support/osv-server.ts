import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OsvRecord } from '../../shared/vuln/osv.js';

// A loopback stand-in for api.osv.dev: the two endpoints the gate uses, with the real service's limits
// (1000 queries per batch, else 400; per-result next_page_token paging) and faults the tests switch on
// (503 with Retry-After for the next k requests, or a server that resets every connection). Every request is
// recorded, so tests can assert what was sent and how often.

export interface RecordedRequest {
  method: string;
  path: string;
  /** Parsed JSON body of a POST. */
  body?: unknown;
}

interface Query {
  package?: { name?: string; ecosystem?: string; purl?: string };
  version?: string;
  page_token?: string;
}

export interface OsvServerOptions {
  records?: OsvRecord[];
  /** Vulns per query per page; OSV's is 1000, tests set it small. */
  pageSize?: number;
}

export interface OsvServer {
  url: string;
  requests: RecordedRequest[];
  /** Answers the next `count` requests (only those whose path starts with `only`, if given) with `status` and Retry-After. */
  failNext(count: number, status?: number, retryAfter?: string, only?: string): void;
  /** Resets every connection until up() (a down or unreachable service). */
  down(): void;
  up(): void;
  add(record: OsvRecord): void;
  close(): Promise<void>;
}

export async function startOsvServer(options: OsvServerOptions = {}): Promise<OsvServer> {
  const records = new Map<string, OsvRecord>();
  for (const record of options.records ?? []) records.set(record.id, record);
  const pageSize = options.pageSize ?? 1000;
  const requests: RecordedRequest[] = [];
  let failures = { count: 0, status: 503, retryAfter: '0', only: '' };
  let isDown = false;

  const affects = (record: OsvRecord, query: Query): boolean =>
    (record.affected ?? []).some(
      (a) =>
        a.package?.ecosystem === query.package?.ecosystem &&
        a.package?.name === query.package?.name &&
        // Enumerated versions are enough for fixtures; the real service also evaluates ranges.
        (a.versions ?? []).includes(query.version ?? ''),
    );

  const answerBatch = (body: unknown, res: ServerResponse) => {
    const queries = (body as { queries?: Query[] } | null)?.queries;
    if (!Array.isArray(queries)) return send(res, 400, { code: 3, message: 'Invalid query.' });
    if (queries.length > 1000) {
      return send(res, 400, { code: 3, message: 'Too many queries. Maximum 1000 per request.' });
    }
    const results = queries.map((query) => {
      const matches = [...records.values()]
        .filter((record) => affects(record, query))
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((record) => ({ id: record.id, modified: record.modified }));
      const offset = query.page_token ? Number(Buffer.from(query.page_token, 'base64url').toString()) : 0;
      const page = matches.slice(offset, offset + pageSize);
      const rest = offset + pageSize < matches.length;
      // osv.dev answers `{}` for a query with nothing, not `{vulns: []}`.
      return {
        ...(page.length ? { vulns: page } : {}),
        ...(rest ? { next_page_token: Buffer.from(String(offset + pageSize)).toString('base64url') } : {}),
      };
    });
    send(res, 200, { results });
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? '', path, ...(body !== undefined ? { body } : {}) });

    if (isDown) {
      req.socket.destroy();
      return;
    }
    if (failures.count > 0 && path.startsWith(failures.only)) {
      failures.count--;
      res.setHeader('retry-after', failures.retryAfter);
      return send(res, failures.status, { code: 14, message: 'Service unavailable.' });
    }
    if (req.method === 'POST' && path === '/v1/querybatch') return answerBatch(body, res);
    const vuln = req.method === 'GET' ? /^\/v1\/vulns\/([^/?]+)$/.exec(path) : null;
    if (vuln?.[1]) {
      const record = records.get(decodeURIComponent(vuln[1]));
      return record ? send(res, 200, record) : send(res, 404, { code: 5, message: 'Bug not found.' });
    }
    send(res, 404, { code: 5, message: 'Not found.' });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(count, status = 503, retryAfter = '0', only = '') {
      failures = { count, status, retryAfter, only };
    },
    down() {
      isDown = true;
    },
    up() {
      isDown = false;
    },
    add(record) {
      records.set(record.id, record);
    },
    close() {
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
