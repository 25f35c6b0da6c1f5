import { isAbsolute, resolve } from 'node:path';
import { OciLayoutStore } from './layout.js';
import { formatImageReference, type ImageReference } from './reference.js';
import type { RegistryClient } from './registry.js';
import type { ImageStore } from './store.js';

// From a parsed reference to the store that holds it, so callers treat `ghcr.io/acme/api:v1` and
// `oci-layout:./out:v1` alike.

export interface OpenedReference {
  store: ImageStore;
  /** The tag or digest within the store to read; the digest wins when both are given, as docker does. */
  reference: string | undefined;
  /** The canonical name for records and messages: `ghcr.io/acme/api` or `oci-layout:/abs/dir`. */
  name: string;
}

export async function openReference(
  ref: ImageReference,
  options: { client: RegistryClient; workspace: string; createLayout?: boolean },
): Promise<OpenedReference> {
  const reference = ref.digest ?? ref.tag;
  if (ref.kind === 'layout') {
    const dir = isAbsolute(ref.path) ? ref.path : resolve(options.workspace, ref.path);
    const store = await OciLayoutStore.open(dir, { create: options.createLayout ?? false });
    return { store, reference, name: formatImageReference({ kind: 'layout', path: dir }) };
  }
  return {
    store: options.client.repository(ref.registry, ref.repository),
    reference,
    name: `${ref.registry}/${ref.repository}`,
  };
}
