import { ConfigurationError, InvalidValueError } from '../../shared/core/errors.js';
import { copyImage } from '../../shared/oci/copy.js';
import { createRegistryClient } from '../../shared/oci/login.js';
import { openReference } from '../../shared/oci/open.js';
import { formatImageReference, parseImageReference, requireDigest } from '../../shared/oci/reference.js';
import { listReferrers } from '../../shared/oci/referrers.js';
import type { RegistryClient } from '../../shared/oci/registry.js';
import { readSubject } from '../../shared/oci/subject.js';
import type { CommandContext } from '../cli.js';

// The OCI commands: thin wrappers over shared/oci, each returning the JSON it prints.

type Context = CommandContext;

function client(context: Context): RegistryClient {
  return createRegistryClient({
    env: context.io.env,
    logger: context.logger,
    secrets: context.secrets,
    userAgent: 'slipway-cli',
  });
}

function reference(argument: string, text: string) {
  try {
    return parseImageReference(text);
  } catch (error) {
    if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue(argument, error);
    throw error;
  }
}

async function open(context: Context, argument: string, text: string, createLayout = false) {
  const ref = reference(argument, text);
  return { ref, ...(await openReference(ref, { client: client(context), workspace: context.io.cwd, createLayout })) };
}

export async function inspect(context: Context) {
  const { store, reference: at, name } = await open(context, 'image', context.args.image!);
  return readSubject(store, name, at ?? 'latest');
}

export async function copy(context: Context) {
  const source = await open(context, 'source', context.args.source!);
  const destination = await open(context, 'destination', context.args.destination!, true);
  if (destination.ref.digest) {
    throw new ConfigurationError(
      'destination',
      context.args.destination!,
      'a repository with an optional tag, no digest',
      'the digest is the source’s',
    );
  }
  const tag = destination.ref.tag ?? source.ref.tag;
  const report = await copyImage({
    from: source.store,
    to: destination.store,
    reference: source.reference ?? 'latest',
    ...(tag ? { tags: [tag] } : {}),
    referrers: context.options.referrers === true,
  });
  context.logger.info(
    `copied ${report.manifests} manifests: ${report.blobs.copied} blobs copied (${report.bytesCopied} bytes), ${report.blobs.mounted} mounted, ${report.blobs.skipped} already there`,
  );
  return {
    source: formatImageReference({ ...source.ref, digest: report.descriptor.digest }),
    destination: `${destination.name}${tag ? `:${tag}` : ''}@${report.descriptor.digest}`,
    ...report,
  };
}

export async function referrers(context: Context) {
  const text = context.args['image@digest']!;
  const ref = reference('image', text);
  let withDigest: ReturnType<typeof requireDigest>;
  try {
    withDigest = requireDigest(ref, text);
  } catch (error) {
    if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue('image', error);
    throw error;
  }
  const { store } = await openReference(withDigest, { client: client(context), workspace: context.io.cwd });
  const artifactType = context.options['artifact-type'];
  return listReferrers(store, withDigest.digest, typeof artifactType === 'string' ? { artifactType } : {});
}

export async function tags(context: Context) {
  const { store } = await open(context, 'repository', context.args.repository!);
  return store.listTags();
}
