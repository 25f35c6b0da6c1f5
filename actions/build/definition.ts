import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  parseAssignment,
  parseCommand,
  parseDirectory,
  parseEpochSeconds,
  parseLabel,
  parseSecret,
} from '../../shared/build/options.js';
import { parseFlavor, parseTagRules } from '../../shared/build/tags.js';
import { ConfigurationError, InvalidValueError, SlipwayError } from '../../shared/core/errors.js';
import { userFile } from '../../shared/core/files.js';
import { loginFromInputs } from '../../shared/oci/login-inputs.js';
import { parsePlatform } from '../../shared/oci/manifest.js';
import { parseImageReference, requireDigest, requireRepositoryOnly } from '../../shared/oci/reference.js';
import { BUILD_RECORD } from '../../shared/records/build.js';
import { writeRecord } from '../../shared/records/record.js';
import { defineAction } from '../../shared/runner/action.js';
import { boolean, choice, list, parsed, text } from '../../shared/runner/inputs.js';
import { registryTimeoutInputs, registryTimeouts } from '../registry-inputs.js';

// The build action: inputs into one typed request, shared/build does the rest. Everything heavier than
// input parsing is imported inside main(), so a bad input fails before any of it loads.

const repository = (text: string) => {
  const ref = parseImageReference(text);
  return requireRepositoryOnly(ref, text);
};

const baseImage = (text: string) => {
  if (text === 'scratch') return 'scratch' as const;
  return requireDigest(parseImageReference(text), text);
};

const epoch = parseEpochSeconds;

export const build = defineAction({
  name: 'build',
  inputs: {
    image: parsed(repository, {
      required: true,
      expected: 'a repository without tag or digest, e.g. ghcr.io/acme/api, or oci-layout:<dir>',
    }),
    context: text({ default: '.' }),
    file: text(),
    builder: choice(['auto', 'buildx', 'buildah', 'native', 'import'], { default: 'auto' }),
    platforms: list({ commas: true, item: (value) => void parsePlatform(value) }),
    tags: list({ expected: 'tag rules, one per line, e.g. type=semver,pattern={{version}}' }),
    latest: choice(['auto', 'true', 'false'], { default: 'auto' }),
    flavor: list({
      expected: 'flavor options as docker/metadata-action takes them, e.g. latest=false or prefix=app-,onlatest=true',
    }),
    'build-args': list({ item: (value) => void parseAssignment(value, 'build argument') }),
    secrets: list({ item: (value) => void parseSecret(value) }),
    'cache-from': list(),
    'cache-to': list(),
    labels: list({ item: (value) => void parseLabel(value) }),
    target: text(),
    'source-date-epoch': parsed(epoch, { expected: 'whole seconds since 1970-01-01, e.g. 1767225600' }),
    'verify-reproducible': boolean({ default: 'false' }),
    username: text(),
    password: text({ secret: true }),
    ...registryTimeoutInputs,
    base: parsed(baseImage, { expected: 'scratch or an image pinned by digest, e.g. ghcr.io/acme/base@sha256:…' }),
    directories: list({ item: (value) => void parseDirectory(value) }),
    entrypoint: parsed(parseCommand, { expected: 'a JSON array of strings or words separated by spaces' }),
    cmd: parsed(parseCommand, { expected: 'a JSON array of strings or words separated by spaces' }),
    env: list({ item: (value) => void parseAssignment(value, 'environment variable') }),
    workdir: text(),
    user: text(),
    ports: list({ commas: true, expected: 'ports such as 8080, 8080/tcp or 53/udp' }),
    'import-from': text(),
  },
  outputs: ['digest', 'image', 'tags', 'subject', 'record', 'builder'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const at = (path: string) => (isAbsolute(path) ? path : resolve(workspace, path));
    const contextDir = at(inputs.context);
    if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) {
      throw new ConfigurationError(
        'context',
        inputs.context,
        'a directory in the workspace',
        `${contextDir} does not exist`,
      );
    }
    const containerfile =
      inputs.file === undefined
        ? undefined
        : userFile('file', inputs.file, workspace, 'a readable Containerfile or Dockerfile').path;
    const importFrom =
      inputs['import-from'] === undefined
        ? undefined
        : userFile('import-from', inputs['import-from'], workspace, 'the file another builder wrote').path;
    if (inputs.builder === 'import' && importFrom === undefined) {
      throw new ConfigurationError('import-from', '', 'the file another builder wrote', 'builder import needs it');
    }
    let tagRules: ReturnType<typeof parseTagRules>;
    try {
      tagRules = parseTagRules(inputs.tags);
    } catch (error) {
      if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue('tags', error);
      throw error;
    }
    let flavor: ReturnType<typeof parseFlavor>;
    try {
      flavor = parseFlavor(inputs.flavor);
    } catch (error) {
      if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue('flavor', error);
      throw error;
    }
    // `latest` and flavor's latest= say the same thing; a workflow moved from metadata-action sets the
    // second, and both set differently is a contradiction, not a precedence question.
    if (flavor.latest !== undefined && inputs.latest !== 'auto' && inputs.latest !== flavor.latest) {
      throw new ConfigurationError(
        'latest',
        inputs.latest,
        `${flavor.latest}, as the flavor input's latest=${flavor.latest} says, or unset`,
        'latest and flavor latest= disagree',
      );
    }
    const image = inputs.image;
    const credentials = loginFromInputs(inputs.username, inputs.password, image);

    const { runBuild } = await import('../../shared/build/run.js');
    const record = await runBuild(
      {
        image,
        contextDir,
        ...(containerfile ? { containerfile } : {}),
        builder: inputs.builder,
        platforms: inputs.platforms,
        tagRules,
        latest: inputs.latest,
        flavor,
        buildArgs: inputs['build-args'].map((line) => parseAssignment(line, 'build argument')),
        secrets: inputs.secrets
          .map(parseSecret)
          .map((secret) => (secret.src ? { ...secret, src: at(secret.src) } : secret)),
        cacheFrom: inputs['cache-from'],
        cacheTo: inputs['cache-to'],
        labels: Object.fromEntries(inputs.labels.map(parseLabel)),
        ...(inputs.target ? { target: inputs.target } : {}),
        ...(inputs['source-date-epoch'] !== undefined ? { sourceDateEpoch: inputs['source-date-epoch'] } : {}),
        verifyReproducible: inputs['verify-reproducible'],
        native: {
          base: inputs.base ?? 'scratch',
          directories: inputs.directories
            .map(parseDirectory)
            .map(({ dir, target }) => ({ dir: resolve(contextDir, dir), target })),
          ...(inputs.entrypoint ? { entrypoint: inputs.entrypoint } : {}),
          ...(inputs.cmd ? { cmd: inputs.cmd } : {}),
          env: Object.fromEntries(inputs.env.map((line) => parseAssignment(line, 'environment variable'))),
          ...(inputs.workdir ? { workdir: inputs.workdir } : {}),
          ...(inputs.user ? { user: inputs.user } : {}),
          ports: inputs.ports,
        },
        ...(importFrom ? { importFrom } : {}),
        ...(credentials ? { credentials } : {}),
        registryTimeouts: registryTimeouts(inputs),
      },
      { env, logger, secrets, workspace, summary },
    );
    const { subject } = record;
    const written = writeRecord(recordDirectory, BUILD_RECORD, record, secrets);
    outputs.set('digest', subject.digest);
    outputs.set('image', `${subject.name}@${subject.digest}`);
    outputs.set('tags', record.references.join('\n'));
    outputs.json('subject', subject);
    outputs.set('record', written);
    outputs.set('builder', record.builder.name);
    // Outputs and record first, so a failed check still says what was built and where the rebuild differed.
    const reproducibility = record.reproducibility;
    if (reproducibility && !reproducibility.reproducible) {
      throw new SlipwayError(
        `The build is not reproducible: ${reproducibility.first} rebuilt as ${reproducibility.second}; ${reproducibility.differences.join('; ')}.`,
      );
    }
  },
});
