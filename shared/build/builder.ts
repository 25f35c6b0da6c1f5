import type { Logger } from '../core/logger.js';
import type { Digest } from '../oci/types.js';

// What every builder is given and what it hands back. A builder turns a build context into an image and
// says exactly which digest it made; what happens next (pushing, moving tags, checking the digest
// contract) is the same for all of them and lives in shared/build/build.ts.

export type BuilderName = 'buildx' | 'buildah' | 'native' | 'import';

/** A build secret, as docker and buildah take it: mounted at build time, never stored in the image. */
export interface BuildSecret {
  id: string;
  /** A file whose content is the secret. */
  src?: string;
  /** An environment variable whose value is the secret. */
  env?: string;
}

export interface ContainerfileBuild {
  /** Absolute path of the build context. */
  contextDir: string;
  /** Absolute path of the Containerfile or Dockerfile. */
  containerfile: string;
  /** `os/arch[/variant]`; empty means the builder's own platform. */
  platforms: string[];
  /** Build arguments in the order given; values may contain newlines. */
  buildArgs: [name: string, value: string][];
  secrets: BuildSecret[];
  /** Labels to put on the image config (OCI labels computed by Slipway plus the user's). */
  labels: Record<string, string>;
  /** Seconds since the epoch: the image's created time and, where the builder allows, its file times. */
  sourceDateEpoch: number;
  /** Multi-stage target, when given. */
  target?: string;
  logger: Logger;
  /** Environment for the builder's process. */
  env: Readonly<Record<string, string | undefined>>;
}

/** A built image as the builder reports it, before Slipway has checked it on the registry. */
export interface BuiltImage {
  digest: Digest;
  /** Which builder made it, as shown to the user. */
  builder: BuilderName;
  /** The builder's version, for the build record. */
  builderVersion?: string;
}
