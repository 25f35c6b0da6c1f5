import { SlipwayError } from '../core/errors.js';

// Failures of a store operation, each naming where (registry or layout, repository) and what was attempted,
// so a user reading "push manifest to ghcr.io/acme/api failed: HTTP 403 DENIED" knows what to fix.

export interface StoreOperation {
  /** What was attempted, e.g. "push manifest", "read blob sha256:…". */
  operation: string;
  /** Where: `ghcr.io/acme/api` or `oci-layout:/path`. */
  location: string;
}

export class StoreError extends SlipwayError {
  override name = 'StoreError';
  constructor(
    readonly target: StoreOperation,
    readonly detail: string,
    /** HTTP status where the store is a registry. */
    readonly status?: number,
  ) {
    super(`${target.operation} at ${target.location} failed: ${detail}`);
  }
}

/** The manifest or blob does not exist. */
export class NotFoundError extends StoreError {
  override name = 'NotFoundError';
}

/** An If-Match guard failed: someone else changed the tag since we read it. */
export class ConflictError extends StoreError {
  override name = 'ConflictError';
}
