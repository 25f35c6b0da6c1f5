import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// HTTP servers on loopback that answer from a script: for the faults and edge cases a real service cannot be
// made to produce on demand (a 503 with Retry-After, a body that stops halfway, a token service that refuses).

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface LoopbackServer {
  server: Server;
  /** `127.0.0.1:<port>`, as a registry reference names its host. */
  host: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Drops open connections first: a response a test left hanging on purpose must not hold the close up. */
  close(): Promise<void>;
}

/** Starts `handler` on an ephemeral port of 127.0.0.1. */
export async function serveLoopback(handler: Handler): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    host,
    url: `http://${host}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * The servers of one test file: each test starts its own with serve(), which answers its `127.0.0.1:<port>`,
 * and the file's afterEach calls closeAll().
 */
export function loopbackServers(): { serve(handler: Handler): Promise<string>; closeAll(): Promise<void> } {
  const open: LoopbackServer[] = [];
  return {
    async serve(handler) {
      const server = await serveLoopback(handler);
      open.push(server);
      return server.host;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((server) => server.close()));
    },
  };
}
