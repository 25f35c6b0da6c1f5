#!/usr/bin/env node
// Bundles every actions/<name>/main.ts and cli/main.ts into dist/ with esbuild.
//
// Layout of the output (format "esm", the default; bench/README.md has the measurements behind it):
//   dist/<name>/index.mjs      the file action.yml points at (dist/cli/index.mjs for the CLI)
//   dist/chunks/*.mjs          code shared between entries; what an entry reaches only through a dynamic
//                              import() (Sigstore, the CycloneDX library) loads only when it is reached
//   dist/**/*.map              source maps, read only when an unexpected error's stack is printed
//                              (shared/runner/stack.ts): loading them at start costs ~7 MiB
//   dist/licenses.txt          the licences of every bundled package
// `--format cjs` builds the alternative (one CommonJS bundle per entry), which the cold-start benchmark
// measures beside it.
// Usage: node scripts/build.mjs [--outdir DIR] [--format esm|cjs]

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function entryPoints() {
  const entries = {};
  // No actions/ folder at all is a valid state (git does not keep empty folders).
  const actions = await readdir(join(root, 'actions'), { withFileTypes: true }).catch((error) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const dirent of actions) {
    if (!dirent.isDirectory()) continue;
    const main = join(root, 'actions', dirent.name, 'main.ts');
    if (await exists(main)) entries[dirent.name] = main;
  }
  entries.cli = join(root, 'cli', 'main.ts');
  return entries;
}

async function exists(path) {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

// Bundled CommonJS dependencies call require() for Node built-ins and read __dirname, which ESM output does
// not have, so each output file gets them. Without require a dependency such as tunnel fails at start with
// "Dynamic require of "net""; without __dirname the CycloneDX library fails as it loads (it locates its schema
// files with it, for validation Slipway never runs from dist/). No import statements: each would be an ESM facade
// for a built-in in every chunk (see builtinsWithoutEsmFacade). Leaving the banner out of the files that do not use
// it was measured too, and saved nothing measurable (bench/README.md).
export const ESM_REQUIRE_BANNER = [
  "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
  "const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url);",
  "const __dirname = process.getBuiltinModule('node:path').dirname(__filename);",
].join(' ');

/**
 * Builds into outdir; returns the esbuild metafile. `entries` ({name: path}) replaces the repository's
 * entries, so tests build fixture actions with exactly the options dist/ is built with.
 */
export async function build({ outdir = join(root, 'dist'), format = 'esm', entries } = {}) {
  entries ??= await entryPoints();
  const ext = format === 'esm' ? '.mjs' : '.cjs';
  await rm(outdir, { recursive: true, force: true });
  const options = {
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, relative(root, path)])),
    outdir,
    entryNames: '[name]/index',
    bundle: true,
    platform: 'node',
    target: 'node24',
    format,
    splitting: format === 'esm',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': ext },
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    banner: format === 'esm' ? { js: ESM_REQUIRE_BANNER } : {},
    define: {
      __SLIPWAY_VERSION__: JSON.stringify(await packageVersion()),
      // The CLI's help text, from every action.yml (cli/action-docs.ts). A string, parsed where it is used: esbuild
      // would hoist an object into the runtime chunk that every entry loads.
      __SLIPWAY_ACTIONS__: JSON.stringify(JSON.stringify(await readActionDocs())),
    },
    // The CycloneDX library's optional plug-ins, which it loads only on demand: XML (Slipway writes JSON only)
    // and schema validation through ajv (done by the tests, never by the product; ~170 KB parsed at every start).
    external: ['xmlbuilder2', 'libxmljs2'],
    // The facade builtinsWithoutEsmFacade avoids is ESM's; require() in CommonJS never had one.
    plugins: [...(format === 'esm' ? [builtinsWithoutEsmFacade] : []), cycloneDxAjvExternal, dynamicImportNamedExports],
  };
  if (format === 'esm') {
    const { metafile } = await esbuild.build({ ...options, write: false, logLevel: 'silent' });
    options.plugins = [startChunk(metafile, options.entryPoints), ...options.plugins];
  }
  const result = await esbuild.build(options);
  await writeFile(join(outdir, 'licenses.txt'), await licenses(result.metafile));
  return result.metafile;
}

/**
 * The CLI's help text from every action.yml, through cli/action-docs.ts: the same code the CLI runs from source.
 * esbuild compiles that one TypeScript file here, rather than Node stripping its types, so the build runs on any
 * Node that runs esbuild (Node 20 has no type stripping, and a contributor's or a hook's node may be older than
 * 24). It goes into node_modules/.cache so that its own import of `yaml` resolves as it does from source.
 */
async function readActionDocs() {
  const cache = join(root, 'node_modules', '.cache', 'slipway-build');
  await mkdir(cache, { recursive: true });
  const compiled = join(cache, `action-docs-${process.pid}.mjs`);
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['cli/action-docs.ts'],
    outfile: compiled,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
  try {
    const { readActionDocs: read } = await import(pathToFileURL(compiled).href);
    return read(join(root, 'actions'));
  } finally {
    await rm(compiled, { force: true });
  }
}

/**
 * Node built-ins are read from process.getBuiltinModule, not imported. Node's ESM facade for a built-in reads
 * every export the first time the module is imported, which runs its lazy getters: `import { readFileSync } from
 * 'node:fs'` loads fs.promises, and with it streams and readline, ~4 ms and 3 MiB at every start
 * (bench/README.md). getBuiltinModule returns the object require() gives, without a facade; each name is read
 * from it once as the module loads, as the facade would.
 *
 * The shim exports exactly the names its importer imports, read from the importer's source, never the list of
 * the building Node's exports: that list differs between Node versions (Node 20's zlib has no
 * createZstdDecompress), and dist/ must be the same whichever Node builds it.
 */
/**
 * The names `importer` imports from the built-in `specifier`, when every import of it there is a named value
 * import (`import { a, b as c } from 'node:fs'`); undefined for any other form (default, namespace, re-export,
 * side effect), which keeps Node's own import.
 */
function namedImportsOf(importer, specifier) {
  const source = readFileSync(importer, 'utf8');
  const quoted = `['"]${specifier.replace(/[/]/g, '\\/')}['"]`;
  const uses = source.match(new RegExp(`(?:from|import)\\s*${quoted}`, 'g')) ?? [];
  const names = new Set();
  let named = 0;
  for (const match of source.matchAll(new RegExp(`import\\s+(type\\s+)?\\{([^}]*)\\}\\s*from\\s*${quoted}`, 'g'))) {
    named++;
    if (match[1]) continue; // import type { … }: erased, never loaded
    for (const part of match[2].split(',')) {
      const name = part.trim();
      if (name === '' || name.startsWith('type ')) continue;
      names.add(name.split(/\s+as\s+/)[0].trim());
    }
  }
  return named === uses.length && names.size > 0 ? [...names].sort() : undefined;
}

const builtinsWithoutEsmFacade = {
  name: 'builtins-without-esm-facade',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      // import() of a built-in is already deferred to where it is needed; it keeps Node's own namespace.
      if (args.kind !== 'import-statement' || !isBuiltin(args.path)) return undefined;
      const id = args.path.replace(/^node:/, '');
      const names = namedImportsOf(args.importer, args.path);
      // A default, namespace or re-export form keeps Node's own import: only named imports can be listed.
      if (names === undefined) return undefined;
      // One shim per importing file, so that each lands in its importer's chunk: a shim shared by every entry
      // would be a chunk file of its own, and each file on the start path costs a start ~0.3 ms.
      return {
        path: `${relative(root, args.importer)}:node:${id}`,
        namespace: 'node-builtin',
        pluginData: { id: `node:${id}`, names },
      };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => {
      const { id, names } = args.pluginData;
      return {
        contents: [
          `const builtin = process.getBuiltinModule(${JSON.stringify(id)});`,
          // Pure, so that an export nobody uses is dropped and its getter (fs.promises) never runs.
          ...names.map((name) => `export const ${name} = /* @__PURE__ */ (() => builtin.${name})();`),
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

/**
 * One chunk for what every action loads before its inputs are read. esbuild puts each module in the chunk of the
 * set of entry points and import() targets that reach it, so an action's start path was spread over as many small
 * chunks as there were such sets (11 files for build, 15 once promote arrived), and each file costs a start 0.2 to
 * 0.6 ms (bench/README.md). Here every entry and every import() target of Slipway's own code also imports one
 * module, `slipway:start`, that imports the start paths of all the actions: those modules then share one set, and
 * one chunk. That costs an action nothing at run time, since its import() targets only ever load after its start
 * path; the CLI loads the whole chunk at start. The import is appended to each file, so line numbers and source
 * maps stay as they were (ESM hoists it either way). A definition, imported by its action's entry and by the CLI's
 * import(), keeps a chunk of its own, so an action never loads another action's definition.
 */
function startChunk(metafile, entryPoints) {
  const { inputs, outputs } = metafile;
  const ours = (path) => /^[\w./-]+\.ts$/.test(path) && !path.includes('node_modules/');
  const staticImports = (path) =>
    (inputs[path]?.imports ?? [])
      .filter((edge) => edge.kind === 'import-statement' && ours(edge.path))
      .map((edge) => edge.path);
  const entries = new Set(Object.values(entryPoints));
  const actions = [...entries].filter((path) => path.startsWith('actions/'));
  // Each import() target is the entry point of its own output chunk (the metafile's edges do not show the targets of
  // a template import such as the CLI's `../actions/${name}/definition.ts`).
  const targets = new Set();
  for (const output of Object.values(outputs)) {
    if (output.entryPoint && ours(output.entryPoint) && !entries.has(output.entryPoint)) targets.add(output.entryPoint);
  }
  const start = new Set();
  const stack = [...actions];
  while (stack.length > 0) {
    const path = stack.pop();
    if (start.has(path)) continue;
    start.add(path);
    stack.push(...staticImports(path));
  }
  const definitions = actions.flatMap((entry) => staticImports(entry).filter((path) => targets.has(path)));
  for (const path of [...actions, ...definitions]) start.delete(path);
  // An import() of a module every action loads at start anyway makes that module an entry of its own, so esbuild
  // splits it (and whatever only it shares) out of the start chunk again: a start then opens more files for nothing.
  const splitting = [...targets].filter((path) => start.has(path)).sort();
  if (splitting.length > 0) {
    throw new Error(
      `startChunk: ${splitting.join(', ')} ${splitting.length === 1 ? 'is' : 'are'} on every action's start path but also imported with import(); import ${splitting.length === 1 ? 'it' : 'them'} statically`,
    );
  }
  const importers = new Set([...entries, ...[...targets].filter((path) => !start.has(path))]);
  for (const path of start) {
    const cycle = staticImports(path).find((imported) => importers.has(imported));
    if (cycle) throw new Error(`startChunk: ${path} imports ${cycle}, which would import slipway:start back`);
  }
  return {
    name: 'start-chunk',
    setup(build) {
      if (start.size === 0) return;
      build.onResolve({ filter: /^slipway:start$/ }, () => ({ path: 'start', namespace: 'slipway-start' }));
      build.onLoad({ filter: /.*/, namespace: 'slipway-start' }, () => ({
        contents: [...start]
          .sort()
          .map((path) => `import ${JSON.stringify(`./${path}`)};`)
          .join('\n'),
        resolveDir: root,
        loader: 'js',
      }));
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!importers.has(relative(root, args.path))) return undefined;
        return { contents: `${await readFile(args.path, 'utf8')}\nimport 'slipway:start';\n`, loader: 'ts' };
      });
    },
  };
}

/**
 * ajv is bundled for Slipway's own use (records are checked against schemas/ when read, in a chunk loaded only
 * then), but stays external where the CycloneDX library's optional validator plug-in asks for it, as before.
 */
const cycloneDxAjvExternal = {
  name: 'cyclonedx-ajv-external',
  setup(build) {
    build.onResolve({ filter: /^ajv(-formats(-draft2019)?)?(\/|$)/ }, (args) =>
      /[\\/]node_modules[\\/]@cyclonedx[\\/]/.test(args.importer) ? { path: args.path, external: true } : undefined,
    );
  },
};

/**
 * A package Slipway's own code loads with import() keeps its named exports in dist/. Node's import() of a CommonJS
 * package gives the names of its module.exports (`const { getTrustedRoot } = await import('@sigstore/tuf')`
 * works from source), but esbuild's split ESM output gives such a chunk only `export default`, so the same line
 * yields undefined from dist/ ("t is not a function"). Each such import goes through a small ESM module that
 * re-exports by name what Node's own import() of the package exports. Packages that are ESM already, and imports
 * inside dependencies, are left as they are.
 */
/** Whether Node loads `file` as an ES module: .mjs, or .js under a package.json that says "type": "module". */
function isEsModuleFile(file) {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
  }
  return false;
}

const dynamicImportNamedExports = {
  name: 'dynamic-import-named-exports',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind !== 'dynamic-import' || args.path.startsWith('node:')) return undefined;
      if (/[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
      let resolved;
      try {
        resolved = createRequire(args.importer).resolve(args.path);
      } catch {
        return undefined; // No CommonJS entry: an ESM-only package, which esbuild bundles with its names.
      }
      // An ES module (Octokit's packages) keeps its names through esbuild already; only CommonJS needs the wrapper.
      if (isEsModuleFile(resolved)) return undefined;
      return { path: args.path, namespace: 'named-exports', pluginData: { resolved, resolveDir: args.resolveDir } };
    });
    build.onLoad({ filter: /.*/, namespace: 'named-exports' }, async (args) => {
      const exported = await import(pathToFileURL(args.pluginData.resolved).href);
      const names = Object.keys(exported).filter(
        (name) => name !== 'default' && name !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(name),
      );
      const specifier = JSON.stringify(args.path);
      return {
        contents: [
          `import * as namespace from ${specifier};`,
          'export default namespace.default;',
          names.length ? `export const { ${names.join(', ')} } = namespace;` : '',
        ].join('\n'),
        resolveDir: args.pluginData.resolveDir,
        loader: 'js',
      };
    });
  },
};

async function packageVersion() {
  return JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version;
}

/** One section per bundled package: name, version, licence and the licence text it ships. */
async function licenses(metafile) {
  const packageDirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    if (input.startsWith('node-builtin:')) continue; // builtinsWithoutEsmFacade's shims, named after their importer
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packageDirs.add(match[1]);
  }
  const sections = [];
  for (const dir of [...packageDirs].sort()) {
    const pkg = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8'));
    const files = (await readdir(join(root, dir))).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)).sort();
    const texts = await Promise.all(files.map((f) => readFile(join(root, dir, f), 'utf8')));
    const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN');
    sections.push(
      `${pkg.name} ${pkg.version}\nLicense: ${license}\n\n${texts.join('\n').trim() || '(no licence file shipped)'}\n`,
    );
  }
  const header = 'Third-party software bundled in dist/ by scripts/build.mjs.\n';
  const body = sections.length ? sections.join(`\n${'-'.repeat(72)}\n\n`) : 'No third-party packages are bundled.\n';
  return `${header}\n${body}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, format: { type: 'string', default: 'esm' } } });
  if (!['esm', 'cjs'].includes(values.format)) {
    console.error(`--format is ${JSON.stringify(values.format)}: expected esm or cjs.`);
    process.exit(2);
  }
  await build({ outdir: values.outdir ? resolve(values.outdir) : undefined, format: values.format });
}
