import type { StorageLocation } from './types.js';

/** Where an attestation was stored or found, for messages. */
export function describeLocation(location: StorageLocation): string {
  switch (location.kind) {
    case 'referrer':
      return `referrer ${location.manifest} (${location.via})`;
    case 'github':
      return `GitHub attestation ${location.id ?? location.url ?? '(no id)'}`;
    case 'cosign-legacy':
      return `cosign tag ${location.tag}`;
  }
}
