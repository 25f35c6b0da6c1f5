import { isAttestationManifest, isIndex, platformString } from './manifest.js';
import { type ImageStore, readJsonBlob } from './store.js';
import type { Digest } from './types.js';

// The subject record every Slipway action passes on (DESIGN.md, "Data that flows between actions"):
// what was shipped, by digest, with each platform's own manifest digest. Attestation manifests that
// BuildKit puts into an index (platform unknown/unknown) are listed apart: they are not platforms, and
// pinning or scanning them as if they were is a classic mistake (build-push-action#820).

export interface Subject {
  name: string;
  digest: Digest;
  mediaType: string;
  size: number;
  /** `os/arch[/variant]` to that platform's manifest digest; one entry for a single-platform image. */
  platforms: Record<string, Digest>;
  /** Digests of attestation manifests found inside the index, keyed by the digest they describe. */
  attestationManifests?: Record<string, Digest>;
}

/** Reads the manifest at `reference` and describes it as a subject. */
export async function readSubject(store: ImageStore, name: string, reference: string): Promise<Subject> {
  const top = await store.getManifest(reference);
  const subject: Subject = { name, ...pick(top.descriptor), platforms: {} };
  if (!isIndex(top.manifest)) {
    const config = await readConfigPlatform(store, top.manifest.config);
    subject.platforms[config ?? 'unknown'] = top.descriptor.digest;
    return subject;
  }
  const attestations: Record<string, Digest> = {};
  for (const child of top.manifest.manifests) {
    if (isAttestationManifest(child)) {
      const describes = child.annotations?.['vnd.docker.reference.digest'] ?? 'unknown';
      attestations[describes] = child.digest;
    } else if (child.platform) {
      subject.platforms[platformString(child.platform)] = child.digest;
    } else {
      subject.platforms[`unknown/${child.digest}`] = child.digest;
    }
  }
  if (Object.keys(attestations).length > 0) subject.attestationManifests = attestations;
  return subject;
}

function pick(descriptor: { digest: Digest; mediaType: string; size: number }) {
  return { digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size };
}

/** A single manifest carries its platform in its config blob. */
async function readConfigPlatform(
  store: ImageStore,
  config: { digest: Digest; size: number; mediaType: string },
): Promise<string | undefined> {
  // Artifacts (SBOMs, signatures) have configs that are not image configs; they have no platform.
  if (!/image\.config|container\.image/.test(config.mediaType)) return undefined;
  const parsed = await readJsonBlob<{
    os?: string;
    architecture?: string;
    variant?: string;
  }>(store, config);
  if (!parsed.os || !parsed.architecture) return undefined;
  return platformString({
    os: parsed.os,
    architecture: parsed.architecture,
    ...(parsed.variant ? { variant: parsed.variant } : {}),
  });
}
