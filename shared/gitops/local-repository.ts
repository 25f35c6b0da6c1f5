import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ExecError, type ExecResult, exec } from '../process/exec.js';
import { ConcurrentUpdateError } from './errors.js';
import type {
  GitOpsRepository,
  PinHistoryEntry,
  ReadRequest,
  RepositorySnapshot,
  WriteRequest,
  WriteResult,
} from './types.js';

// A GitOps repository at a local path (bare or with a work tree), read and written with real git. Commits are
// built with plumbing (hash-object, a temporary index, commit-tree) so nothing touches the user's index or work
// tree until the commit exists, and every ref moves by compare-and-swap (`git update-ref <ref> <new> <old>`):
// two runs racing for one branch cannot both win, and the loser re-reads and re-plans (run-promote's retry).
// A local repository has no pull requests: a promotion into a `pull-request: true` environment leaves its
// commit on the branch slipway/<env>/<service>, for a person to merge.

export interface LocalRepositoryOptions {
  logger: Logger;
  /** The commit time; the wall clock by default. */
  now?: () => Date;
  author?: { name: string; email: string };
  /** The environment git runs in; this process's by default. */
  env?: Readonly<Record<string, string | undefined>>;
}

const DEFAULT_AUTHOR = { name: 'Slipway', email: 'slipway@localhost' };

// Variables that would point git at another repository or index than the one given (set when Slipway runs from
// a git hook, say); the temporary index is set explicitly where it is wanted.
const REPOSITORY_VARIABLES = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
];

type Env = Record<string, string | undefined>;

interface Layout {
  bare: boolean;
  defaultBranch: string;
  head: string;
}

export function localRepository(path: string, options: LocalRepositoryOptions): GitOpsRepository {
  const root = resolve(path);
  const now = options.now ?? (() => new Date());
  const author = options.author ?? DEFAULT_AUTHOR;
  let baseEnv: Env | undefined;

  function environment(): Env {
    if (baseEnv) return baseEnv;
    const env: Env = { ...(options.env ?? process.env) };
    for (const name of REPOSITORY_VARIABLES) delete env[name];
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      throw new SlipwayError(`The GitOps repository ${root} does not exist.`);
    }
    // Without a ceiling, a path that is not a repository but lies inside one (a folder of the app's checkout)
    // would silently resolve to that outer repository.
    env.GIT_CEILING_DIRECTORIES = dirname(real);
    env.GIT_TERMINAL_PROMPT = '0';
    // Messages in English: a lost compare-and-swap is recognised by what update-ref says.
    env.LC_ALL = 'C';
    baseEnv = env;
    return env;
  }

  async function git(
    args: string[],
    extra: { input?: string; env?: Env; okCodes?: number[]; quiet?: boolean } = {},
  ): Promise<ExecResult> {
    return exec('git', ['-C', root, ...args], {
      env: { ...environment(), ...extra.env },
      // What reads print is file texts and whole histories: too much for even a debug log.
      ...(extra.quiet ? {} : { logger: options.logger }),
      ...(extra.input !== undefined ? { input: extra.input } : {}),
      ...(extra.okCodes ? { okCodes: extra.okCodes } : {}),
    });
  }

  async function layout(): Promise<Layout> {
    let bare: boolean;
    try {
      bare = (await git(['rev-parse', '--is-bare-repository'])).stdout.trim() === 'true';
    } catch (error) {
      if (error instanceof ExecError && error.code !== null) {
        throw new SlipwayError(`The GitOps repository ${root} is not a git repository (git: ${firstLine(error)}).`);
      }
      throw error;
    }
    const symbolic = await git(['symbolic-ref', '--quiet', 'HEAD'], { okCodes: [0, 1] });
    const ref = symbolic.stdout.trim();
    if (symbolic.code !== 0 || !ref.startsWith('refs/heads/')) {
      throw new SlipwayError(
        `The GitOps repository ${root} has a detached HEAD, so its default branch is unknown: check out the default branch (git switch main).`,
      );
    }
    const defaultBranch = ref.slice('refs/heads/'.length);
    const head = await resolveRef(ref);
    if (!head) {
      throw new SlipwayError(
        `The GitOps repository ${root} has no commits on its default branch ${defaultBranch}: commit .slipway.yaml and the environments' files first.`,
      );
    }
    return { bare, defaultBranch, head };
  }

  async function resolveRef(ref: string): Promise<string | undefined> {
    const result = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { okCodes: [0, 1] });
    return result.code === 0 ? result.stdout.trim() : undefined;
  }

  /** Texts of `rev:path` objects, read in one `git cat-file --batch`; undefined where the path is absent. */
  async function readBlobs(names: string[]): Promise<Map<string, string | undefined>> {
    const texts = new Map<string, string | undefined>();
    const unique = [...new Set(names)];
    if (unique.length === 0) return texts;
    const result = await git(['cat-file', '--batch'], { input: `${unique.join('\n')}\n`, quiet: true });
    // The output frames each object by its size in bytes. exec decodes stdout as UTF-8; re-encoding gives the
    // original bytes back for UTF-8 text, and the framing checks below catch anything else.
    const bytes = Buffer.from(result.stdout, 'utf8');
    let offset = 0;
    for (const name of unique) {
      const newline = bytes.indexOf(0x0a, offset);
      if (newline < 0) throw malformed(name);
      const header = bytes.subarray(offset, newline).toString('utf8');
      offset = newline + 1;
      if (header === `${name} missing`) {
        texts.set(name, undefined);
        continue;
      }
      const match = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(header);
      if (!match) throw malformed(name);
      const [, , type, size] = match;
      const end = offset + Number(size);
      if (bytes[end] !== 0x0a) throw malformed(name);
      if (type !== 'blob') {
        throw new SlipwayError(`${describePath(name)} in ${root} is a ${type}, not a file.`);
      }
      texts.set(name, bytes.subarray(offset, end).toString('utf8'));
      offset = end + 1;
    }
    if (offset !== bytes.length) throw malformed(unique.at(-1) ?? '');
    return texts;
  }

  function malformed(name: string): SlipwayError {
    return new SlipwayError(`${describePath(name)} in ${root} is not UTF-8 text (or git's output could not be read).`);
  }

  /** Commits on the default branch's first-parent line that touched `path`, newest first. */
  async function history(head: string, path: string, depth: number) {
    const result = await git(
      ['log', '--first-parent', '-z', `--max-count=${depth}`, '--format=%H %ct %P%n%B', head, '--', path],
      { quiet: true },
    );
    return result.stdout
      .split('\0')
      .filter((record) => record !== '')
      .map((record) => {
        const newline = record.indexOf('\n');
        const [commit = '', time = '0', , secondParent] = record.slice(0, newline).split(' ');
        return { commit, time: new Date(Number(time) * 1000), secondParent, message: record.slice(newline + 1) };
      });
  }

  /** Messages of commits by oid, in one `git log --no-walk`. */
  async function messages(oids: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (oids.length === 0) return found;
    const result = await git(['log', '--no-walk=unsorted', '-z', '--format=%H%n%B', ...new Set(oids)], { quiet: true });
    for (const record of result.stdout.split('\0')) {
      const newline = record.indexOf('\n');
      if (newline > 0) found.set(record.slice(0, newline), record.slice(newline + 1));
    }
    return found;
  }

  async function read(request: ReadRequest): Promise<RepositorySnapshot> {
    const { defaultBranch, head } = await layout();
    const paths = request.paths.map(normalizePath);
    const historyPaths = request.historyPaths.map(normalizePath);
    const branchHead = request.branch ? await resolveRef(`refs/heads/${request.branch}`) : undefined;
    const logs = await Promise.all(historyPaths.map((path) => history(head, path, request.historyDepth)));
    // A promotion merged from its branch shows on the first-parent line as a merge commit whose message does not
    // carry the promotion's trailers; its merged branch tip's message does, so it is appended.
    const merged = await messages(logs.flat().flatMap((entry) => (entry.secondParent ? [entry.secondParent] : [])));
    const names = [
      ...paths.map((path) => `${head}:${path}`),
      ...(branchHead ? paths.map((path) => `${branchHead}:${path}`) : []),
      ...historyPaths.flatMap((path, index) => (logs[index] ?? []).map((entry) => `${entry.commit}:${path}`)),
    ];
    const blobs = await readBlobs(names);
    const files = new Map(paths.map((path) => [path, blobs.get(`${head}:${path}`)] as const));
    const historyByPath = new Map<string, PinHistoryEntry[]>();
    historyPaths.forEach((path, index) => {
      historyByPath.set(
        path,
        (logs[index] ?? []).map((entry) => {
          const tip = entry.secondParent ? merged.get(entry.secondParent) : undefined;
          return {
            commit: entry.commit,
            time: entry.time,
            text: blobs.get(`${entry.commit}:${path}`),
            message: tip ? `${entry.message.trimEnd()}\n\n${tip}` : entry.message,
          };
        }),
      );
    });
    return {
      defaultBranch,
      head,
      files,
      history: historyByPath,
      ...(branchHead
        ? {
            branch: {
              name: request.branch,
              head: branchHead,
              files: new Map(paths.map((path) => [path, blobs.get(`${branchHead}:${path}`)] as const)),
            },
          }
        : {}),
    };
  }

  async function readFile(path: string) {
    const { defaultBranch, head } = await layout();
    const name = `${head}:${normalizePath(path)}`;
    const blobs = await readBlobs([name]);
    return { text: blobs.get(name), head, defaultBranch };
  }

  /** The commit holding `changes` on top of `parent`, built in a temporary index: the user's is never touched. */
  async function commit(parent: string, request: WriteRequest): Promise<string> {
    const scratch = mkdtempSync(join(tmpdir(), 'slipway-index-'));
    try {
      const env: Env = { GIT_INDEX_FILE: join(scratch, 'index') };
      await git(['read-tree', parent], { env });
      const modes = await existingModes(
        parent,
        request.changes.map((change) => normalizePath(change.path)),
      );
      const entries: string[] = [];
      for (const change of request.changes) {
        const path = normalizePath(change.path);
        // --no-filters: the text is stored byte for byte (CRLF, BOM), whatever .gitattributes say.
        const blob = (
          await git(['hash-object', '-w', '--no-filters', '--stdin'], { input: change.text })
        ).stdout.trim();
        entries.push(`${modes.get(path) ?? '100644'} ${blob}\t${path}\0`);
      }
      await git(['update-index', '-z', '--index-info'], { env, input: entries.join('') });
      const tree = (await git(['write-tree'], { env })).stdout.trim();
      const when = `@${Math.floor(now().getTime() / 1000)} +0000`;
      const identity: Env = {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_AUTHOR_DATE: when,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
        GIT_COMMITTER_DATE: when,
      };
      const message = request.message.endsWith('\n') ? request.message : `${request.message}\n`;
      return (
        await git(['commit-tree', tree, '-p', parent, '-F', '-'], { env: identity, input: message })
      ).stdout.trim();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** Modes of files that exist, so an executable file stays executable. */
  async function existingModes(tree: string, paths: string[]): Promise<Map<string, string>> {
    const result = await git(['ls-tree', '-z', tree, '--', ...paths]);
    const modes = new Map<string, string>();
    for (const record of result.stdout.split('\0')) {
      const match = /^(\d+) blob [0-9a-f]+\t(.*)$/s.exec(record);
      if (match?.[1] && match[2] !== undefined) modes.set(match[2], match[1]);
    }
    return modes;
  }

  /** Compare-and-swap: moves `ref` from `old` (all zeros: must not exist) to `next`, or throws ConcurrentUpdateError. */
  async function moveRef(ref: string, next: string, old: string, reason: string): Promise<void> {
    try {
      await git(['update-ref', '-m', reason, ref, next, old]);
    } catch (error) {
      if (!(error instanceof ExecError) || error.code === null) throw error;
      const current = await resolveRef(ref);
      const expected = /^0+$/.test(old) ? undefined : old;
      // A held lock means another run is moving the ref right now: the same race, lost a moment earlier.
      if (current !== expected || /\.lock'?: File exists|cannot lock ref/i.test(error.output)) {
        throw new ConcurrentUpdateError(
          ref,
          `${ref} in ${root} moved while this promotion was written (expected ${expected ?? 'no branch'}, found ${current ?? 'no branch'}): re-read and try again.`,
        );
      }
      throw error;
    }
  }

  async function refuseDirtyPaths(paths: string[]): Promise<void> {
    const status = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...paths]);
    const dirty = status.stdout
      .split('\0')
      .filter((record) => /^.. /.test(record))
      .map((record) => record.slice(3));
    if (dirty.length > 0) {
      throw new SlipwayError(
        `The work tree of ${root} has uncommitted changes in ${dirty.join(', ')}, which this promotion edits: commit or discard them first (nothing was written).`,
      );
    }
  }

  async function write(request: WriteRequest): Promise<WriteResult> {
    if (request.changes.length === 0) throw new SlipwayError('Nothing to write: the promotion changes no file.');
    const { snapshot } = request;
    if (request.direct) {
      // layout() reads the default branch from HEAD: in a work tree, that is the branch checked out there.
      const { bare, defaultBranch } = await layout();
      const ref = `refs/heads/${snapshot.defaultBranch}`;
      const followWorkTree = !bare && defaultBranch === snapshot.defaultBranch;
      if (followWorkTree) await refuseDirtyPaths(request.changes.map((change) => normalizePath(change.path)));
      const next = await commit(snapshot.head, request);
      await moveRef(ref, next, snapshot.head, `slipway: ${titleOf(request.message)}`);
      if (followWorkTree) {
        try {
          // A two-tree merge: a fast-forward of the index and the touched files; other local changes stay.
          await git(['read-tree', '-m', '-u', snapshot.head, next]);
        } catch (error) {
          if (!(error instanceof ExecError)) throw error;
          options.logger.warning(
            `${snapshot.defaultBranch} in ${root} now points at ${next}, but its work tree could not follow (git: ${firstLine(error)}); run git reset --keep HEAD there.`,
          );
        }
      }
      return { commit: next, calls: 1 };
    }
    await checkBranchName(request.branch);
    const ref = `refs/heads/${request.branch}`;
    const existing = snapshot.branch?.name === request.branch ? snapshot.branch.head : undefined;
    const next = await commit(snapshot.head, request);
    await moveRef(ref, next, existing ?? '0'.repeat(snapshot.head.length), `slipway: ${titleOf(request.message)}`);
    options.logger.info(
      `${root} has no pull requests: the promotion is the branch ${request.branch} (${next}); merge it into ${snapshot.defaultBranch} to apply it.`,
    );
    return { commit: next, calls: 1 };
  }

  async function checkBranchName(branch: string): Promise<void> {
    const result = await git(['check-ref-format', `refs/heads/${branch}`], { okCodes: [0, 1] });
    if (result.code !== 0) throw new SlipwayError(`${JSON.stringify(branch)} is not a valid git branch name.`);
  }

  return { describe: () => root, readFile, read, write };
}

/** Paths as git names them in a tree: relative to the root, forward slashes, no `./`. */
function normalizePath(path: string): string {
  const normalized = path.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  if (normalized === '' || normalized.startsWith('/') || normalized.split('/').includes('..')) {
    throw new SlipwayError(`${JSON.stringify(path)} is not a path inside the GitOps repository.`);
  }
  return normalized;
}

function describePath(name: string): string {
  const colon = name.indexOf(':');
  return colon >= 0 ? `${name.slice(colon + 1)} (at ${name.slice(0, Math.min(colon, 12))})` : name;
}

function titleOf(message: string): string {
  return message.split('\n', 1)[0] ?? '';
}

function firstLine(error: ExecError): string {
  return error.output.split('\n').find((line) => line.trim() !== '') ?? error.message;
}
