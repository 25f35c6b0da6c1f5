import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// An app to build without RUN steps (no base image, no package manager at build time), as the build action's
// `directories` input copies it in: bin/ for /usr/local/bin, app/ for /app.

/**
 * Writes the app into `dir`: an executable "static binary" bin/server, and a Node app in app/ with one installed
 * package (left-pad 1.3.0) for the sbom to find.
 */
export function writeServerApp(dir: string): void {
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin/server'), '#!/bin/sh\necho serving\n');
  chmodSync(join(dir, 'bin/server'), 0o755);
  mkdirSync(join(dir, 'app/node_modules/left-pad'), { recursive: true });
  writeFileSync(join(dir, 'app/server.js'), 'console.log("hello");\n');
  writeFileSync(join(dir, 'app/node_modules/left-pad/package.json'), '{"name":"left-pad","version":"1.3.0"}\n');
}
