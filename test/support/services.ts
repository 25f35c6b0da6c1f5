import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

// Real services for integration tests, started on loopback by test setup. A missing tool is a failure
// that names the Debian package to install, never a silent skip: CI installs them in .ci/run.

/** Fails with the package to install when a tool is not on PATH. */
export function requireTool(command: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, command);
    if (dir && existsSync(path)) return path;
  }
  throw new Error(
    `${command} is not installed; these tests need the real tool: apt-get install ${debianPackage} (.ci/run does this in CI)`,
  );
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface TestRegistry {
  /** host:port, as in image references: `127.0.0.1:40123`. */
  host: string;
  url: string;
  /** Basic-auth credentials when started with auth. */
  credentials?: { username: string; password: string };
  stop(): Promise<void>;
}

/**
 * Starts Debian's docker-registry (distribution 2.8) on 127.0.0.1 with filesystem storage in a temp dir.
 * Distribution 2.8 has no referrers API, so clients exercise the tag-schema fallback against it.
 */
export async function startRegistry(options: { auth?: boolean } = {}): Promise<TestRegistry> {
  const binary = requireTool('docker-registry', 'docker-registry');
  const dir = mkdtempSync(join(tmpdir(), 'slipway-registry-'));
  const port = await freePort();
  const credentials = options.auth ? { username: 'slipway', password: `pw-${process.pid}-${port}` } : undefined;
  let auth = '';
  if (credentials) {
    requireTool('htpasswd', 'apache2-utils');
    // Distribution accepts only bcrypt entries.
    const line = execFileSync('htpasswd', ['-Bbn', credentials.username, credentials.password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), line.trim() + '\n');
    auth = `auth:\n  htpasswd:\n    realm: slipway-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${auth}`,
  );
  const child = spawn(binary, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/v2/`, child, () => stderr);
  return {
    host: `127.0.0.1:${port}`,
    url,
    ...(credentials ? { credentials } : {}),
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the service exited (${child.exitCode}): ${log()}`);
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${log()}`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Runs skopeo (Debian package skopeo) as an independent client; returns stdout. */
export function skopeo(args: string[]): string {
  requireTool('skopeo', 'skopeo');
  return execFileSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
