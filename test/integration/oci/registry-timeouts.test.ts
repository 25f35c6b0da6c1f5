import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distRoot, repositoryRoot, runActionYml } from '../../support/runner-harness.js';

// registry-timeout and registry-connect-timeout reach the registry client of every built action: against a
// registry that accepts connections and never answers, each action fails soon, with a message naming the registry
// and the stall, instead of waiting on undici's 300 s (five times over, with retries). The inputs' parsing is
// tested in test/unit/registry-inputs.test.ts.

const BUG = 'a bug in Slipway';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
/** Both timeouts 1 s: the first answer may take both, 2 s; the rest is the process starting and stopping. */
const TIMEOUTS = { 'registry-timeout': '1s', 'registry-connect-timeout': '1s' };
const WITHIN_MS = 15_000;

let server: Server;
let registry: string;
/** Connections the silent registry accepted; each is held open, unanswered, until the suite ends. */
const sockets: Socket[] = [];

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the silent registry has no TCP port');
  registry = `127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((done) => server?.close(done));
});

const keys = (() => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
})();

/** Inputs that lead each action to the registry with nothing else to reach first (no TUF, no Sigstore, no OSV). */
const CASES: [string, () => Record<string, string>, () => string | undefined][] = [
  [
    'build',
    () => ({
      image: `${registry}/acme/api`,
      builder: 'native',
      directories: 'app:/app',
      'source-date-epoch': '1767225600',
    }),
    () => {
      const workspace = mkdtempSync(join(tmpdir(), 'slipway-timeouts-'));
      mkdirSync(join(workspace, 'app'));
      writeFileSync(join(workspace, 'app', 'hello.txt'), 'hello\n');
      return workspace;
    },
  ],
  ['sbom', () => ({ image: `${registry}/acme/api@${DIGEST}` }), () => undefined],
  [
    'sign',
    () => ({ image: `${registry}/acme/api@${DIGEST}`, key: keys.privatePem, provenance: 'false', storage: 'referrer' }),
    () => undefined,
  ],
  [
    'verify',
    () => ({ image: `${registry}/acme/api@${DIGEST}`, key: keys.publicPem, sources: 'referrer' }),
    () => undefined,
  ],
];

describe('a registry that never answers', () => {
  it.each(CASES)('fails the built %s action within seconds, naming the registry', async (name, inputs, workspace) => {
    const accepted = sockets.length;
    const started = Date.now();
    const dir = workspace();
    const { main } = await runActionYml(join(repositoryRoot, 'actions', name, 'action.yml'), {
      inputs: { ...inputs(), ...TIMEOUTS },
      ...(dir ? { workspace: dir } : {}),
      timeoutMs: 60_000,
    });
    const elapsed = Date.now() - started;
    const output = `${main.stdout}\n${main.stderr}`;
    expect(output).not.toContain(BUG);
    expect(main.exitCode, output).toBe(1);
    expect(main.errors, output).toEqual([
      expect.stringMatching(
        new RegExp(`^registry ${registry.replace(/\./g, '\\.')} sent no response within 2 s while `),
      ),
    ]);
    // The action really reached the silent registry, and gave up on it at the first stall rather than retrying.
    expect(sockets.length - accepted).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeLessThan(WITHIN_MS);
  });

  it('fails the CLI the same way, the inputs being flags', () => {
    const started = Date.now();
    const result = spawnSync(
      process.execPath,
      [
        join(distRoot, 'cli/index.mjs'),
        'sbom',
        '--image',
        `${registry}/acme/api@${DIGEST}`,
        '--registry-timeout',
        '1s',
        '--registry-connect-timeout',
        '1',
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), 'slipway-home-')) },
      },
    );
    expect(result.stderr).not.toContain(BUG);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain(
      `registry ${registry} sent no response within 2 s while reading manifest ${DIGEST}`,
    );
    expect(Date.now() - started).toBeLessThan(WITHIN_MS);
  });
});
