import { markdownCell, markdownTable } from '../core/markdown.js';
import type {
  LineageRecord,
  PromotionResult,
  ServicePromotionRecord,
  ServiceVerificationRecord,
} from '../records/promotion.js';

// The promotion pull request's title and body. People read the summary first (per service: old and new digest and
// tag, the lineage proof with its soak, the verification result, links to the run and the source commit); programs
// read the hidden metadata at the end, `<!-- slipway:v1 <base64 JSON> -->`, as Telefonistka does. Both stay within
// GitHub's limits (reference/promotion.md §5): titles are cut well before 256 characters (other tools break at
// 250-255), bodies before 65,536. A body too long for every service (a bundle of hundreds) keeps its metadata whole
// and names the services it had to leave out of the summary. Nothing secret is ever an input here: digests, names,
// paths and URLs only.

export const MAX_TITLE_CHARS = 250;
/** GitHub counts characters; bytes are never fewer, so counting UTF-8 bytes stays under the limit whatever it counts. */
export const MAX_BODY_BYTES = 65_536;
export const METADATA_PREFIX = '<!-- slipway:v1 ';
const METADATA_SUFFIX = ' -->';

/** What a pull request says; a subset of the promotion record, so the record and the PR cannot disagree. */
export type PullRequestFacts = Pick<
  PromotionResult,
  'environment' | 'services' | 'bundleId' | 'rollback' | 'hold' | 'run' | 'gitops'
> & { branch?: string };

/** The machine-readable part, for the evidence action and for a later run that reads the PR. */
export interface PullRequestMetadata {
  environment: string;
  bundleId?: string;
  rollback: boolean;
  hold?: boolean;
  /** Every service; only service and next in a bundle too large for more, none past that (see servicesOmitted). */
  services: {
    service: string;
    next: string;
    image?: string;
    previous?: string;
    tag?: string;
    verified?: ServiceVerificationRecord['verdict'];
    after?: { environment: string; commit?: string; pinnedSince?: string }[];
  }[];
  /** How many services a bundle too large to list has; promotion.json lists them. */
  servicesOmitted?: number;
  run?: { url?: string; sourceRepository?: string; sourceCommit?: string };
}

export interface PullRequestContent {
  title: string;
  body: string;
}

export function pullRequestContent(
  facts: PullRequestFacts,
  limits = { bodyBytes: MAX_BODY_BYTES },
): PullRequestContent {
  return { title: pullRequestTitle(facts), body: pullRequestBody(facts, limits.bodyBytes) };
}

/** `Promote api sha256:0123456789ab (v1.2.0) to staging`; a bundle names its id and size. */
export function pullRequestTitle(facts: PullRequestFacts): string {
  const verb = facts.rollback ? 'Roll back' : 'Promote';
  const [only] = facts.services;
  let title: string;
  if (facts.services.length === 1 && only) {
    const pin = `${shortDigest(only.next.digest)}${only.next.tag ? ` (${only.next.tag})` : ''}`;
    title = facts.rollback
      ? `${verb} ${only.service} in ${facts.environment} to ${pin}`
      : `${verb} ${only.service} ${pin} to ${facts.environment}`;
  } else if (facts.services.length === 0) {
    title = facts.hold?.released ? `Release the hold on ${facts.environment}` : `Update ${facts.environment}`;
  } else {
    const names = facts.services.map((s) => s.service).join(', ');
    const bundle = facts.bundleId ? `bundle ${facts.bundleId.slice(0, 12)}` : 'bundle';
    title = `${verb} ${bundle} (${facts.services.length} services: ${names})${facts.rollback ? ' in' : ' to'} ${facts.environment}`;
  }
  return truncateChars(title.replace(/\s+/g, ' '), MAX_TITLE_CHARS);
}

/** The body: the summary, cut to fit where it must, then the metadata comment, which is never cut. */
export function pullRequestBody(facts: PullRequestFacts, maxBytes = MAX_BODY_BYTES): string {
  // A bundle so large that its metadata would crowd out the summary drops the lineage, then all but each service's
  // new digest, then the list (promotion.json keeps everything): the metadata takes at most half the body.
  let metadata = '';
  for (const detail of METADATA_DETAIL) {
    metadata = metadataComment(pullRequestMetadata(facts, detail));
    if (bytes(metadata) <= maxBytes / 2) break;
  }
  const budget = maxBytes - bytes(metadata) - 2;
  const render = (shown: number) => `${summary(facts, shown)}\n\n${metadata}`;
  const all = facts.services.length;
  if (bytes(render(all)) <= maxBytes) return render(all);
  // The largest number of services whose summary fits: the summary grows with each service shown.
  let low = 0;
  let high = all;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (bytes(summary(facts, mid)) <= budget) low = mid;
    else high = mid - 1;
  }
  const shown = summary(facts, low);
  if (bytes(shown) <= budget) return `${shown}\n\n${metadata}`;
  // Not even the header fits (an absurd limit): the metadata alone, cut to nothing more.
  return truncateBytes(shown, Math.max(0, budget)) + `\n\n${metadata}`;
}

/** The metadata a body carries, or undefined when it has none (a PR not opened by Slipway). */
export function readPullRequestMetadata(body: string): PullRequestMetadata | undefined {
  const match = /<!-- slipway:v1 ([A-Za-z0-9+/=]+) -->/.exec(body);
  if (!match) return undefined;
  try {
    return JSON.parse(Buffer.from(match[1]!, 'base64').toString('utf8')) as PullRequestMetadata;
  } catch {
    return undefined;
  }
}

/** How much of each service the metadata carries; less for bundles too large for GitHub's body limit. */
export type MetadataDetail = 'full' | 'digests' | 'none';
const METADATA_DETAIL: readonly MetadataDetail[] = ['full', 'digests', 'none'];

export function pullRequestMetadata(facts: PullRequestFacts, detail: MetadataDetail = 'full'): PullRequestMetadata {
  const services =
    detail === 'none'
      ? []
      : facts.services.map((s) =>
          detail === 'digests'
            ? { service: s.service, next: s.next.digest }
            : {
                service: s.service,
                image: s.image,
                ...(s.previous ? { previous: s.previous.digest } : {}),
                next: s.next.digest,
                ...(s.next.tag ? { tag: s.next.tag } : {}),
                verified: s.verification.verdict,
                ...(s.lineage.after
                  ? {
                      after: s.lineage.after.environments.map((e) => ({
                        environment: e.environment,
                        ...(e.commit ? { commit: e.commit } : {}),
                        ...(e.pinnedSince ? { pinnedSince: e.pinnedSince } : {}),
                      })),
                    }
                  : {}),
              },
        );
  return {
    environment: facts.environment,
    ...(facts.bundleId ? { bundleId: facts.bundleId } : {}),
    rollback: facts.rollback,
    ...(facts.hold ? { hold: facts.hold.set } : {}),
    services,
    ...(detail === 'none' ? { servicesOmitted: facts.services.length } : {}),
    ...(facts.run
      ? {
          run: {
            ...(facts.run.url ? { url: facts.run.url } : {}),
            ...(facts.run.sourceRepository ? { sourceRepository: facts.run.sourceRepository } : {}),
            ...(facts.run.sourceCommit ? { sourceCommit: facts.run.sourceCommit } : {}),
          },
        }
      : {}),
  };
}

function metadataComment(metadata: PullRequestMetadata): string {
  return `${METADATA_PREFIX}${Buffer.from(JSON.stringify(metadata), 'utf8').toString('base64')}${METADATA_SUFFIX}`;
}

/** The human part, showing the first `shown` services and naming how many more there are. */
function summary(facts: PullRequestFacts, shown: number): string {
  const services = facts.services.slice(0, shown);
  const hidden = facts.services.length - services.length;
  const lines: string[] = [];
  const into = facts.rollback ? `Rollback of **${facts.environment}**` : `Promotion to **${facts.environment}**`;
  const bundle = facts.bundleId
    ? `, bundle \`${facts.bundleId.slice(0, 12)}\` (${facts.services.length} services in one commit)`
    : '';
  lines.push(`${into} in ${markdownCell(facts.gitops.repository)}${bundle}, by Slipway.`, '');
  if (facts.services.length > 0) {
    lines.push(
      markdownTable(
        ['service', 'previous', 'new', 'verification'],
        services.map((s) => [
          s.service,
          s.previous ? pinText(s.previous) : '(none)',
          pinText(s.next),
          verificationText(s.verification),
        ]),
      ),
    );
    if (hidden > 0) {
      lines.push(
        '',
        `… and ${hidden} more service${hidden === 1 ? '' : 's'}, left out to stay within GitHub's size limit: the metadata below and promotion.json list every one.`,
      );
    }
    const lineage = services.map((s) => lineageLine(s)).filter((line): line is string => line !== undefined);
    if (lineage.length > 0) lines.push('', '**Lineage**', '', ...lineage);
  }
  if (facts.hold?.set)
    lines.push(
      '',
      `**Hold set** on ${facts.environment}${facts.hold.reason ? `: ${markdownCell(facts.hold.reason)}` : ''}. Automatic promotion into it is refused until release-hold clears it.`,
    );
  if (facts.hold?.released) lines.push('', `**Hold released** on ${facts.environment}.`);
  const links = runLinks(facts.run);
  if (links.length > 0) lines.push('', ...links);
  return lines.join('\n');
}

function pinText(pin: { digest: string; tag?: string }): string {
  return `\`${pin.digest}\`${pin.tag ? ` (${pin.tag})` : ''}`;
}

function verificationText(v: ServiceVerificationRecord): string {
  if (v.verdict === 'verified') {
    const types = v.predicateTypes.length > 0 ? `, ${v.predicateTypes.join(', ')}` : '';
    return `verified${v.signer ? ` (${v.signer}${types})` : types}`;
  }
  if (v.verdict === 'skipped') return 'unchanged';
  return `**failed**: ${v.codes.join(', ')}`;
}

function lineageLine(s: ServicePromotionRecord): string | undefined {
  const lineage: LineageRecord = s.lineage;
  if (lineage.mode === 'rollback') return `- ${s.service}: rolled back to the digest pinned before the last promotion.`;
  if (!lineage.after) return lineage.mode === 'from' ? `- ${s.service}: read from the source environment.` : undefined;
  const parts = lineage.after.environments.map((e) => {
    const since = e.pinnedSince ? ` since ${e.pinnedSince}` : '';
    const commit = e.commit ? ` (commit ${e.commit.slice(0, 12)})` : '';
    const soak = e.soakMs > 0 ? `, soak ${formatDuration(e.soakMs)} ${e.satisfied ? 'met' : 'not met'}` : '';
    return `in ${e.environment}${since}${commit}${soak}`;
  });
  return `- ${s.service}: ${lineage.after.mode === 'any-of' ? 'any of: ' : ''}${markdownCell(parts.join('; '))}`;
}

function runLinks(run: PullRequestFacts['run']): string[] {
  if (!run) return [];
  const lines: string[] = [];
  if (run.url) lines.push(`- Run: ${run.url}`);
  if (run.sourceCommit) {
    const label = `${run.sourceRepository ? `${run.sourceRepository}@` : ''}${run.sourceCommit.slice(0, 12)}`;
    lines.push(`- Source commit: ${run.sourceCommitUrl ? `[${label}](${run.sourceCommitUrl})` : label}`);
  }
  return lines;
}

/** `90m` → `1h30m`, `10m`, `45s`: as .slipway.yaml writes soaks. */
export function formatDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const text = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return text || `${ms}ms`;
}

function shortDigest(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function truncateChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function truncateBytes(text: string, max: number): string {
  // Decoding a cut buffer drops a split character as U+FFFD; removing it keeps the text valid and within max.
  return Buffer.from(text, 'utf8')
    .subarray(0, max)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
}
