import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPublicGoodTrustedRoot, readTrustedRoot } from '../../../shared/attest/trusted-root.js';
import { ConfigurationError, SlipwayError } from '../../../shared/core/errors.js';
import { userFile } from '../../../shared/core/files.js';
import { type Sigstore, startSigstore } from '../../support/sigstore.js';

// Where verify's trusted root comes from: the trusted-root input's file, described (never quoted) when it is
// not one, or the public-good root through TUF, whose failures (refused, stalled) say how to verify offline.

let sigstore: Sigstore;
let workspace: string;

beforeAll(async () => {
  sigstore = await startSigstore();
  workspace = mkdtempSync(join(tmpdir(), 'slipway-trusted-root-'));
});

afterAll(async () => {
  await sigstore?.close();
});

/** Writes `content` as the file the trusted-root input names, and reads it as the verify action does. */
function read(name: string, content: string | Buffer): object {
  writeFileSync(join(workspace, name), content);
  return readTrustedRoot(userFile('trusted-root', name, workspace, 'a Sigstore trusted root JSON file'));
}

function failure(name: string, content: string | Buffer): string {
  try {
    read(name, content);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error(`${name} was accepted`);
}

describe('readTrustedRoot', () => {
  it('reads a trusted root', () => {
    expect(read('root.json', JSON.stringify(sigstore.trustedRoot))).toEqual(sigstore.trustedRoot);
  });

  const privateKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

  it.each([
    ['empty.json', '  \n', 'is empty, not JSON'],
    [
      'cert.pem',
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      'is PEM data (a key or certificate), not JSON',
    ],
    ['key.pem', privateKey, 'is a PEM private key, not JSON'],
    ['binary', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff]), 'is binary data, not JSON'],
    [
      'typo.json',
      '{\n  "mediaType": "x",\n  tlogs: []\n}',
      'line 3, column 3: expected a property name in double quotes',
    ],
    ['tuf-root.json', JSON.stringify({ signed: { _type: 'root' }, signatures: [] }), 'is TUF metadata (a root.json)'],
    [
      'bundle.json',
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }),
      'is a Sigstore bundle',
    ],
    ['other.json', JSON.stringify({ name: 'x' }), 'is JSON with no mediaType, not a Sigstore trusted root'],
    ['list.json', '[]', 'is JSON but not an object (an array)'],
  ])('says what %s is instead, naming the input and the path, quoting nothing', (name, content, said) => {
    const message = failure(name, content);
    expect(message).toContain(`Input 'trusted-root' is "${name}": ${join(workspace, name)} `);
    expect(message).toContain(said);
    expect(message).toContain('expected a Sigstore trusted root JSON file');
    expect(message).not.toContain('MIIB');
    expect(message).not.toContain(privateKey.split('\n')[1]!.slice(0, 16));
  });

  it('recognises the JSON lines gh attestation trusted-root prints', () => {
    const line = JSON.stringify(sigstore.trustedRoot);
    expect(failure('gh.jsonl', `${line}\n${line}\n`)).toContain(
      'holds 2 JSON documents, one per line (as `gh attestation trusted-root` prints one per Sigstore instance)',
    );
  });
});

describe('fetchPublicGoodTrustedRoot', () => {
  const cachePath = () => mkdtempSync(join(tmpdir(), 'slipway-tuf-'));

  it('fetches and checks the trusted root through TUF, returning it as JSON', async () => {
    const root = await fetchPublicGoodTrustedRoot({
      cachePath: cachePath(),
      mirrorURL: sigstore.tuf.mirrorURL,
      rootPath: sigstore.tuf.rootPath,
    });
    expect(root).toEqual(sigstore.trustedRoot);
  });

  it('reports an unreachable mirror as such, with the offline way out', async () => {
    // A port that was free a moment ago: the connection is refused.
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as { port: number }).port;
    await new Promise((done) => closed.close(done));
    const mirror = `http://127.0.0.1:${port}/tuf`;
    const error = await fetchPublicGoodTrustedRoot({
      cachePath: cachePath(),
      mirrorURL: mirror,
      rootPath: sigstore.tuf.rootPath,
      timeoutMs: 20_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    const message = (error as Error).message;
    expect(message).toMatch(
      new RegExp(`^Could not fetch the public-good Sigstore trusted root through TUF from ${mirror}: .*ECONNREFUSED`),
    );
    expect(message).toContain("give the input 'trusted-root'");
    expect(message).toContain("or 'key' for attestations signed with a key");
  }, 30_000);

  describe('a mirror that accepts connections and never answers', () => {
    let stalled: Server;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      stalled = createServer((socket) => sockets.add(socket));
      await new Promise<void>((done) => stalled.listen(0, '127.0.0.1', done));
    });
    afterAll(async () => {
      // The abandoned requests are still waiting for their own timeouts.
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => stalled.close(done));
    });

    it('gives up at the deadline and says so', async () => {
      const port = (stalled.address() as { port: number }).port;
      const started = Date.now();
      const error = await fetchPublicGoodTrustedRoot({
        cachePath: cachePath(),
        mirrorURL: `http://127.0.0.1:${port}/tuf`,
        rootPath: sigstore.tuf.rootPath,
        timeoutMs: 1_500,
      }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(sockets.size).toBeGreaterThan(0);
      expect(error).toBeInstanceOf(SlipwayError);
      expect((error as Error).message).toContain(`from http://127.0.0.1:${port}/tuf: no answer within 1.5 s.`);
    }, 30_000);
  });
});
