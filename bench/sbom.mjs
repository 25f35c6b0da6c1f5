#!/usr/bin/env node
// Cost of the SBOM layer walk (shared/sbom/layers.ts) against the floor it cannot go below: reading and
// decompressing every layer once. Builds a synthetic but image-shaped OCI layout in a temporary directory
// (an OS layer of many small files and some binaries, a Python layer, a node_modules layer with whiteouts;
// gzip), then times, median of RUNS runs after one warm-up:
//   (a) every layer: getBlob → gunzip → discard (at zlib's default and at the walker's 64 KiB chunks; the
//       faster is the baseline, so the ratio is never flattered);
//   (b0) walkImage with no readers: decompression, diff_id hashing, tar parsing, whiteouts;
//   (b) walkImage with catalog-like readers (package.json, METADATA, dpkg status) plus one that reads
//       every executable file in full, the worst case a binary scanner causes.
// and prints b / a. The budget (shared/sbom/layers.ts) is ~1.5.
//
// Usage: node bench/sbom.mjs [--mib N] [--runs N] [--json FILE]
// The TypeScript sources are bundled with esbuild into a temporary directory first.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { ESM_REQUIRE_BANNER } from '../scripts/build.mjs';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '150' },
    runs: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});
const targetMiB = Number(values.mib);
const runs = Number(values.runs);
if (!Number.isFinite(targetMiB) || targetMiB < 1) {
  console.error(`--mib is ${JSON.stringify(values.mib)}: expected a number of MiB, at least 1.`);
  process.exit(2);
}
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs is ${JSON.stringify(values.runs)}: expected a whole number of at least 1.`);
  process.exit(2);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'slipway-bench-sbom-'));

/** The modules the benchmark needs, bundled from source the way dist/ is (minus minification). */
async function bundle() {
  const outdir = join(scratch, 'bundle');
  await esbuild.build({
    entryPoints: {
      layers: join(root, 'shared/sbom/layers.ts'),
      layout: join(root, 'shared/oci/layout.ts'),
      tar: join(root, 'shared/build/tar.ts'),
      manifest: join(root, 'shared/oci/manifest.ts'),
      catalogers: join(root, 'shared/sbom/catalogers/index.ts'),
    },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outdir,
    outExtension: { '.js': '.mjs' },
    // Bundled CommonJS packages (yauzl) call require() for built-ins.
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'warning',
  });
  const load = (name) => import(pathToFileURL(join(outdir, `${name}.mjs`)).href);
  const [layers, layout, tar, manifest, catalogers] = await Promise.all(
    ['layers', 'layout', 'tar', 'manifest', 'catalogers'].map(load),
  );
  return {
    walkImage: layers.walkImage,
    ALL_READERS: catalogers.ALL_READERS,
    catalog: catalogers.catalog,
    OciLayoutStore: layout.OciLayoutStore,
    entryHeader: tar.entryHeader,
    encodeJson: manifest.encodeJson,
  };
}

// ---- synthetic content ------------------------------------------------------------------------------

/** mulberry32: a fixed seed gives the same image on every run and machine. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(42);
const pick = (n) => Math.floor(random() * n);

/**
 * Corpora that compress like real image content: source/text from a vocabulary (gzip ~3-4x), binaries
 * as a mix of zero runs, small integers and noise (~2x). Files are slices at random offsets.
 */
function textCorpus(bytes) {
  const vocabulary = Array.from({ length: 3000 }, () =>
    Array.from({ length: 2 + pick(9) }, () => String.fromCharCode(97 + pick(26))).join(''),
  );
  const punctuation = [' ', ' ', ' ', ' ', '.', ', ', '(', ') ', ' = ', ';\n', '\n  ', '{\n', '}\n'];
  const parts = [];
  let length = 0;
  while (length < bytes) {
    const word = vocabulary[Math.floor(vocabulary.length * random() ** 2)];
    const sep = punctuation[pick(punctuation.length)];
    parts.push(word, sep);
    length += word.length + sep.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

function binaryCorpus(bytes) {
  const out = Buffer.alloc(bytes);
  let i = 0;
  while (i < bytes) {
    const kind = random();
    const run = 16 + pick(512);
    if (kind < 0.25)
      i += run; // zeros (alignment, bss)
    else if (kind < 0.7) for (let j = 0; j < run && i < bytes; j++) out[i++] = random() < 0.6 ? pick(16) : pick(256);
    else for (let j = 0; j < run && i < bytes; j++) out[i++] = pick(256);
  }
  return out;
}

const CORPUS = 8 * 1024 * 1024;
const text = textCorpus(CORPUS);
const binary = binaryCorpus(CORPUS);
const slice = (corpus, size) => {
  const start = pick(CORPUS - size);
  return corpus.subarray(start, start + size);
};
/** Sizes skewed small, as in real images: most files are a few KiB, a few are large. */
const smallSize = (mean) => Math.max(64, Math.floor(-Math.log(1 - random()) * mean));

// ---- layers -----------------------------------------------------------------------------------------

function layerBuilder(entryHeader) {
  const chunks = [];
  const dirs = new Set();
  let files = 0;
  const ensureDir = (path) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      chunks.push(entryHeader({ name: dir, type: 'directory', mode: 0o755, size: 0 }));
    }
  };
  return {
    file(path, content, mode = 0o644) {
      ensureDir(path);
      files++;
      chunks.push(entryHeader({ name: path, type: 'file', mode, size: content.byteLength }));
      chunks.push(content);
      const pad = (512 - (content.byteLength % 512)) % 512;
      if (pad > 0) chunks.push(Buffer.alloc(pad));
    },
    symlink(path, target) {
      ensureDir(path);
      files++;
      chunks.push(entryHeader({ name: path, type: 'symlink', mode: 0o777, size: 0, linkTarget: target }));
    },
    finish() {
      chunks.push(Buffer.alloc(1024));
      return { tar: Buffer.concat(chunks), files };
    },
  };
}

/** Three layers of about `mib` MiB together: OS base, Python runtime and packages, Node app. */
function buildLayers(entryHeader, mib) {
  const scale = mib / 150;
  const n = (count) => Math.max(1, Math.round(count * scale));

  const os = layerBuilder(entryHeader);
  let status = '';
  for (let i = 0; i < n(400); i++) {
    status += `Package: pkg${i}\nStatus: install ok installed\nVersion: 1.${i}-1\nArchitecture: amd64\nDescription: ${slice(text, 200).toString('latin1')}\n\n`;
  }
  os.file('var/lib/dpkg/status', Buffer.from(status));
  for (let i = 0; i < n(7000); i++) os.file(`usr/share/doc/pkg${i % 400}/file${i}.txt`, slice(text, smallSize(3000)));
  for (let i = 0; i < n(250); i++) os.file(`usr/bin/tool${i}`, slice(binary, smallSize(60_000)), 0o755);
  for (let i = 0; i < n(200); i++) os.file(`usr/lib/x86_64-linux-gnu/lib${i}.so.1`, slice(binary, smallSize(100_000)));
  for (let i = 0; i < n(200); i++) os.symlink(`usr/lib/x86_64-linux-gnu/lib${i}.so`, `lib${i}.so.1`);
  os.file(
    'usr/lib/x86_64-linux-gnu/libbig.so.3',
    slice(binary, Math.min(CORPUS - 1, Math.round(6_000_000 * scale) + 1)),
  );

  const python = layerBuilder(entryHeader);
  const site = 'usr/lib/python3/dist-packages';
  for (let p = 0; p < n(200); p++) {
    python.file(
      `${site}/pkg${p}-1.0.dist-info/METADATA`,
      Buffer.from(`Metadata-Version: 2.1\nName: pkg${p}\nVersion: 1.0\n\n${slice(text, 1500)}`),
    );
    python.file(`${site}/pkg${p}-1.0.dist-info/RECORD`, slice(text, smallSize(2000)));
    for (let f = 0; f < 25; f++) python.file(`${site}/pkg${p}/module${f}.py`, slice(text, smallSize(5000)));
  }
  for (let i = 0; i < 3; i++)
    python.file(`${site}/native${i}.so`, slice(binary, Math.round(5_000_000 * scale) + 1), 0o755);
  python.file('usr/bin/python3.12', slice(binary, Math.round(6_000_000 * scale) + 1), 0o755);

  const app = layerBuilder(entryHeader);
  for (let p = 0; p < n(600); p++) {
    const dir = `app/node_modules/pkg${p}`;
    app.file(
      `${dir}/package.json`,
      Buffer.from(
        JSON.stringify({
          name: `pkg${p}`,
          version: `1.${p}.0`,
          license: 'MIT',
          description: slice(text, 300).toString('latin1'),
        }),
      ),
    );
    for (let f = 0; f < 12; f++) app.file(`${dir}/lib/file${f}.js`, slice(text, smallSize(2500)));
  }
  app.file('app/dist/bundle.js', slice(text, Math.round(7_000_000 * scale) + 1));
  app.file('app/server', slice(binary, Math.round(7_000_000 * scale) + 1), 0o755);
  for (let i = 0; i < n(100); i++) app.file(`usr/share/doc/pkg${i}/.wh.file${i}.txt`, Buffer.alloc(0));
  app.file('usr/share/doc/pkg7/.wh..wh..opq', Buffer.alloc(0));

  return [os.finish(), python.finish(), app.finish()];
}

async function pushImage(store, encodeJson, layers) {
  const descriptors = [];
  const diffIds = [];
  for (const { tar } of layers) {
    const blob = gzipSync(tar);
    await store.putBlob(blob);
    descriptors.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: sha256(blob),
      size: blob.byteLength,
    });
    diffIds.push(sha256(tar));
  }
  const config = encodeJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } });
  await store.putBlob(config);
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.byteLength },
    layers: descriptors,
  });
  const { descriptor } = await store.putManifest(manifest, 'application/vnd.oci.image.manifest.v1+json');
  return { digest: descriptor.digest, descriptors };
}

function sha256(bytes) {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

// ---- readers ----------------------------------------------------------------------------------------

async function readText(content) {
  const chunks = [];
  for await (const chunk of content) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const catalogReaders = [
  {
    name: 'npm',
    wants: (path, header) => header.type === 'file' && path.endsWith('/package.json') && path.includes('node_modules/'),
    read: async (content) => {
      const json = JSON.parse(await readText(content));
      return { name: json.name, version: json.version };
    },
  },
  {
    name: 'python',
    wants: (path, header) => header.type === 'file' && path.endsWith('.dist-info/METADATA'),
    read: async (content) => (await readText(content)).split('\n', 3).join('\n'),
  },
  {
    name: 'dpkg',
    wants: (path) => path === 'var/lib/dpkg/status',
    read: async (content) => (await readText(content)).split('\n\n').length,
  },
];

/** The worst case: every executable read to its end, as a binary scanner looking for build info would. */
const everyExecutable = {
  name: 'executables',
  wants: (_path, header) => header.type === 'file' && (header.mode & 0o111) !== 0,
  read: async (content) => {
    let bytes = 0;
    for await (const chunk of content) bytes += chunk.byteLength;
    return bytes;
  },
};

// ---- measuring --------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function time(fn) {
  await fn(); // warm-up: page cache and JIT in the same state for every variant
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { medianMs: median(samples), samples };
}

async function decompressOnly(store, descriptors, chunkSize) {
  for (const descriptor of descriptors) {
    await pipeline(
      await store.getBlob(descriptor),
      createGunzip(chunkSize === undefined ? {} : { chunkSize }),
      new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    );
  }
}

try {
  const { walkImage, ALL_READERS, catalog, OciLayoutStore, entryHeader, encodeJson } = await bundle();
  const store = await OciLayoutStore.open(join(scratch, 'layout'), { create: true });
  const layers = buildLayers(entryHeader, targetMiB);
  const { digest, descriptors } = await pushImage(store, encodeJson, layers);
  const uncompressed = layers.reduce((sum, l) => sum + l.tar.byteLength, 0);
  const compressed = descriptors.reduce((sum, d) => sum + d.size, 0);
  const files = layers.reduce((sum, l) => sum + l.files, 0);
  layers.length = 0; // the tars are in the layout now; free them before measuring

  const check = await walkImage(store, digest, [...catalogReaders, everyExecutable]);
  const found = Object.fromEntries([...check.results].map(([name, results]) => [name, results.length]));

  const results = {
    node: process.version,
    runs,
    date: new Date().toISOString().slice(0, 10),
    image: {
      layers: descriptors.length,
      files,
      uncompressedBytes: uncompressed,
      compressedBytes: compressed,
      finalEntries: check.entries.size,
      found,
    },
    decompressDefault: await time(() => decompressOnly(store, descriptors, undefined)),
    decompress64k: await time(() => decompressOnly(store, descriptors, 64 * 1024)),
    walkNoReaders: await time(() => walkImage(store, digest, [])),
    walkCatalog: await time(() => walkImage(store, digest, catalogReaders)),
    walkWorstCase: await time(() => walkImage(store, digest, [...catalogReaders, everyExecutable])),
    // What the sbom action runs: every real cataloger (the Go one reads every executable), then catalog().
    slipwayCatalog: await time(async () => catalog(await walkImage(store, digest, ALL_READERS))),
  };
  const a = Math.min(results.decompressDefault.medianMs, results.decompress64k.medianMs);
  results.ratio = {
    noReaders: results.walkNoReaders.medianMs / a,
    catalog: results.walkCatalog.medianMs / a,
    worstCase: results.walkWorstCase.medianMs / a,
    slipway: results.slipwayCatalog.medianMs / a,
  };

  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const row = (cells) => `| ${cells.join(' | ')} |`;
  console.log(`Node ${results.node}, median of ${runs} runs, ${results.date}`);
  console.log(
    `Image: ${descriptors.length} gzip layers, ${files} tar entries (files and symlinks), ${mib(uncompressed)} uncompressed, ${mib(compressed)} compressed; final view ${check.entries.size} entries; reader results ${JSON.stringify(found)}\n`,
  );
  console.log(row(['measurement', 'median ms', '× (a)']));
  console.log(row(['---', '---:', '---:']));
  const line = (name, m) => console.log(row([name, m.medianMs.toFixed(0), (m.medianMs / a).toFixed(2)]));
  line('(a) getBlob → gunzip → discard, default 16 KiB chunks', results.decompressDefault);
  line('(a) getBlob → gunzip → discard, 64 KiB chunks', results.decompress64k);
  line('(b0) walkImage, no readers', results.walkNoReaders);
  line('(b) walkImage, catalog readers', results.walkCatalog);
  line('(b) walkImage, catalog readers + every executable read', results.walkWorstCase);
  line("(c) Slipway's cataloguing: walkImage with ALL_READERS, then catalog()", results.slipwayCatalog);
  console.log(
    `\nratio c/a (what the sbom action pays): ${results.ratio.slipway.toFixed(2)}; b/a worst case ${results.ratio.worstCase.toFixed(2)}`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
