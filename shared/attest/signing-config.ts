import { fileError, readUserJson, type UserFile } from '../core/files.js';
import type { SigstoreEndpoints } from './run-sign.js';

// The signing-config input of every action that signs (sign, and evidence's attestation): where Fulcio, Rekor and
// the timestamp authority are, read once here so both actions accept the same file and say the same on a mistake.

export const SIGNING_CONFIG = 'a Sigstore signing config (JSON) naming caUrls, rekorTlogUrls or tsaUrls';

/**
 * A Sigstore signing config: the protobuf JSON (caUrls, rekorTlogUrls, tsaUrls, each with a url) or a plain
 * {fulcioUrl, rekorUrl, tsaUrl}. Only the first URL of each service is used.
 */
export function readSigningConfig(file: UserFile): SigstoreEndpoints {
  const json = readUserJson(file, SIGNING_CONFIG);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw fileError(file, SIGNING_CONFIG, `${file.path} is JSON but not an object`);
  }
  const raw = json as Record<string, unknown>;
  const url = (field: string, value: unknown): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !/^https?:\/\/\S+$/.test(value) || !URL.canParse(value)) {
      throw fileError(file, SIGNING_CONFIG, `${file.path}: field ${field} is not an http(s) URL`);
    }
    return value;
  };
  const first = (key: string) => {
    const list = raw[key];
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) throw fileError(file, SIGNING_CONFIG, `${file.path}: field ${key} is not a list`);
    return url(`${key}[0].url`, (list[0] as { url?: unknown } | undefined)?.url);
  };
  const config = {
    fulcioUrl: url('fulcioUrl', raw.fulcioUrl) ?? first('caUrls'),
    rekorUrl: url('rekorUrl', raw.rekorUrl) ?? first('rekorTlogUrls') ?? first('tlogUrls'),
    tsaUrl: url('tsaUrl', raw.tsaUrl) ?? first('tsaUrls'),
  };
  if (!config.fulcioUrl && !config.rekorUrl && !config.tsaUrl) {
    throw fileError(file, SIGNING_CONFIG, `${file.path} names no service`);
  }
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v)) as SigstoreEndpoints;
}
