import type { Requirement } from '../evidence/requirements.js';
import type { EvidenceException } from '../evidence/types.js';
import type { Digest } from '../oci/types.js';

// The shapes the promote modules share: the GitOps repository's policy (.slipway.yaml), the manifest editors,
// and the repositories (GitHub or a local path) that plans are read from and written to. The orchestration
// (run-promote.ts) sees only these interfaces and never branches on which editor or repository it has.

/** One image pinned by digest, as a manifest names it. `name` is the repository, without tag or digest. */
export interface ImagePin {
  name: string;
  digest: Digest;
  tag?: string;
}

// --- .slipway.yaml ----------------------------------------------------------------------------------------

export interface SlipwayConfig {
  version: 1;
  environments: EnvironmentConfig[];
  services: Record<string, ServiceConfig>;
  policy: PolicyConfig;
  /** Where the policy was read from, for messages. */
  source: { path: string };
}

export interface EnvironmentConfig {
  name: string;
  /** `pull-request: false` commits straight to the default branch. */
  pullRequest: boolean;
  /** The environments a digest must have passed through first; one name means all-of that one. */
  after: { environments: string[]; mode: 'all-of' | 'any-of' } | undefined;
  /** How long the digest must have been pinned in the previous environment(s). */
  soakMs: number;
  reviewers: string[];
  labels: string[];
  autoMerge: boolean;
  freeze: FreezeWindow[];
  /** Overrides policy.signers for this environment. */
  signers?: SignerPolicy[];
  /** `require-evidence:` what the evidence attestation on a digest must show before it is promoted here. */
  requireEvidence?: Requirement[];
  /** `evidence-exceptions:` audited exceptions to requireEvidence, each valid until its end. */
  evidenceExceptions?: EvidenceException[];
}

export interface FreezeWindow {
  start: Date;
  end: Date;
  reason: string;
}

export interface ServiceConfig {
  image: string;
  /** By environment name. */
  targets: Record<string, TargetConfig>;
}

export interface TargetConfig {
  file: string;
  /** Detected from the file when absent. */
  kind?: EditorKind;
  helm?: HelmPaths;
  /** Only this container, where a manifest runs the image in several. */
  container?: string;
  /** For .argocd-source-<app>.yaml and Application files naming several apps. */
  application?: string;
}

export type EditorKind =
  | 'kustomization'
  | 'helm-values'
  | 'manifest'
  | 'argocd-application'
  | 'argocd-source'
  | 'flux-marker';

/** Every editor kind, in the order the docs list them; config validation and the editors' index both read it. */
export const EDITOR_KINDS: readonly EditorKind[] = [
  'kustomization',
  'helm-values',
  'manifest',
  'argocd-application',
  'argocd-source',
  'flux-marker',
];

/** Dotted key paths in a Helm values file; `image` names one key holding `repo:tag@digest`. */
export interface HelmPaths {
  digest?: string;
  tag?: string;
  repository?: string;
  image?: string;
}

/** Who may have signed: a workflow identity, or a PEM public key whose path is in the GitOps repository. */
export type SignerPolicy =
  | { repository: string; workflow?: string; ref?: string; signerWorkflow?: string }
  | { key: string };

export interface PolicyConfig {
  signers: SignerPolicy[];
  /** Predicate types every promoted digest must carry, verified. */
  require: string[];
}

// --- manifest editors ---------------------------------------------------------------------------------------

export interface EditTarget {
  file: string;
  kind: EditorKind;
  /** The image repository as configured for the service, e.g. ghcr.io/acme/api. */
  image: string;
  helm?: HelmPaths;
  container?: string;
  application?: string;
}

export interface EditResult {
  text: string;
  changed: boolean;
  before: ImagePin[];
  after: ImagePin[];
}

export interface ManifestEditor {
  kind: EditorKind;
  /** What the file pins for target.image today; empty when it names the image nowhere. */
  read(text: string, target: EditTarget): ImagePin[];
  /** Pins `pin` wherever the file names target.image, refusing ambiguity; applying twice changes nothing. */
  apply(text: string, target: EditTarget, pin: ImagePin): EditResult;
}

// --- repositories -------------------------------------------------------------------------------------------

export interface PinHistoryEntry {
  commit: string;
  time: Date;
  /** The file's text at that commit; undefined where it did not exist. */
  text: string | undefined;
  /** The commit message, whose trailers say which promotion made it. */
  message: string;
}

export interface RepositorySnapshot {
  defaultBranch: string;
  /** The default branch's head commit that everything here was read at. */
  head: string;
  /** Text at head by path; undefined where the file does not exist. */
  files: Map<string, string | undefined>;
  /** Newest first: commits on the default branch that touched the path, with its text at each. */
  history: Map<string, PinHistoryEntry[]>;
  /** The promotion branch, when it exists, and its open pull request. */
  branch?: {
    name: string;
    head: string;
    pullRequest?: { number: number; url: string; id: string; headOid: string };
    /**
     * Texts at the branch head for the read paths, where the repository read them: a re-run whose branch already
     * holds exactly the planned texts changes nothing (changed=false). GitHub returns them only while the branch
     * has an open pull request, so a branch left behind by a closed one is reset and gets a new pull request.
     */
    files?: Map<string, string | undefined>;
  };
}

export interface ReadRequest {
  paths: string[];
  historyPaths: string[];
  historyDepth: number;
  /** The promotion branch to look up: slipway/<env>/<service or bundle id>. */
  branch: string;
}

export interface FileChange {
  path: string;
  /** The whole new contents. */
  text: string;
}

export interface WriteRequest {
  snapshot: RepositorySnapshot;
  branch: string;
  /** Commit on the default branch (the environment says pull-request: false). */
  direct: boolean;
  changes: FileChange[];
  /** The commit message; its first line is the title. */
  message: string;
  pullRequest?: { title: string; body: string; labels: string[]; reviewers: string[]; autoMerge: boolean };
}

export interface WriteResult {
  commit: string;
  pullRequest?: { number: number; url: string };
  merged?: boolean;
  /** API calls (GitHub) or ref updates (local) spent: the budget is at most 5 per environment promotion. */
  calls: number;
}

/** A GitOps repository on GitHub or at a local path. */
export interface GitOpsRepository {
  /** `github.com/acme/gitops` or the local path, for messages. */
  describe(): string;
  /** One file on the default branch (the policy, .slipway.yaml), read before anything else is known. */
  readFile(path: string): Promise<{ text: string | undefined; head: string; defaultBranch: string }>;
  read(request: ReadRequest): Promise<RepositorySnapshot>;
  /** Writes with compare-and-swap on every ref move; a lost race throws ConcurrentUpdateError. */
  write(request: WriteRequest): Promise<WriteResult>;
}

/** Commit trailers every promotion commit carries, so history says which promotion made it. */
export const TRAILERS = {
  promotion: 'Slipway-Promotion',
  digest: 'Slipway-Digest',
  rollback: 'Slipway-Rollback',
  /** `set` or `released`, on commits that change .slipway/holds.yaml. */
  hold: 'Slipway-Hold',
} as const;

/** Where holds live in the GitOps repository. */
export const HOLDS_FILE = '.slipway/holds.yaml';
