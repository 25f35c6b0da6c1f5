import { parse as parseYaml } from 'yaml';
import { InvalidValueError } from '../core/errors.js';

// The exceptions file: a finding the team has accepted, with the reason why and the day the acceptance ends.
// An exception is in force through its expiry date (UTC) and lapses the day after; a lapsed exception
// suppresses nothing, and the gate names it and its date.

export interface Exception {
  id: string;
  reason: string;
  /** YYYY-MM-DD; the exception holds through this day (UTC). */
  expires: string;
  /** purls (with or without version and qualifiers) or plain package names; absent means every package. */
  packages?: string[];
  /** Where it came from, for messages: `file` and the entry's index. */
  source: { file: string; index: number };
}

/** Parses the exceptions YAML; every entry needs an id, a non-empty reason and a YYYY-MM-DD expiry. */
export function parseExceptions(text: string, file: string): Exception[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new InvalidValueError(`exceptions file ${file}`, '', 'YAML', (error as Error).message);
  }
  if (document === null || document === undefined) return [];
  const list = (document as { exceptions?: unknown }).exceptions;
  if (typeof document !== 'object' || (list !== undefined && !Array.isArray(list))) {
    throw new InvalidValueError(`exceptions file ${file}`, '', 'a mapping with an `exceptions:` list');
  }
  return (list ?? []).map((entry: unknown, index: number) => parseException(entry, file, index));
}

function parseException(entry: unknown, file: string, index: number): Exception {
  const field = (name: string) => `field '${name}' of exceptions[${index}] in ${file}`;
  if (typeof entry !== 'object' || entry === null) {
    throw new InvalidValueError(`exceptions[${index}] in ${file}`, String(entry), 'a mapping with id, reason, expires');
  }
  const raw = entry as Record<string, unknown>;
  const id = raw.id;
  if (typeof id !== 'string' || !/^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9:._-]*$/.test(id.trim())) {
    throw new InvalidValueError(
      field('id'),
      String(id ?? ''),
      'a vulnerability id such as CVE-2024-1234 or GHSA-xxxx-xxxx-xxxx',
      id === undefined ? 'missing' : undefined,
    );
  }
  const reason = raw.reason;
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new InvalidValueError(
      field('reason'),
      typeof reason === 'string' ? reason : '',
      'a non-empty reason',
      reason === undefined ? 'missing' : 'empty',
    );
  }
  const expires = expiryDate(raw.expires);
  if (expires === undefined) {
    throw new InvalidValueError(
      field('expires'),
      raw.expires === undefined ? '' : String(raw.expires),
      'a date YYYY-MM-DD',
      raw.expires === undefined ? 'missing (every exception must expire)' : 'not a valid calendar date',
    );
  }
  let packages: string[] | undefined;
  if (raw.packages !== undefined) {
    if (!Array.isArray(raw.packages) || raw.packages.some((p) => typeof p !== 'string' || p.trim() === '')) {
      throw new InvalidValueError(field('packages'), JSON.stringify(raw.packages), 'a list of purls or package names');
    }
    packages = (raw.packages as string[]).map((p) => p.trim());
  }
  return { id: id.trim(), reason: reason.trim(), expires, ...(packages ? { packages } : {}), source: { file, index } };
}

function expiryDate(value: unknown): string | undefined {
  // YAML 1.1 loaders turn an unquoted date into a Date; accept that as well as the string.
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value.trim())) return undefined;
  const date = new Date(`${value.trim()}T00:00:00Z`);
  // Date rolls 2025-02-30 over to March; the round trip catches dates that do not exist.
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value.trim() ? value.trim() : undefined;
}

/** Whether an exception has lapsed: it holds through its expiry day in UTC. */
export function isExpired(exception: Exception, now: Date): boolean {
  return now.getTime() > Date.parse(`${exception.expires}T23:59:59.999Z`);
}
