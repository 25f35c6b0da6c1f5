import { isMap, isScalar, parseDocument } from 'yaml';
import type { Digest } from '../oci/types.js';
import { HOLDS_FILE } from './types.js';
import { type Located, YamlSource } from './yaml-source.js';

// Holds: an environment held at what it runs now, recorded in the GitOps repository itself (.slipway/holds.yaml on
// the default branch) so that every run and every person sees the same state and a hold is set and cleared by
// reviewed commits like any promotion. A rollback sets one; `hold` sets one by hand; `release-hold` clears it.
// While an environment is held, only rollbacks and the release go in.
//
//   holds:
//     prod:
//       reason: rollback of sha256:… by https://github.com/acme/app/actions/runs/1
//       digest-by-service: { api: sha256:… }
//       by: https://github.com/acme/app/actions/runs/1
//       at: 2026-07-14T08:22:31Z

export interface Hold {
  reason: string;
  /** What the environment is held at. */
  digestByService: Record<string, Digest>;
  /** Who set it: the run's URL, or an actor. */
  by?: string;
  /** RFC 3339. */
  at?: string;
}

const HEADER =
  'Environments held by Slipway: promotions into a held environment are refused until a run with\n' +
  'release-hold clears the hold. Written by rollback, hold and release-hold; edit with care.';

const EXPECTED_FILE = 'a map with one key, holds, mapping environment names to holds';
const EXPECTED_HOLD = 'a map with reason, and optionally digest-by-service, by and at';

/** The holds in the file's text (absent file: none). A malformed file fails with its line and column. */
export function parseHolds(text: string | undefined, path = HOLDS_FILE): Map<string, Hold> {
  const holds = new Map<string, Hold>();
  if (text === undefined || text.trim() === '') return holds;
  const yaml = new YamlSource(text, path);
  const root = yaml.root();
  if (root.node === null) return holds;
  const top = yaml.mapOf(root, EXPECTED_FILE, ['holds']);
  const list = top.get('holds');
  if (list === undefined || list.node === null) return holds;
  for (const [environment, value] of yaml.mapOf(list, 'a map of environment names to holds')) {
    holds.set(environment, readHold(yaml, value));
  }
  return holds;
}

function readHold(yaml: YamlSource, value: Located): Hold {
  const fields = yaml.mapOf(value, EXPECTED_HOLD, ['reason', 'digest-by-service', 'by', 'at']);
  const reason = yaml.string(yaml.required(value, fields, 'reason', 'text saying why'), 'text saying why');
  const digestByService: Record<string, Digest> = {};
  const digests = fields.get('digest-by-service');
  if (digests !== undefined && digests.node !== null) {
    for (const [service, digest] of yaml.mapOf(digests, 'a map of service names to digests')) {
      digestByService[service] = yaml.string(digest, 'a digest, sha256:<64 hex>', /^sha256:[0-9a-f]{64}$/) as Digest;
    }
  }
  const by = fields.get('by');
  const at = fields.get('at');
  return {
    reason,
    digestByService,
    ...(by !== undefined && by.node !== null ? { by: yaml.string(by, 'text') } : {}),
    ...(at !== undefined && at.node !== null ? { at: yaml.string(at, 'an RFC 3339 time') } : {}),
  };
}

/**
 * The file's text with `environment` held (`hold`) or released (undefined). Other holds, comments and key order
 * stay; an absent file starts with a comment saying what it is.
 */
export function writeHold(text: string | undefined, environment: string, hold: Hold | undefined): string {
  const source = text === undefined || text.trim() === '' ? 'holds: {}\n' : text;
  const document = parseDocument(source, { version: '1.2' });
  if (text === undefined || text.trim() === '') document.commentBefore = ` ${HEADER.replace(/\n/g, '\n ')}`;
  if (!isMap(document.get('holds', true))) document.set('holds', document.createNode({}));
  const holds = document.get('holds', true);
  if (!isMap(holds)) throw new Error('unreachable: holds is a map');
  if (hold === undefined) {
    holds.delete(environment);
  } else {
    const node = document.createNode({
      reason: hold.reason,
      ...(Object.keys(hold.digestByService).length > 0 ? { 'digest-by-service': hold.digestByService } : {}),
      ...(hold.by !== undefined ? { by: hold.by } : {}),
      ...(hold.at !== undefined ? { at: hold.at } : {}),
    });
    holds.set(environment, node);
  }
  // An empty map is written `holds: {}` rather than `holds:` (which reads back as null).
  holds.flow = holds.items.length === 0;
  for (const pair of holds.items) {
    if (isScalar(pair.key)) pair.key.type = 'PLAIN';
  }
  return document.toString({ lineWidth: 0 });
}
