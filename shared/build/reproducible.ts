import { isAttestationManifest, isIndex, platformString } from '../oci/manifest.js';
import { type ImageStore, readJsonBlob } from '../oci/store.js';
import type { Descriptor, Digest, ImageManifest } from '../oci/types.js';

// Comparing a build with its rebuild. Equal digests end the question; unequal ones are only useful when
// the report says where they part: which platform, which layer (by position and diff_id, the content
// before compression), or which fields of the config (a timestamp, a label, the history).

export interface ImageAt {
  store: ImageStore;
  digest: Digest;
}

export interface Reproducibility {
  reproducible: boolean;
  first: Digest;
  second: Digest;
  /** Human-readable differences; empty when reproducible. */
  differences: string[];
}

export async function compareBuilds(first: ImageAt, second: ImageAt): Promise<Reproducibility> {
  const differences: string[] = [];
  if (first.digest !== second.digest) await compareManifests(first, second, '', differences);
  return { reproducible: first.digest === second.digest, first: first.digest, second: second.digest, differences };
}

async function compareManifests(a: ImageAt, b: ImageAt, where: string, out: string[]): Promise<void> {
  const [ma, mb] = await Promise.all([a.store.getManifest(a.digest), b.store.getManifest(b.digest)]);
  if (ma.descriptor.mediaType !== mb.descriptor.mediaType) {
    out.push(`${where}media type ${ma.descriptor.mediaType} vs ${mb.descriptor.mediaType}`);
    return;
  }
  if (isIndex(ma.manifest) && isIndex(mb.manifest)) {
    const pa = byPlatform(ma.manifest.manifests);
    const pb = byPlatform(mb.manifest.manifests);
    for (const key of new Set([...pa.keys(), ...pb.keys()])) {
      const da = pa.get(key);
      const db = pb.get(key);
      if (!da || !db) out.push(`${where}platform ${key} only in the ${da ? 'first' : 'second'} build`);
      else if (da.digest !== db.digest) {
        await compareManifests(
          { store: a.store, digest: da.digest },
          { store: b.store, digest: db.digest },
          `${key}: `,
          out,
        );
      }
    }
    if (out.length === 0) out.push(`${where}the index differs in annotations or order only`);
    return;
  }
  if (isIndex(ma.manifest) || isIndex(mb.manifest)) {
    out.push(`${where}one build is an index, the other a single manifest`);
    return;
  }
  await compareImageManifests(a, ma.manifest, b, mb.manifest as ImageManifest, where, out);
}

async function compareImageManifests(
  a: ImageAt,
  ma: ImageManifest,
  b: ImageAt,
  mb: ImageManifest,
  where: string,
  out: string[],
): Promise<void> {
  const before = out.length;
  const [ca, cb] = await Promise.all([
    readJsonBlob<Record<string, unknown>>(a.store, ma.config),
    readJsonBlob<Record<string, unknown>>(b.store, mb.config),
  ]);
  const diffIdsA = (ca.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? [];
  const diffIdsB = (cb.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? [];
  if (ma.layers.length !== mb.layers.length) {
    out.push(`${where}${ma.layers.length} layers vs ${mb.layers.length}`);
  }
  for (let i = 0; i < Math.min(ma.layers.length, mb.layers.length); i++) {
    const la = ma.layers[i]!;
    const lb = mb.layers[i]!;
    if (la.digest === lb.digest) continue;
    const content =
      diffIdsA[i] === diffIdsB[i] ? 'same content, compressed differently' : `diff_id ${diffIdsA[i]} vs ${diffIdsB[i]}`;
    out.push(`${where}layer ${i + 1} ${la.digest} vs ${lb.digest} (${content})`);
  }
  if (ma.config.digest !== mb.config.digest) {
    const fields = differingFields(ca, cb);
    out.push(
      `${where}config ${ma.config.digest} vs ${mb.config.digest}${fields.length ? ` (differs in ${fields.join(', ')})` : ''}`,
    );
  }
  if (out.length === before) out.push(`${where}the manifests differ in annotations only`);
}

/** Dotted paths of the config fields that differ, one level into `config` (Env, Labels, …). */
function differingFields(a: Record<string, unknown>, b: Record<string, unknown>, prefix = ''): string[] {
  const fields: string[] = [];
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const va = a[key];
    const vb = b[key];
    if (JSON.stringify(va) === JSON.stringify(vb)) continue;
    const nested = prefix === '' && key === 'config' && isObject(va) && isObject(vb);
    fields.push(...(nested ? differingFields(va, vb, 'config.') : [`${prefix}${key}`]));
  }
  return fields;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function byPlatform(descriptors: readonly Descriptor[]): Map<string, Descriptor> {
  const map = new Map<string, Descriptor>();
  for (const d of descriptors) {
    const key = isAttestationManifest(d)
      ? `attestation ${d.annotations?.['vnd.docker.reference.digest'] ?? d.digest}`
      : d.platform
        ? platformString(d.platform)
        : d.digest;
    map.set(key, d);
  }
  return map;
}
