import { InvalidValueError } from '../core/errors.js';
import { isIndex } from './manifest.js';
import { parseTag } from './reference.js';
import { listReferrers, pushReferrer } from './referrers.js';
import type { ImageStore } from './store.js';
import type { Descriptor, Digest, FetchedManifest } from './types.js';

// Copying an image (a manifest or an index, with everything it references) between any two stores.
// The order of writes is the safety property: every blob before any manifest, every child manifest
// before its index, referrers after their subjects, and tags last. So whatever point a copy fails or
// is interrupted at, no tag in the target names content that is not there, and re-running it only
// fills in what is missing.

const DEFAULT_CONCURRENCY = 4;

export type CopyProgressEvent =
  | { type: 'blob'; digest: Digest; size: number; action: 'copied' | 'mounted' | 'skipped' }
  | { type: 'manifest'; digest: Digest; mediaType: string; action: 'copied' | 'skipped' }
  | { type: 'referrer'; digest: Digest; subject: Digest; action: 'copied' | 'skipped' }
  | { type: 'tag'; tag: string; digest: Digest; action: 'set' | 'unchanged' };

export interface CopyOptions {
  from: ImageStore;
  to: ImageStore;
  /** Tag or digest in `from`. */
  reference: string;
  /** Tags to set in `to` once everything else is there; by default none (the image is copied by digest). */
  tags?: string[];
  /** Also copy the referrers (signatures, SBOMs, attestations) of every manifest copied, with their blobs. */
  referrers?: boolean;
  /** Blobs copied at once (default 4). */
  concurrency?: number;
  onProgress?: (event: CopyProgressEvent) => void;
}

export interface CopyReport {
  /** What `reference` resolved to in `from`, and now names in `to`. */
  descriptor: Descriptor;
  /** Manifests in the copied graph (indexes, image manifests and referrers), whether written or already there. */
  manifests: number;
  blobs: { copied: number; mounted: number; skipped: number };
  /** Blob and manifest bytes written to `to`; 0 when everything was already there. */
  bytesCopied: number;
}

interface PlannedManifest {
  fetched: FetchedManifest;
  /** Set for a referrer, which is pushed with pushReferrer so `to` lists it under this subject. */
  subject?: Digest;
}

export async function copyImage(options: CopyOptions): Promise<CopyReport> {
  const { from, to, reference } = options;
  const tags = (options.tags ?? []).map((tag) => parseTag(tag));
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidValueError('copy concurrency', String(concurrency), 'a positive integer');
  }
  const notify = options.onProgress ?? (() => undefined);

  const top = await from.getManifest(reference);
  const planner = new Planner(from);
  const images = await planner.walk(top);
  const referrers = options.referrers ? await planner.walkReferrers(images) : [];

  const report: CopyReport = {
    descriptor: top.descriptor,
    manifests: images.length + referrers.length,
    blobs: { copied: 0, mounted: 0, skipped: 0 },
    bytesCopied: 0,
  };

  await forEachLimited([...planner.blobs.values()], concurrency, async (blob) => {
    const action = await copyBlob(from, to, blob);
    report.blobs[action]++;
    if (action === 'copied') report.bytesCopied += blob.size;
    notify({ type: 'blob', digest: blob.digest, size: blob.size, action });
  });

  for (const { fetched, subject } of [...images, ...referrers]) {
    const { digest, mediaType } = fetched.descriptor;
    const present = (await to.resolve(digest)) !== undefined;
    if (!present) report.bytesCopied += fetched.bytes.byteLength;
    if (subject === undefined) {
      if (!present) await to.putManifest(fetched.bytes, mediaType);
      notify({ type: 'manifest', digest, mediaType, action: present ? 'skipped' : 'copied' });
    } else {
      // Even when the manifest is there, its listing under the subject may not be (an interrupted run).
      await pushReferrer(to, fetched.bytes, mediaType);
      notify({ type: 'referrer', digest, subject, action: present ? 'skipped' : 'copied' });
    }
  }

  // Copied by digest alone, the image is still listed where the store keeps a list (a layout's index.json),
  // or skopeo and crane would find nothing there.
  if (tags.length === 0) await to.listUntagged?.(top.descriptor);
  for (const tag of tags) {
    const current = await to.resolve(tag);
    const unchanged = current?.digest === top.descriptor.digest;
    if (!unchanged) await to.putManifest(top.bytes, top.descriptor.mediaType, { tag });
    notify({ type: 'tag', tag, digest: top.descriptor.digest, action: unchanged ? 'unchanged' : 'set' });
  }
  return report;
}

/** Finds every manifest and blob to copy, reading manifests from `from` once each. */
class Planner {
  readonly blobs = new Map<Digest, Descriptor>();
  private readonly seen = new Set<Digest>();

  constructor(private readonly from: ImageStore) {}

  /** `root` and the manifests below it, children before parents (the order they must be written in). */
  async walk(root: FetchedManifest, subject?: Digest): Promise<PlannedManifest[]> {
    const order: PlannedManifest[] = [];
    const visit = async (fetched: FetchedManifest, referrerOf?: Digest): Promise<void> => {
      this.seen.add(fetched.descriptor.digest);
      const { manifest } = fetched;
      if (isIndex(manifest)) {
        for (const child of manifest.manifests) {
          if (this.seen.has(child.digest)) continue;
          await visit(await this.fetchChild(child));
        }
      } else {
        for (const blob of [manifest.config, ...manifest.layers]) await this.addBlob(blob);
      }
      order.push(referrerOf === undefined ? { fetched } : { fetched, subject: referrerOf });
    };
    await visit(root, subject);
    return order;
  }

  /**
   * The referrers of every manifest in `images`, and theirs in turn (a signature on an SBOM), each
   * after its subject.
   */
  async walkReferrers(images: PlannedManifest[]): Promise<PlannedManifest[]> {
    const order: PlannedManifest[] = [];
    const subjects = images.map((planned) => planned.fetched.descriptor.digest);
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[i]!;
      for (const referrer of await listReferrers(this.from, subject)) {
        if (this.seen.has(referrer.digest)) continue;
        const found = await this.walk(await this.fetchChild(referrer), subject);
        order.push(...found);
        subjects.push(...found.map((planned) => planned.fetched.descriptor.digest));
      }
    }
    return order;
  }

  private async fetchChild(descriptor: Descriptor): Promise<FetchedManifest> {
    // Digest and size are checked by getManifest; a size that disagrees means the parent is corrupt.
    return this.from.getManifest(descriptor.digest, descriptor);
  }

  private async addBlob(blob: Descriptor): Promise<void> {
    if (this.blobs.has(blob.digest)) return;
    // Foreign layers (Windows base images) live at their `urls` and are commonly absent from the
    // source; they are left for the runtime to fetch, as docker and skopeo do.
    if (blob.urls !== undefined && blob.urls.length > 0 && !(await this.from.hasBlob(blob.digest))) return;
    this.blobs.set(blob.digest, { digest: blob.digest, size: blob.size, mediaType: blob.mediaType });
  }
}

async function copyBlob(from: ImageStore, to: ImageStore, blob: Descriptor): Promise<'copied' | 'mounted' | 'skipped'> {
  if (await to.hasBlob(blob.digest)) return 'skipped';
  if (await to.mountBlob(blob.digest, from)) return 'mounted';
  const stream = await from.getBlob(blob);
  const { uploaded } = await to.putBlob({ stream, digest: blob.digest, size: blob.size });
  // Not uploaded means another writer put it there in the meantime.
  return uploaded ? 'copied' : 'skipped';
}

/** Runs `task` over `items`, at most `limit` at a time; after a failure starts no more and rethrows it. */
async function forEachLimited<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}
