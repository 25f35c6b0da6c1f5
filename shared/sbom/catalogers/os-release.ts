import type { Distro, FileReader, ReadResult } from '../types.js';
import { lines } from './text.js';

// os-release(5): KEY=value lines in shell syntax. etc/os-release is the admin's copy and wins over the
// vendor's usr/lib/os-release; on Debian and others etc/os-release is a symlink to the latter, and the
// walker only reads regular files, so then only the usr/lib result exists and is used.

const ETC = 'etc/os-release';
const USR_LIB = 'usr/lib/os-release';

/** The fields of one os-release file; only the keys the Distro needs are kept. */
export type OsReleaseFields = Record<string, string>;

const KEPT = new Set(['ID', 'ID_LIKE', 'VERSION_ID', 'VERSION_CODENAME', 'PRETTY_NAME']);

export const osReleaseReader: FileReader<OsReleaseFields> = {
  name: 'os-release',
  wants: (path, header) => header.type === 'file' && (path === ETC || path === USR_LIB),
  async read(content) {
    const fields: OsReleaseFields = {};
    for await (const line of lines(content)) {
      const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (!match) continue;
      const [, key, raw] = match;
      if (key && raw !== undefined && KEPT.has(key)) fields[key] = unquoteShell(raw);
    }
    return fields;
  },
};

/**
 * Undoes shell quoting as os-release(5) allows it: "double quotes" with \ escaping $ " \ and `,
 * 'single quotes' taken literally, and backslash escapes outside quotes. An unquoted blank or # ends
 * the value, as it would in the shell.
 */
export function unquoteShell(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '"') {
      i++;
      while (i < raw.length && raw[i] !== '"') {
        if (raw[i] === '\\' && i + 1 < raw.length && '$"\\`'.includes(raw[i + 1]!)) i++;
        out += raw[i];
        i++;
      }
      i++;
    } else if (c === "'") {
      i++;
      while (i < raw.length && raw[i] !== "'") out += raw[i++];
      i++;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[i + 1];
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '#') {
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The image's Distro from the os-release results, preferring etc/ over usr/lib/. */
export function distroFrom(results: readonly ReadResult<OsReleaseFields>[]): Distro | undefined {
  const chosen = results.find((r) => r.path === ETC) ?? results.find((r) => r.path === USR_LIB);
  const fields = chosen?.value;
  if (!fields?.ID) return undefined;
  const distro: Distro = { id: fields.ID.toLowerCase() };
  if (fields.VERSION_ID) distro.versionId = fields.VERSION_ID;
  if (fields.VERSION_CODENAME) distro.codename = fields.VERSION_CODENAME;
  if (fields.PRETTY_NAME) distro.prettyName = fields.PRETTY_NAME;
  return distro;
}
