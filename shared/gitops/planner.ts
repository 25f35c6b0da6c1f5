import { createHash } from 'node:crypto';
import { ConfigurationError, InvalidValueError, SlipwayError } from '../core/errors.js';
import { rfc3339Seconds } from '../core/time.js';
import { parseImageReference } from '../oci/reference.js';
import type { Digest } from '../oci/types.js';
import { detectKind, editorFor } from './editors/index.js';
import { PolicyRefusal, type PolicyRefusalCode } from './errors.js';
import { type Hold, parseHolds, writeHold } from './holds.js';
import {
  type AfterCheck,
  activeFreeze,
  formatDuration,
  HISTORY_DEPTH,
  type LineageProof,
  pinnedDigest,
  pinnedSince,
  readTrailers,
  shortDigest,
} from './lineage.js';
import {
  type EditorKind,
  type EditTarget,
  type EnvironmentConfig,
  type FileChange,
  HOLDS_FILE,
  type ImagePin,
  type ManifestEditor,
  type PinHistoryEntry,
  type ReadRequest,
  type RepositorySnapshot,
  type ServiceConfig,
  type SlipwayConfig,
  TRAILERS,
} from './types.js';

// The promotion plan: from the policy (.slipway.yaml), one snapshot of the GitOps repository and the request, the
// exact files to write and the commit message, or a refusal naming the rule. Pure: every fact comes from the
// snapshot (texts at the default branch's head, history with committer times and trailers), so the same inputs
// always give the same plan, a refusal is decided before anything is written, and a lost race is handled by
// reading again and planning again. Verification of signatures is not here: run-promote verifies each planned
// digest before it writes.

export type { AfterCheck, LineageProof } from './lineage.js';

export interface PromotionRequest {
  environment: string;
  /** One service, or several promoted together as a bundle; none with hold or release-hold alone. */
  services: string[];
  /** The image(s) given, by service, or the environment to read the digests from. Ignored by a rollback. */
  source: { images: Record<string, ImagePin> } | { from: string };
  rollback: boolean;
  /** Set a hold on the environment (a rollback always sets one). */
  hold: boolean;
  releaseHold: boolean;
  now: Date;
  run?: { url?: string; sourceCommit?: string; sourceRepository?: string; actor?: string };
}

export interface PromotionPlan {
  environment: EnvironmentConfig;
  /**
   * slipway/<env>/<service>, slipway/<env>/bundle-<bundleBranchIdOf(services)> (by the set of services, so a newer
   * bundle updates the same pull request), or slipway/<env>/holds for a hold change alone.
   */
  branch: string;
  /** sha256 (hex) of the sorted `service=name@digest` lines, each ending in a newline. */
  bundleId?: string;
  direct: boolean;
  rollback: boolean;
  services: ServicePlan[];
  /** Whole new texts; includes .slipway/holds.yaml when a hold is set or released. */
  changes: FileChange[];
  /** false: nothing to write (a re-run), no commit. */
  changed: boolean;
  /** The commit message: title, body, trailers. */
  message: string;
  hold?: { set: boolean; released: boolean; reason?: string };
}

export interface ServicePlan {
  service: string;
  /** The repository, as configured. */
  image: string;
  /** What the environment pinned before. */
  previous?: ImagePin;
  next: ImagePin;
  targets: { file: string; kind: EditorKind; before: ImagePin[]; after: ImagePin[] }[];
  lineage: LineageProof;
  /** How a rollback restores the file: the exact text before the last promotion, or the previous digest re-pinned. */
  rollback?: { method: 'revert' | 'repin'; commit: string; from: Digest };
}

/** The branch name of a hold or release with no promotion. */
const HOLDS_BRANCH = 'holds';
const MAX_TITLE = 200;

/**
 * What to read for the plan: every file it edits or judges by, the history of the files whose past matters (the
 * previous environments' for soak, the environment's own for a rollback), and the promotion branch. The branch is
 * named by the services alone, so it is known before anything is read, whichever way the digests come.
 */
export function readRequestFor(config: SlipwayConfig, request: PromotionRequest): ReadRequest {
  const environment = environmentNamed(config, request.environment, 'environment');
  const services = servicesFor(config, environment, request);
  const paths = new Set<string>([HOLDS_FILE]);
  const historyPaths = new Set<string>();
  const from =
    !request.rollback && 'from' in request.source ? sourceEnvironment(config, request.source.from) : undefined;
  for (const [name, service] of services) {
    const file = targetOf(name, service, environment).file;
    paths.add(file);
    if (request.rollback) {
      historyPaths.add(file);
      continue;
    }
    if (from) paths.add(sourceTarget(name, service, from).file);
    for (const previous of environment.after?.environments ?? []) {
      const target = service.targets[previous];
      if (!target) continue;
      paths.add(target.file);
      historyPaths.add(target.file);
    }
  }
  const branch = branchFor(
    environment,
    services.map(([name]) => name),
  );
  return { paths: [...paths], historyPaths: [...historyPaths], historyDepth: HISTORY_DEPTH, branch };
}

export function planPromotion(
  config: SlipwayConfig,
  snapshot: RepositorySnapshot,
  request: PromotionRequest,
): PromotionPlan {
  checkFlags(request);
  const environment = environmentNamed(config, request.environment, 'environment');
  const services = servicesFor(config, environment, request);
  const envRule = `environments[${environment.name}]`;
  const holdsText = snapshot.files.get(HOLDS_FILE);
  const holds = parseHolds(holdsText, HOLDS_FILE);
  const existingHold = holds.get(environment.name);

  if (existingHold && services.length > 0 && !request.rollback && !request.releaseHold) {
    const setBy = [existingHold.by ? `by ${existingHold.by}` : '', existingHold.at ? `at ${existingHold.at}` : '']
      .filter(Boolean)
      .join(' ');
    throw new PolicyRefusal(
      'HOLD',
      `${HOLDS_FILE} holds.${environment.name}`,
      `${environment.name} is on hold: ${existingHold.reason}${setBy ? ` (set ${setBy})` : ''}. Promotions into ${
        environment.name
      } are refused until a run with release-hold clears it; rollbacks still go in.`,
    );
  }
  if (services.length > 0 && !request.rollback) {
    const freeze = activeFreeze(environment, request.now);
    if (freeze) {
      throw new PolicyRefusal(
        'FREEZE_WINDOW',
        `${envRule}.freeze[${freeze.index}]`,
        `${environment.name} is frozen from ${rfc3339Seconds(freeze.window.start)} until ${rfc3339Seconds(
          freeze.window.end,
        )}: ${freeze.window.reason}. Promote after the window ends; a rollback is still allowed.`,
      );
    }
  }

  const texts = new Map<string, string>();
  const plans: ServicePlan[] = [];
  const refusals: PolicyRefusal[] = [];
  for (const [name, service] of services) {
    try {
      plans.push(
        request.rollback
          ? planRollback(name, service, environment, snapshot, texts)
          : planForward(config, name, service, environment, snapshot, request, texts),
      );
    } catch (error) {
      // Every service of a bundle is judged, so one run names every reason at once.
      if (error instanceof PolicyRefusal && services.length > 1) refusals.push(error);
      else throw error;
    }
  }
  if (refusals.length > 0) throw combined(refusals);

  // Holds: an existing hold is left as it is, so a re-run changes nothing.
  let holdsNext = holdsText;
  let hold: PromotionPlan['hold'];
  if (request.releaseHold) {
    if (existingHold) holdsNext = writeHold(holdsNext, environment.name, undefined);
    hold = {
      set: false,
      released: existingHold !== undefined,
      ...(existingHold ? { reason: existingHold.reason } : {}),
    };
  } else if (request.rollback || request.hold) {
    const newHold = existingHold ?? holdFor(request, plans);
    if (!existingHold) holdsNext = writeHold(holdsNext, environment.name, newHold);
    hold = { set: existingHold === undefined, released: false, reason: newHold.reason };
  }

  let changes: FileChange[] = [...texts]
    .filter(([path, text]) => snapshot.files.get(path) !== text)
    .map(([path, text]) => ({ path, text }));
  if (holdsNext !== undefined && holdsNext !== holdsText) changes.push({ path: HOLDS_FILE, text: holdsNext });

  const bundleId =
    plans.length > 1 ? bundleIdOf(plans.map((plan) => ({ service: plan.service, ...plan.next }))) : undefined;
  const branch = branchFor(
    environment,
    plans.map((plan) => plan.service),
  );
  const direct = !environment.pullRequest;
  // A promotion branch that already holds exactly these texts is an earlier run's: nothing more to write.
  const existing = snapshot.branch?.name === branch ? snapshot.branch.files : undefined;
  if (
    !direct &&
    existing &&
    changes.length > 0 &&
    changes.every((change) => existing.get(change.path) === change.text)
  ) {
    changes = [];
  }
  return {
    environment,
    branch,
    ...(bundleId ? { bundleId } : {}),
    direct,
    rollback: request.rollback,
    services: plans,
    changes,
    changed: changes.length > 0,
    message: messageFor(environment, plans, request, hold, bundleId),
    ...(hold ? { hold } : {}),
  };
}

/**
 * sha256 (hex) of the sorted `service=name@digest` lines, each ending in a newline: the same pins, the same id. It
 * names what a bundle promotes (trailer, title, metadata); the branch is named by the services (bundleBranchIdOf).
 */
export function bundleIdOf(pins: readonly { service: string; name: string; digest: string }[]): string {
  const lines = pins.map((pin) => `${pin.service}=${pin.name}@${pin.digest}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex');
}

// --- requests and configuration ----------------------------------------------------------------------------

function checkFlags(request: PromotionRequest): void {
  if (request.releaseHold && (request.hold || request.rollback)) {
    throw new ConfigurationError(
      'release-hold',
      'true',
      `false when ${request.hold ? 'hold' : 'rollback'} is true`,
      `release-hold clears the hold that ${request.hold ? 'hold' : 'a rollback'} sets; run them separately`,
    );
  }
}

function environmentNamed(config: SlipwayConfig, name: string, rule: string): EnvironmentConfig {
  const environment = config.environments.find((candidate) => candidate.name === name);
  if (!environment) {
    throw new PolicyRefusal(
      'UNKNOWN_ENVIRONMENT',
      rule === 'environment' ? 'environments' : rule,
      `${JSON.stringify(name)} is not an environment in ${config.source.path}; its environments are ${config.environments
        .map((candidate) => candidate.name)
        .join(', ')}.`,
    );
  }
  return environment;
}

function sourceEnvironment(config: SlipwayConfig, name: string): EnvironmentConfig {
  return environmentNamed(config, name, 'from');
}

function servicesFor(
  config: SlipwayConfig,
  environment: EnvironmentConfig,
  request: PromotionRequest,
): [string, ServiceConfig][] {
  const names = [...new Set(request.services)];
  if (names.length === 0 && !request.hold && !request.releaseHold) {
    throw new SlipwayError('Nothing to promote: give at least one service (or hold / release-hold alone).');
  }
  if (names.length === 0 && request.rollback) {
    throw new SlipwayError('A rollback needs the service(s) to roll back.');
  }
  return names.map((name) => {
    const service = Object.hasOwn(config.services, name) ? config.services[name] : undefined;
    if (!service) {
      throw new PolicyRefusal(
        'UNKNOWN_SERVICE',
        'services',
        `${JSON.stringify(name)} is not a service in ${config.source.path}; its services are ${Object.keys(
          config.services,
        ).join(', ')}.`,
      );
    }
    targetOf(name, service, environment);
    return [name, service];
  });
}

function targetOf(name: string, service: ServiceConfig, environment: EnvironmentConfig) {
  const target = Object.hasOwn(service.targets, environment.name) ? service.targets[environment.name] : undefined;
  if (!target) {
    throw new PolicyRefusal(
      'NO_TARGET',
      `services.${name}.targets`,
      `${name} has no target in ${environment.name} (it has targets in ${Object.keys(service.targets).join(', ') || 'no environment'}).`,
    );
  }
  return target;
}

function sourceTarget(name: string, service: ServiceConfig, from: EnvironmentConfig) {
  const target = Object.hasOwn(service.targets, from.name) ? service.targets[from.name] : undefined;
  if (!target) {
    throw new PolicyRefusal(
      'NO_TARGET',
      `services.${name}.targets`,
      `${name} has no target in ${from.name}, so its digest cannot be read from there (from: ${from.name}).`,
    );
  }
  return target;
}

function givenPin(request: PromotionRequest, name: string, service: ServiceConfig): ImagePin & { service: string } {
  if (!('images' in request.source)) throw new Error('unreachable: no images given');
  const given = Object.hasOwn(request.source.images, name) ? request.source.images[name] : undefined;
  if (!given) throw new SlipwayError(`No image was given for the service ${name} (${service.image}).`);
  if (!sameRepository(given.name, service.image)) {
    throw new PolicyRefusal(
      'IMAGE_MISMATCH',
      `services.${name}.image`,
      `the image given for ${name} is ${given.name}@${given.digest}, but ${name} runs ${service.image}.`,
    );
  }
  return { service: name, name: service.image, digest: given.digest, ...(given.tag ? { tag: given.tag } : {}) };
}

function sameRepository(a: string, b: string): boolean {
  const canonical = (text: string) => {
    try {
      const ref = parseImageReference(text);
      return ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : text;
    } catch (error) {
      if (error instanceof InvalidValueError) return text;
      throw error;
    }
  };
  return canonical(a) === canonical(b);
}

/**
 * slipway/<env>/<service>, or for a bundle slipway/<env>/bundle-<bundleBranchIdOf(services)>: named by the set of
 * services, not their digests, so the branch is known before any read and a newer bundle of the same services
 * updates the same pull request in place.
 */
function branchFor(environment: EnvironmentConfig, services: string[]): string {
  if (services.length > 1) return `slipway/${environment.name}/bundle-${bundleBranchIdOf(services)}`;
  return `slipway/${environment.name}/${services[0] ?? HOLDS_BRANCH}`;
}

/** The first 12 hex of sha256 of the sorted service names joined by newlines: the same set, the same branch. */
export function bundleBranchIdOf(services: readonly string[]): string {
  const names = [...new Set(services)].sort();
  return createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 12);
}

// --- files ---------------------------------------------------------------------------------------------------

interface OpenTarget {
  file: string;
  editTarget: EditTarget;
  editor: ManifestEditor;
  /** The text as planned so far (several services of a bundle may share a file), else at head. */
  text: string;
  /** What the file pins for the image, as planned so far. */
  pins: ImagePin[];
}

function openTarget(
  name: string,
  service: ServiceConfig,
  environment: EnvironmentConfig,
  snapshot: RepositorySnapshot,
  texts: Map<string, string>,
): OpenTarget {
  const target = targetOf(name, service, environment);
  const text = texts.get(target.file) ?? snapshot.files.get(target.file);
  if (text === undefined) {
    throw new PolicyRefusal(
      'NO_TARGET',
      `services.${name}.targets.${environment.name}`,
      `${target.file}, the ${environment.name} target of ${name}, does not exist on ${snapshot.defaultBranch}.`,
    );
  }
  const editTarget = editTargetOf(target, service.image, text);
  const editor = editorFor(editTarget.kind);
  return { file: target.file, editTarget, editor, text, pins: editor.read(text, editTarget) };
}

function editTargetOf(target: ServiceConfig['targets'][string], image: string, text: string): EditTarget {
  return {
    file: target.file,
    kind: target.kind ?? detectKind(target.file, text, target),
    image,
    ...(target.helm ? { helm: target.helm } : {}),
    ...(target.container ? { container: target.container } : {}),
    ...(target.application ? { application: target.application } : {}),
  };
}

/** The digest a text pins for the target, or undefined (absent, pins nothing, pins several, unreadable). */
function digestReader(open: Pick<OpenTarget, 'editor' | 'editTarget'>) {
  return (text: string | undefined): Digest | undefined => {
    if (text === undefined) return undefined;
    try {
      const state = pinnedDigest(open.editor.read(text, open.editTarget));
      return state.state === 'pinned' ? state.digest : undefined;
    } catch (error) {
      // An old revision the editor cannot read pins nothing it can vouch for.
      if (error instanceof SlipwayError) return undefined;
      throw error;
    }
  };
}

function previousOf(open: OpenTarget, image: string): ImagePin | undefined {
  const state = pinnedDigest(open.pins);
  return state.state === 'pinned'
    ? { name: image, digest: state.digest, ...(state.tag ? { tag: state.tag } : {}) }
    : undefined;
}

function applyPin(open: OpenTarget, pin: ImagePin, name: string, texts: Map<string, string>) {
  const result = open.editor.apply(open.text, open.editTarget, pin);
  if (result.after.length === 0 || result.after.some((after) => after.digest !== pin.digest)) {
    throw new PolicyRefusal(
      'IMAGE_MISMATCH',
      `services.${name}.targets`,
      `${open.file} does not pin ${open.editTarget.image} where Slipway can edit it (after the edit it pins ${
        result.after.map((after) => after.digest).join(', ') || 'nothing'
      }).`,
    );
  }
  texts.set(open.file, result.text);
  return { file: open.file, kind: open.editTarget.kind, before: result.before, after: result.after };
}

// --- forward promotion ---------------------------------------------------------------------------------------

function planForward(
  config: SlipwayConfig,
  name: string,
  service: ServiceConfig,
  environment: EnvironmentConfig,
  snapshot: RepositorySnapshot,
  request: PromotionRequest,
  texts: Map<string, string>,
): ServicePlan {
  const open = openTarget(name, service, environment, snapshot, texts);
  let next: ImagePin;
  let lineage: LineageProof;
  if ('from' in request.source) {
    const from = sourceEnvironment(config, request.source.from);
    next = digestInEnvironment(name, service, from, snapshot);
    lineage = { mode: 'from', from: from.name };
  } else {
    const { service: _service, ...pin } = givenPin(request, name, service);
    next = pin;
    lineage = { mode: 'image' };
  }
  const after = checkAfter(name, service, environment, snapshot, next.digest, request.now);
  if (after) lineage.after = after;
  const previous = previousOf(open, service.image);
  const target = applyPin(open, next, name, texts);
  return { service: name, image: service.image, ...(previous ? { previous } : {}), next, targets: [target], lineage };
}

/** The one digest `from` pins for the service on the default branch. */
function digestInEnvironment(
  name: string,
  service: ServiceConfig,
  from: EnvironmentConfig,
  snapshot: RepositorySnapshot,
): ImagePin {
  const target = sourceTarget(name, service, from);
  const text = snapshot.files.get(target.file);
  const rule = `services.${name}.targets.${from.name}`;
  if (text === undefined) {
    throw new PolicyRefusal(
      'NOT_IN_SOURCE_ENVIRONMENT',
      rule,
      `${target.file}, the ${from.name} target of ${name}, does not exist on ${snapshot.defaultBranch}, so there is no digest to promote from ${from.name}.`,
    );
  }
  const editTarget = editTargetOf(target, service.image, text);
  const pins = editorFor(editTarget.kind).read(text, editTarget);
  const state = pinnedDigest(pins);
  if (state.state === 'none') {
    throw new PolicyRefusal(
      'NOT_IN_SOURCE_ENVIRONMENT',
      rule,
      `${target.file} (${from.name}) pins no digest for ${service.image}, so there is nothing to promote from ${from.name}.`,
    );
  }
  if (state.state === 'conflict') {
    throw new PolicyRefusal(
      'NOT_IN_SOURCE_ENVIRONMENT',
      rule,
      `${target.file} (${from.name}) pins ${service.image} at several digests (${state.digests.join(
        ', ',
      )}), so which one to promote is ambiguous; make them agree first.`,
    );
  }
  return { name: service.image, digest: state.digest, ...(state.tag ? { tag: state.tag } : {}) };
}

/**
 * The `after:` rule: the digest must be pinned in the previous environment(s) (all of them, or any one) and have
 * been pinned there for at least the environment's soak. An environment where the service has no target cannot be
 * passed through and is not counted (a service deployed only in prod is not held back by staging).
 */
function checkAfter(
  name: string,
  service: ServiceConfig,
  environment: EnvironmentConfig,
  snapshot: RepositorySnapshot,
  digest: Digest,
  now: Date,
): LineageProof['after'] {
  const after = environment.after;
  if (!after || after.environments.length === 0) return undefined;
  const checks = after.environments.map((previous): AfterCheck => {
    const soakMs = environment.soakMs;
    const target = Object.hasOwn(service.targets, previous) ? service.targets[previous] : undefined;
    if (!target) {
      return {
        environment: previous,
        soakMs,
        satisfied: true,
        skipped: true,
        reason: `${name} has no target in ${previous}`,
      };
    }
    const text = snapshot.files.get(target.file);
    if (text === undefined) {
      return {
        environment: previous,
        soakMs,
        satisfied: false,
        reason: `${target.file} does not exist on ${snapshot.defaultBranch}`,
      };
    }
    const editTarget = editTargetOf(target, service.image, text);
    const editor = editorFor(editTarget.kind);
    const current = digestReader({ editor, editTarget })(text);
    if (current !== digest) {
      return {
        environment: previous,
        ...(current ? { digest: current } : {}),
        soakMs,
        satisfied: false,
        reason: current
          ? `${previous} pins ${current} (${target.file})`
          : `${previous} pins no single digest for ${service.image} (${target.file})`,
      };
    }
    const history: PinHistoryEntry[] = snapshot.history.get(target.file) ?? [];
    const since = pinnedSince(history, digestReader({ editor, editTarget }), digest);
    if (!since) {
      return {
        environment: previous,
        digest,
        soakMs,
        satisfied: soakMs === 0,
        reason: `no commit pinning it was found in the history of ${target.file}`,
      };
    }
    const pinnedFor = now.getTime() - since.since.getTime();
    const satisfied = pinnedFor >= soakMs;
    return {
      environment: previous,
      digest,
      pinnedSince: since.since,
      commit: since.commit,
      ...(since.truncated ? { historyTruncated: true } : {}),
      soakMs,
      satisfied,
      reason: `pinned in ${previous} ${since.truncated ? 'at least ' : ''}since ${rfc3339Seconds(since.since)} (commit ${since.commit.slice(
        0,
        12,
      )}, ${formatDuration(Math.max(0, pinnedFor))} ago${since.truncated ? `, beyond the ${HISTORY_DEPTH} commits read` : ''})${
        satisfied
          ? ''
          : `; ${environment.name} requires ${formatDuration(soakMs)}, so it can go in from ${rfc3339Seconds(
              new Date(since.since.getTime() + soakMs),
            )}`
      }`,
    };
  });
  const counted = checks.filter((check) => !check.skipped);
  const ok =
    counted.length === 0 ||
    (after.mode === 'all-of' ? counted.every((check) => check.satisfied) : counted.some((check) => check.satisfied));
  const proof = { mode: after.mode, environments: checks };
  if (ok) return proof;
  const notPinned =
    after.mode === 'all-of'
      ? counted.some((check) => check.digest !== digest)
      : counted.every((check) => check.digest !== digest);
  const failing = counted.filter((check) => !check.satisfied);
  const code: PolicyRefusalCode = notPinned ? 'NOT_IN_SOURCE_ENVIRONMENT' : 'SOAK_NOT_MET';
  const rule = `environments[${environment.name}].${notPinned ? 'after' : 'soak'}`;
  const which = after.mode === 'all-of' ? 'every one of' : 'at least one of';
  throw new PolicyRefusal(
    code,
    rule,
    `${service.image}@${digest} cannot go into ${environment.name} for ${name}: it must be pinned in ${
      counted.length > 1 ? `${which} ` : ''
    }${counted.map((check) => check.environment).join(', ')}${
      environment.soakMs > 0 ? ` for at least ${formatDuration(environment.soakMs)}` : ''
    }, but ${failing.map((check) => check.reason).join('; ')}.`,
  );
}

// --- rollback ------------------------------------------------------------------------------------------------

/**
 * Restores the digest pinned before the environment's last promotion of the service. The last promotion is the
 * newest commit whose trailers say it promoted this service into this environment (rollbacks are skipped, so
 * rolling back twice changes nothing the second time); without trailers, the newest commit that changed the pinned
 * digest. When the file at head is still exactly what that commit wrote, the text before it is restored byte for
 * byte (a revert); otherwise later edits stay and only the previous digest is pinned again.
 */
function planRollback(
  name: string,
  service: ServiceConfig,
  environment: EnvironmentConfig,
  snapshot: RepositorySnapshot,
  texts: Map<string, string>,
): ServicePlan {
  const open = openTarget(name, service, environment, snapshot, texts);
  const history: PinHistoryEntry[] = snapshot.history.get(open.file) ?? [];
  const digestAt = digestReader(open);
  const rule = `services.${name}.targets.${environment.name}`;
  const nothing = (why: string) =>
    new PolicyRefusal('NOTHING_TO_ROLL_BACK', rule, `${name} in ${environment.name} cannot be rolled back: ${why}.`);

  const promotedBy = (entry: PinHistoryEntry) => {
    const trailers = readTrailers(entry.message);
    return !trailers.rollback && trailers.promotion?.startsWith(`${environment.name}/`)
      ? trailers.digests.get(name)
      : undefined;
  };
  let index = history.findIndex((entry) => promotedBy(entry) !== undefined);
  if (index < 0) {
    index = history.findIndex((entry, at) => {
      if (readTrailers(entry.message).rollback || at + 1 >= history.length) return false;
      const digest = digestAt(entry.text);
      return digest !== undefined && digest !== digestAt(history[at + 1]?.text);
    });
  }
  const last = history[index];
  if (!last) {
    throw nothing(
      `no promotion of ${name} into ${environment.name} is in the last ${history.length} commits of ${open.file}`,
    );
  }
  const promoted = digestAt(last.text) ?? promotedBy(last);
  if (!promoted) throw nothing(`the last promotion (${last.commit.slice(0, 12)}) left ${open.file} without one digest`);
  let before = index + 1;
  while (before < history.length && digestAt(history[before]?.text) === promoted) before++;
  const earlier = history[before];
  const restore = digestAt(earlier?.text);
  if (!earlier || !restore) {
    throw nothing(
      earlier
        ? `before ${last.commit.slice(0, 12)}, ${open.file} pinned no single digest for ${service.image}`
        : `no digest before ${promoted} is in the ${history.length} commits of ${open.file} that were read`,
    );
  }

  const previous = previousOf(open, service.image);
  const earlierPins = open.editor.read(earlier.text as string, open.editTarget);
  const earlierState = pinnedDigest(earlierPins);
  const next: ImagePin = {
    name: service.image,
    digest: restore,
    ...(earlierState.state === 'pinned' && earlierState.tag ? { tag: earlierState.tag } : {}),
  };
  let target: ServicePlan['targets'][number];
  let method: 'revert' | 'repin';
  if (before === index + 1 && open.text === last.text) {
    // The file is still what the promotion wrote: put back exactly what was there before it.
    method = 'revert';
    const text = earlier.text as string;
    texts.set(open.file, text);
    target = {
      file: open.file,
      kind: open.editTarget.kind,
      before: open.pins,
      after: open.editor.read(text, open.editTarget),
    };
  } else {
    method = 'repin';
    target = applyPin(open, next, name, texts);
  }
  return {
    service: name,
    image: service.image,
    ...(previous ? { previous } : {}),
    next,
    targets: [target],
    lineage: { mode: 'rollback' },
    rollback: { method, commit: last.commit, from: promoted },
  };
}

function holdFor(request: PromotionRequest, plans: ServicePlan[]): Hold {
  const by = oneLine(request.run?.url ?? request.run?.actor ?? '');
  const rolledBack = plans.flatMap((plan) =>
    plan.rollback ? [`${plans.length > 1 ? `${plan.service} ` : ''}${plan.rollback.from}`] : [],
  );
  const reason = request.rollback
    ? `rollback of ${rolledBack.join(', ')}${by ? ` by ${by}` : ''}`
    : `held${by ? ` by ${by}` : ''}`;
  return {
    reason,
    digestByService: Object.fromEntries(plans.map((plan) => [plan.service, plan.next.digest])),
    ...(by ? { by } : {}),
    at: rfc3339Seconds(request.now),
  };
}

// --- messages ------------------------------------------------------------------------------------------------

function messageFor(
  environment: EnvironmentConfig,
  plans: ServicePlan[],
  request: PromotionRequest,
  hold: PromotionPlan['hold'],
  bundleId: string | undefined,
): string {
  const env = environment.name;
  const verb = request.rollback ? 'roll back' : 'promote';
  let title: string;
  if (plans.length === 0) {
    title = hold?.released ? `release the hold on ${env}` : `hold ${env}`;
  } else if (plans.length === 1) {
    const [plan] = plans as [ServicePlan];
    title = request.rollback
      ? `roll back ${plan.service} in ${env} to ${shortDigest(plan.next.digest)}`
      : `promote ${plan.service} to ${env}: ${shortDigest(plan.next.digest)}`;
  } else {
    const names = plans.map((plan) => plan.service).join(', ');
    const id = (bundleId ?? '').slice(0, 12);
    title = `${verb} bundle ${id} ${request.rollback ? 'in' : 'to'} ${env}: ${names}`;
    if (title.length > MAX_TITLE)
      title = `${verb} bundle ${id} ${request.rollback ? 'in' : 'to'} ${env}: ${plans.length} services`;
  }

  const body: string[] = [];
  for (const plan of plans) {
    const from = plan.previous ? `${plan.previous.digest}` : 'nothing';
    body.push(`${plan.image}: ${from} -> ${plan.next.digest}${plan.next.tag ? ` (tag ${plan.next.tag})` : ''}`);
    for (const target of plan.targets) body.push(`  ${target.file}`);
    if (plan.rollback) {
      body.push(
        `  rollback of ${plan.rollback.from} (promoted by ${plan.rollback.commit.slice(0, 12)}), ${
          plan.rollback.method === 'revert' ? 'reverting that commit' : 'pinning the previous digest again'
        }`,
      );
    }
    if (plan.lineage.from) body.push(`  digest read from ${plan.lineage.from}`);
    for (const check of plan.lineage.after?.environments ?? []) {
      if (check.reason) body.push(`  ${check.skipped ? 'not checked: ' : ''}${check.reason}`);
    }
  }
  if (hold?.set) body.push(`Hold set on ${env}: ${hold.reason ?? ''}`);
  if (hold?.released) body.push(`Hold on ${env} released (was: ${hold.reason ?? ''})`);
  const run = request.run;
  if (run?.url) body.push(`Run: ${oneLine(run.url)}`);
  if (run?.sourceRepository || run?.sourceCommit) {
    body.push(`Source: ${oneLine([run.sourceRepository, run.sourceCommit].filter(Boolean).join('@'))}`);
  }
  if (run?.actor) body.push(`Actor: ${oneLine(run.actor)}`);

  const trailers: string[] = [];
  if (plans.length > 0) {
    trailers.push(`${TRAILERS.promotion}: ${env}/${bundleId ? `bundle-${bundleId}` : plans[0]?.service}`);
    for (const plan of plans) trailers.push(`${TRAILERS.digest}: ${plan.service}=${plan.next.digest}`);
    if (request.rollback) trailers.push(`${TRAILERS.rollback}: true`);
  }
  if (hold?.set) trailers.push(`${TRAILERS.hold}: set`);
  if (hold?.released) trailers.push(`${TRAILERS.hold}: released`);
  return `${[title, body.join('\n'), trailers.join('\n')].filter((part) => part !== '').join('\n\n')}\n`;
}

/** User-supplied text on one line, so it can neither forge a trailer nor break the message's shape. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

function combined(refusals: PolicyRefusal[]): PolicyRefusal {
  const [first] = refusals as [PolicyRefusal];
  if (refusals.length === 1) return first;
  const message = refusals.map((refusal) => refusal.message.replace(/^Promotion refused \([^)]*\): /, '')).join(' ');
  return new PolicyRefusal(first.code, first.rule, message);
}
