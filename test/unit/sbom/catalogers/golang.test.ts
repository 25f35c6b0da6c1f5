import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  goBinaryReader,
  goPackages,
  goPurl,
  parseModinfo,
  stdlibVersion,
} from '../../../../shared/sbom/catalogers/golang.js';
import { requireTool } from '../../../support/services.js';
import { fileHeader, readFileWith } from './read-helpers.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

function uvarint(n: number): Buffer {
  const bytes: number[] = [];
  let rest = n;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A Go ≥ 1.18 build info blob as cmd/link lays it out: header, then the two varint-prefixed strings. */
function buildInfoBlob(goVersion: string, modinfo: string, flags = 2): Buffer {
  const header = Buffer.alloc(32);
  MAGIC.copy(header);
  header[14] = 8;
  header[15] = flags;
  const mod = Buffer.concat([START, Buffer.from(modinfo), END]);
  const version = Buffer.from(goVersion);
  return Buffer.concat([header, uvarint(version.length), version, uvarint(mod.length), mod]);
}

/** Bytes standing in for a binary: noise, a misaligned magic, an aligned false one, then the real blob. */
function fakeBinary(blob: Buffer): Buffer {
  const noise = Buffer.alloc(70_000, 0x90);
  MAGIC.copy(noise, 1001); // misaligned: not build info
  MAGIC.copy(noise, 2048); // aligned, but byte 14 is no pointer size: not build info either
  const padded = Buffer.concat([noise, Buffer.alloc((16 - (noise.length % 16)) % 16)]);
  return Buffer.concat([padded, blob, Buffer.alloc(5000, 0xcc)]);
}

const MODINFO = [
  'path\texample.com/app/cmd/server',
  'mod\texample.com/app\tv1.2.3\th1:main=',
  'dep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=',
  'dep\tgolang.org/x/sys\tv0.20.0\th1:old=',
  '=>\tgolang.org/x/sys\tv0.21.0\th1:new=',
  'dep\tgopkg.in/yaml.v3\tv3.0.1\th1:yaml=',
  'build\t-buildmode=exe',
  'build\t-ldflags="-s -w -X main.version=1.2.3"',
  'build\tCGO_ENABLED=0',
  'build\tGOARCH=arm64',
  'build\tGOOS=linux',
  'build\tvcs.revision=0123456789abcdef0123456789abcdef01234567',
  '',
].join('\n');

describe('golang', () => {
  it('finds build info in a hand-made binary, across chunk boundaries', async () => {
    const binary = fakeBinary(buildInfoBlob('go1.22.5 X:boringcrypto', MODINFO));
    for (const chunkSize of [7, 4096, 65536, binary.length]) {
      const results = await readFileWith(goBinaryReader, 'usr/local/bin/server', binary, { mode: 0o755, chunkSize });
      expect(results[0]?.value).toEqual({ kind: 'buildinfo', goVersion: 'go1.22.5 X:boringcrypto', modinfo: MODINFO });
    }
    const results = await readFileWith(goBinaryReader, 'usr/local/bin/server', binary, { mode: 0o755, layer: 2 });
    const packages = goPackages(results);
    expect(packages.map((p) => [p.name, p.version, p.purl])).toEqual([
      ['example.com/app', 'v1.2.3', 'pkg:golang/example.com/app@v1.2.3'],
      ['github.com/google/uuid', 'v1.6.0', 'pkg:golang/github.com/google/uuid@v1.6.0'],
      ['golang.org/x/sys', 'v0.21.0', 'pkg:golang/golang.org/x/sys@v0.21.0'],
      ['gopkg.in/yaml.v3', 'v3.0.1', 'pkg:golang/gopkg.in/yaml.v3@v3.0.1'],
      ['stdlib', '1.22.5', 'pkg:golang/stdlib@1.22.5'],
    ]);
    for (const p of packages) expect(p.location).toEqual({ path: 'usr/local/bin/server', layer: 2 });
    expect(packages[0]?.properties).toMatchObject({
      'go.main': 'true',
      'go.path': 'example.com/app/cmd/server',
      'go.build.GOOS': 'linux',
      'go.build.GOARCH': 'arm64',
      'go.build.-ldflags': '-s -w -X main.version=1.2.3',
      'go.build.vcs.revision': '0123456789abcdef0123456789abcdef01234567',
    });
    expect(packages[2]?.properties).toMatchObject({ 'go.replaces': 'golang.org/x/sys@v0.20.0', 'go.sum': 'h1:new=' });
  });

  it('reports the pre-1.18 pointer format as unsupported and ignores files without build info', async () => {
    const old = fakeBinary(buildInfoBlob('go1.16', MODINFO, 0));
    const [result] = await readFileWith(goBinaryReader, 'bin/old', old, { mode: 0o755 });
    expect(result?.value.kind).toBe('unsupported');
    expect(goPackages(result ? [result] : [])).toEqual([]);
    expect(await readFileWith(goBinaryReader, 'bin/script', '#!/bin/sh\necho hi\n', { mode: 0o755 })).toEqual([]);
  });

  it('wants executable regular files of sensible size only', () => {
    expect(goBinaryReader.wants('bin/app', fileHeader(10, 0o755))).toBe(true);
    expect(goBinaryReader.wants('bin/app', fileHeader(10, 0o100))).toBe(true);
    expect(goBinaryReader.wants('bin/app', fileHeader(10, 0o644))).toBe(false);
    expect(goBinaryReader.wants('bin/app', fileHeader(0, 0o755))).toBe(false);
    expect(goBinaryReader.wants('bin/app', fileHeader(513 * 1024 * 1024, 0o755))).toBe(false);
    expect(goBinaryReader.wants('bin/app', { type: 'symlink', mode: 0o777, size: 0 })).toBe(false);
  });

  it('parses modinfo as runtime/debug does, keeping (devel) and local replacements', () => {
    const info = parseModinfo(
      'go1.23.0',
      'path\tcommand-line-arguments\nbuild\t"-ldflags=x"="-X \\"a b\\""\nbuild\tbroken\n',
    );
    expect(info.main).toBeUndefined();
    expect(info.settings).toEqual([{ key: '-ldflags=x', value: '-X "a b"' }]);
    expect(stdlibVersion('go1.21.13')).toBe('1.21.13');
    expect(goPurl('github.com/a/b/v2', 'v2.0.0')).toBe('pkg:golang/github.com/a/b/v2@v2.0.0');
  });

  // Outside CI a machine without Go skips this; in CI a missing toolchain fails and names the package.
  it.skipIf(!hasGo() && process.env.CI !== 'true')(
    'reads a real Go binary built here',
    { timeout: 180_000 },
    async () => {
      requireTool('go', 'golang-go');
      const dir = await mkdtemp(join(tmpdir(), 'slipway-go-'));
      try {
        await mkdir(join(dir, 'dep'));
        await mkdir(join(dir, 'app'));
        await writeFile(join(dir, 'dep/go.mod'), 'module example.com/dep\n\ngo 1.19\n');
        await writeFile(join(dir, 'dep/dep.go'), 'package dep\n\nfunc Hello() string { return "hello" }\n');
        await writeFile(
          join(dir, 'app/go.mod'),
          'module example.com/app\n\ngo 1.19\n\nrequire example.com/dep v0.1.0\n\nreplace example.com/dep => ../dep\n',
        );
        await writeFile(
          join(dir, 'app/main.go'),
          'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/dep"\n)\n\nfunc main() { fmt.Println(dep.Hello()) }\n',
        );
        // No network: the one dependency is a local directory, the toolchain is whatever is installed.
        const env = {
          ...process.env,
          GOPROXY: 'off',
          GOFLAGS: '-mod=mod',
          GOTOOLCHAIN: 'local',
          GOCACHE: join(dir, 'cache'),
        };
        execFileSync('go', ['build', '-o', join(dir, 'app.bin'), '.'], { cwd: join(dir, 'app'), env, stdio: 'ignore' });
        const goVersion = execFileSync('go', ['env', 'GOVERSION'], { env, encoding: 'utf8' }).trim();
        const goos = execFileSync('go', ['env', 'GOOS'], { env, encoding: 'utf8' }).trim();

        const binary = await readFile(join(dir, 'app.bin'));
        const results = await readFileWith(goBinaryReader, 'usr/local/bin/app', binary, { mode: 0o755 });
        const packages = goPackages(results);
        expect(packages.map((p) => [p.name, p.version, p.purl])).toEqual([
          ['example.com/app', '(devel)', 'pkg:golang/example.com/app@(devel)'],
          ['example.com/dep', 'v0.1.0', 'pkg:golang/example.com/dep@v0.1.0'],
          ['stdlib', goVersion.slice(2), `pkg:golang/stdlib@${goVersion.slice(2)}`],
        ]);
        expect(packages[0]?.properties?.['go.build.GOOS']).toBe(goos);
        expect(packages[0]?.properties?.['go.toolchain']).toBe(goVersion);
        expect(packages[1]?.properties?.['go.replacedBy']).toBe('../dep');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

function hasGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
