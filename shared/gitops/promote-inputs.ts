import { ConfigurationError, InvalidValueError } from '../core/errors.js';
import { userFile } from '../core/files.js';
import { familiarName, parsePinnedReference } from '../oci/reference.js';
import { readBuildRecord } from '../records/build.js';
import { readSubjectInput } from '../records/subject.js';
import type { PromoteImage } from './run-promote.js';

// The promote action's inputs that depend on each other, checked as pure functions before anything is read: what
// to promote comes from exactly one of image and from, except for a rollback (the GitOps repository's history
// names the digest), a hold release and a hold set alone, which pin nothing.

export interface PromoteChoice {
  images: string[];
  from: string | undefined;
  services: string[];
  rollback: boolean;
  hold: boolean;
  releaseHold: boolean;
}

export function checkPromoteChoice(choice: PromoteChoice): void {
  const { images, from, services, rollback, hold, releaseHold } = choice;
  const given = images.length > 0;
  if (rollback && releaseHold) {
    throw new ConfigurationError(
      'release-hold',
      'true',
      'release-hold or rollback, not both',
      'a rollback sets a hold',
    );
  }
  if (hold && releaseHold) {
    throw new ConfigurationError('release-hold', 'true', 'hold or release-hold, not both', 'both were given');
  }
  if (rollback || releaseHold) {
    const what = rollback ? 'rollback' : 'release-hold';
    if (given || from !== undefined) {
      throw new ConfigurationError(
        given ? 'image' : 'from',
        given ? images.join(', ') : from,
        `neither image nor from with ${what}`,
        rollback
          ? 'a rollback restores the digest pinned before the last promotion, read from the GitOps repository'
          : 'release-hold clears the hold and pins nothing; promote a digest in a separate step',
      );
    }
  } else if (hold && !given && from === undefined) {
    // A hold alone: the environment is frozen where it is, nothing is pinned.
  } else if (given === (from !== undefined)) {
    throw new ConfigurationError(
      'image',
      given ? images.join(', ') : '',
      'exactly one of image (name@digest, or a build record path) and from (an environment)',
      given ? 'both image and from were given' : 'neither was given',
    );
  }
  const holdAlone = hold && !given && from === undefined;
  if (services.length === 0 && !releaseHold && !holdAlone) {
    throw new ConfigurationError(
      'service',
      '',
      'one or more service names from .slipway.yaml, separated by commas or newlines',
      'it is required',
    );
  }
  const seen = new Set<string>();
  for (const service of services) {
    if (seen.has(service)) {
      throw new ConfigurationError('service', services.join(', '), 'each service once', `${service} is named twice`);
    }
    seen.add(service);
  }
}

const IMAGE_EXPECTED =
  'an image pinned by digest (ghcr.io/acme/api@sha256:…, a tag before @ is kept as the tag) or the path of a build record (build.json)';

/** One item of the image input: a pinned reference, or a record an earlier step wrote (build.json carries tags). */
export async function readPromoteImage(item: string, workspace: string): Promise<PromoteImage> {
  let reference: ReturnType<typeof parsePinnedReference>;
  try {
    reference = parsePinnedReference(item);
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    if (!item.startsWith('{') && !/\.json$/i.test(item)) throw ConfigurationError.fromInvalidValue('image', error);
    return readRecordImage(item, workspace);
  }
  if (reference.kind !== 'registry') {
    throw new ConfigurationError(
      'image',
      item,
      IMAGE_EXPECTED,
      'a GitOps repository pins registry images, not an OCI layout on disk',
    );
  }
  return { name: familiarName(reference), digest: reference.digest, ...(reference.tag ? { tag: reference.tag } : {}) };
}

async function readRecordImage(item: string, workspace: string): Promise<PromoteImage> {
  const subject = await readSubjectInput('image', item, workspace);
  const { reference } = subject;
  if (reference.kind !== 'registry') {
    throw new ConfigurationError(
      'image',
      item,
      IMAGE_EXPECTED,
      `the record names ${familiarName(reference)}, an OCI layout, not a registry image`,
    );
  }
  const pin: PromoteImage = { name: familiarName(reference), digest: reference.digest };
  if (subject.from.startsWith('build record') && !item.startsWith('{')) {
    const build = await readBuildRecord(userFile('image', item, workspace, IMAGE_EXPECTED));
    // The first tag people would recognize: `latest` says nothing about what is promoted.
    const tag = build.tags.find((t) => t !== 'latest');
    if (tag) pin.tag = tag;
    pin.source = { repository: build.source.repository, commit: build.source.commit };
  }
  return pin;
}
