import type {
  BlobSource,
  ByteStream,
  ImageStore,
  PutManifestOptions,
  PutManifestResult,
} from '../../shared/oci/store.js';
import type { Descriptor, Digest, FetchedManifest } from '../../shared/oci/types.js';

/** Passes everything to another store; tests override single methods to observe or to disable mounting. */
export class ForwardingStore implements ImageStore {
  constructor(
    readonly inner: ImageStore,
    readonly location = `forwarding:${inner.location}`,
  ) {}
  resolve(reference: string): Promise<Descriptor | undefined> {
    return this.inner.resolve(reference);
  }
  getManifest(reference: string, expected?: Pick<Descriptor, 'digest' | 'size'>): Promise<FetchedManifest> {
    return this.inner.getManifest(reference, expected);
  }
  putManifest(bytes: Uint8Array, mediaType: string, options?: PutManifestOptions): Promise<PutManifestResult> {
    return this.inner.putManifest(bytes, mediaType, options);
  }
  hasBlob(digest: Digest): Promise<boolean> {
    return this.inner.hasBlob(digest);
  }
  getBlob(descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<ByteStream> {
    return this.inner.getBlob(descriptor);
  }
  putBlob(source: BlobSource): Promise<{ digest: Digest; size: number; uploaded: boolean }> {
    return this.inner.putBlob(source);
  }
  mountBlob(digest: Digest, from: ImageStore): Promise<boolean> {
    return this.inner.mountBlob(digest, from);
  }
  listTags(): Promise<string[]> {
    return this.inner.listTags();
  }
  async listUntagged(descriptor: Descriptor): Promise<void> {
    await this.inner.listUntagged?.(descriptor);
  }
  nativeReferrers(digest: Digest): Promise<Descriptor[] | undefined> {
    return this.inner.nativeReferrers(digest);
  }
}
