import { PackageURL } from 'packageurl-js';
import type { FileReader, Package, ReadResult } from '../types.js';
import { locationOf } from './text.js';

// Go binaries carry their module list in the build info blob (what debug/buildinfo.Read finds): a 32-byte
// header starting with "\xff Go buildinf:" at a 16-byte aligned offset, then, since Go 1.18 (flags & 2),
// the Go version and the modinfo text as varint-prefixed strings right after the header. Older binaries
// point into the data segment instead, which needs the ELF/Mach-O/PE address map; those are reported as
// unsupported rather than parsed. The stream is scanned once and abandoned as soon as both strings are in.

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const FLAG_INLINE_STRINGS = 2;
const MAX_BINARY = 512 * 1024 * 1024;
/** Once the header is found, the strings follow at once; more than this means it was not real build info. */
const MAX_STRINGS = 16 * 1024 * 1024;

export type GoBinaryInfo =
  | { kind: 'buildinfo'; goVersion: string; modinfo: string }
  | { kind: 'unsupported'; reason: string };

export const goBinaryReader: FileReader<GoBinaryInfo> = {
  name: 'go-binary',
  wants: (_path, header) =>
    header.type === 'file' && (header.mode & 0o111) !== 0 && header.size > 0 && header.size <= MAX_BINARY,
  read: (content) => scanBuildInfo(content),
};

type Parsed = GoBinaryInfo | 'more' | 'invalid';

/** Scans a stream for the first valid, aligned build info header and returns what it holds. */
export async function scanBuildInfo(content: AsyncIterable<Uint8Array>): Promise<GoBinaryInfo | undefined> {
  // Pulled by hand so stopping early does not call return() on the walker's stream (it drains it).
  const iterator = content[Symbol.asyncIterator]();
  let window: Buffer = Buffer.alloc(0);
  /** File offset of window[0]. */
  let base = 0;
  /** Whether window starts at an aligned magic. */
  let anchored = false;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return undefined;
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    window = window.length === 0 ? chunk : Buffer.concat([window, chunk]);
    for (;;) {
      if (!anchored) {
        const at = alignedMagic(window, base);
        if (at < 0) {
          // Keep a tail that could be the start of a magic split across chunks.
          const keep = Math.min(window.length, MAGIC.length - 1);
          base += window.length - keep;
          window = Buffer.from(window.subarray(window.length - keep));
          break;
        }
        base += at;
        window = window.subarray(at);
        anchored = true;
      }
      const parsed = parseHeader(window);
      if (parsed === 'more') {
        if (window.length > MAX_STRINGS) return undefined;
        break;
      }
      if (parsed === 'invalid') {
        // The bytes happen to spell the magic (debug/buildinfo's own constant, say); look further on.
        base += 1;
        window = window.subarray(1);
        anchored = false;
        continue;
      }
      return parsed;
    }
  }
}

function alignedMagic(window: Buffer, base: number): number {
  let from = 0;
  for (;;) {
    const at = window.indexOf(MAGIC, from);
    if (at < 0 || (base + at) % 16 === 0) return at;
    from = at + 1;
  }
}

function parseHeader(buf: Buffer): Parsed {
  if (buf.length < HEADER_SIZE) return 'more';
  const ptrSize = buf[14];
  const flags = buf[15]!;
  if (ptrSize !== 4 && ptrSize !== 8) return 'invalid';
  if ((flags & FLAG_INLINE_STRINGS) === 0) {
    return { kind: 'unsupported', reason: 'unsupported Go < 1.18 build info (pointer format)' };
  }
  const version = readString(buf, HEADER_SIZE);
  if (version === 'more' || version === 'invalid') return version;
  const modinfo = readString(buf, version.end);
  if (modinfo === 'more' || modinfo === 'invalid') return modinfo;
  const goVersion = version.text;
  if (!goVersion.startsWith('go') && !goVersion.startsWith('devel')) return 'invalid';
  return { kind: 'buildinfo', goVersion, modinfo: stripSentinels(modinfo.text) };
}

function readString(buf: Buffer, offset: number): { text: string; end: number } | 'more' | 'invalid' {
  // Unsigned LEB128 (Go's binary.Uvarint); lengths above MAX_STRINGS mean these are not our bytes.
  let length = 0;
  let shift = 0;
  let at = offset;
  for (;;) {
    if (at >= buf.length) return 'more';
    const byte = buf[at++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 63) return 'invalid';
  }
  if (length > MAX_STRINGS) return 'invalid';
  if (at + length > buf.length) return 'more';
  return { text: buf.toString('utf8', at, at + length), end: at + length };
}

/**
 * cmd/go wraps modinfo in two 16-byte sentinels (hex 3077af0c…e6 and f9324331…f2). Like debug/buildinfo,
 * judge by position rather than content: keep the text between them when the end one sits after a newline.
 */
function stripSentinels(modinfo: string): string {
  if (modinfo.length >= 33 && modinfo[modinfo.length - 17] === '\n') return modinfo.slice(16, -16);
  return '';
}

/** runtime/debug.Module */
export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModule;
}

/** runtime/debug.BuildInfo */
export interface GoBuildInfo {
  goVersion: string;
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  settings: { key: string; value: string }[];
}

/** runtime/debug.ParseBuildInfo, lenient: a malformed line is skipped rather than failing the binary. */
export function parseModinfo(goVersion: string, modinfo: string): GoBuildInfo {
  const info: GoBuildInfo = { goVersion, deps: [], settings: [] };
  let last: GoModule | undefined;
  for (const line of modinfo.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const word = line.slice(0, tab);
    const rest = line.slice(tab + 1);
    if (word === 'path') {
      info.path = rest;
    } else if (word === 'mod' || word === 'dep') {
      const module = moduleOf(rest);
      if (!module) continue;
      if (word === 'mod') info.main = module;
      else info.deps.push(module);
      last = module;
    } else if (word === '=>') {
      const module = moduleOf(rest);
      if (module && last && !last.replace) last.replace = module;
      last = undefined;
    } else if (word === 'build') {
      const setting = settingOf(rest);
      if (setting) info.settings.push(setting);
    } else if (word === 'go') {
      info.goVersion = rest;
    }
  }
  return info;
}

function moduleOf(text: string): GoModule | undefined {
  const fields = text.split('\t');
  if (fields.length !== 2 && fields.length !== 3) return undefined;
  const [path, version, sum] = fields;
  if (!path) return undefined;
  const module: GoModule = { path, version: version ?? '' };
  if (sum) module.sum = sum;
  return module;
}

/** `key=value`, where cmd/go quotes (strconv.Quote) a key or value holding blanks, quotes or `=`. */
function settingOf(text: string): { key: string; value: string } | undefined {
  let key: string;
  let rest: string;
  if (text.startsWith('"')) {
    const end = quotedEnd(text);
    if (end < 0) return undefined;
    key = unquoteGo(text.slice(0, end + 1));
    rest = text.slice(end + 1);
    if (!rest.startsWith('=')) return undefined;
    rest = rest.slice(1);
  } else {
    const eq = text.indexOf('=');
    if (eq <= 0) return undefined;
    key = text.slice(0, eq);
    rest = text.slice(eq + 1);
  }
  const value = rest.startsWith('"') ? unquoteGo(rest) : rest;
  return { key, value };
}

function quotedEnd(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/** Go quoting is close enough to JSON for ldflags and the like; fall back to the raw text otherwise. */
function unquoteGo(quoted: string): string {
  try {
    const value: unknown = JSON.parse(quoted);
    return typeof value === 'string' ? value : quoted;
  } catch {
    return quoted;
  }
}

/** pkg:golang/<namespace>/<name>: packageurl-js would percent-encode the slashes of a whole module path. */
export function goPurl(modulePath: string, version: string | undefined): string {
  const slash = modulePath.lastIndexOf('/');
  const namespace = slash > 0 ? modulePath.slice(0, slash) : undefined;
  const name = slash > 0 ? modulePath.slice(slash + 1) : modulePath;
  return new PackageURL('golang', namespace, name, version || undefined, undefined, undefined).toString();
}

/** A replacement by directory (go.mod `replace x => ../x`) rather than by module. */
function isLocalPath(path: string): boolean {
  return path.startsWith('./') || path.startsWith('../') || path.startsWith('/') || path === '.' || path === '..';
}

/** "go1.22.1" or "go1.22.1 X:boringcrypto" → "1.22.1". */
export function stdlibVersion(goVersion: string): string {
  const first = goVersion.trim().split(/\s+/)[0] ?? '';
  return first.startsWith('go') ? first.slice(2) : first;
}

/**
 * The main module (its version as stamped, `(devel)` kept like syft), every dependency (a module
 * replacement is what was built, so it is reported; a local directory replacement, `=> ../dep (devel)`,
 * names no module, so the required module is kept with the directory as a property), and the standard
 * library.
 */
export function goPackages(results: readonly ReadResult<GoBinaryInfo>[]): Package[] {
  const packages: Package[] = [];
  for (const result of results) {
    if (result.value.kind !== 'buildinfo') continue;
    const info = parseModinfo(result.value.goVersion, result.value.modinfo);
    const location = locationOf(result);
    const toolchain = { 'go.toolchain': info.goVersion };
    if (info.main?.path) {
      const version = info.main.version || '(devel)';
      const properties: Record<string, string> = { ...toolchain, 'go.main': 'true' };
      if (info.path) properties['go.path'] = info.path;
      for (const { key, value } of info.settings) properties[`go.build.${key}`] = value;
      packages.push({
        ecosystem: 'golang',
        name: info.main.path,
        version,
        purl: goPurl(info.main.path, version),
        licenses: [],
        location,
        properties,
      });
    }
    for (const dep of info.deps) {
      const built = dep.replace && !isLocalPath(dep.replace.path) ? dep.replace : dep;
      const properties: Record<string, string> = { ...toolchain };
      if (built.sum) properties['go.sum'] = built.sum;
      if (dep.replace && built === dep) properties['go.replacedBy'] = dep.replace.path;
      else if (dep.replace) properties['go.replaces'] = `${dep.path}@${dep.version}`;
      packages.push({
        ecosystem: 'golang',
        name: built.path,
        version: built.version,
        purl: goPurl(built.path, built.version),
        licenses: [],
        location,
        properties,
      });
    }
    const stdlib = stdlibVersion(info.goVersion);
    if (stdlib) {
      packages.push({
        ecosystem: 'golang',
        name: 'stdlib',
        version: stdlib,
        purl: goPurl('stdlib', stdlib),
        licenses: ['BSD-3-Clause'],
        location,
        properties: toolchain,
      });
    }
  }
  return packages;
}
