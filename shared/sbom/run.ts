import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import { readUserText, type UserFile } from '../core/files.js';
import { markdownTable } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { sourceDateEpoch } from '../core/time.js';
import { createRegistryClient } from '../oci/login.js';
import { openReference } from '../oci/open.js';
import type { ImageReference } from '../oci/reference.js';
import type { Timeouts } from '../oci/timeouts.js';
import type { Digest } from '../oci/types.js';
import { type Exception, parseExceptions } from '../vuln/exceptions.js';
import type { Finding } from '../vuln/finding.js';
import { type FailOn, type GateResult, gate } from '../vuln/gate.js';
import { parseVex, type VexStatement } from '../vuln/openvex.js';
import { OsvClient } from '../vuln/osv.js';
import { scan } from '../vuln/scan.js';
import { attachSboms, describeImage, type SbomFile, type SbomFormat, writeSbomFiles } from './sbom.js';
import type { PlatformInventory } from './types.js';

// The sbom action's work, for the runner and the CLI alike: describe every platform of a digest, write and
// attach the SBOMs, then ask OSV and decide. The SBOMs are written and attached before the gate runs, so an
// image that fails the gate still carries its description for whoever investigates.

export interface SbomRequest {
  /** Pinned by digest. */
  image: ImageReference & { digest: Digest };
  formats: SbomFormat[];
  attach: boolean;
  failOn: FailOn;
  onlyFixed: boolean;
  /** Files the user named (read through shared/core/files.ts, so errors name the input and the line). */
  exceptionsFile?: UserFile;
  vexFiles: UserFile[];
  baseline?: ImageReference & { digest: Digest };
  osvUrl: string;
  outputDir: string;
  credentials?: { registry: string; username: string; password: string };
  /** Connect and idle timeouts for Slipway's registry requests; unset ones keep the defaults (shared/oci/timeouts.ts). */
  registryTimeouts?: Partial<Timeouts>;
}

export interface SbomRuntime extends Runtime {
  now: () => Date;
  /** Slipway's version, recorded as the SBOM's tool. */
  toolVersion: string;
}

export interface PlatformDecision {
  platform: string;
  manifestDigest: Digest;
  packages: Record<string, number>;
  gate: GateResult;
}

export interface SbomRecord {
  subject: { name: string; digest: Digest };
  sboms: SbomFile[];
  decision: 'pass' | 'fail' | 'undecided';
  platforms: PlatformDecision[];
  policy: { failOn: FailOn; onlyFixed: boolean; exceptions?: string; vex: string[]; baseline?: string; osv: string };
}

/** Exit code of a gate that could not decide, apart from 1 for a gate that failed (trivy uses one code for both). */
export const UNDECIDED_EXIT_CODE = 3;

export async function runSbom(request: SbomRequest, runtime: SbomRuntime): Promise<SbomRecord> {
  const { logger, env } = runtime;
  // Policy files are read first: a malformed exception must fail before anything is pushed.
  const exceptions: Exception[] = request.exceptionsFile
    ? parseExceptions(readUserText(request.exceptionsFile, 'an exceptions file (YAML)'), request.exceptionsFile.path)
    : [];
  const vex: VexStatement[] = request.vexFiles.flatMap((file) =>
    parseVex(readUserText(file, 'an OpenVEX document (JSON)'), file.path),
  );

  const client = createRegistryClient({
    login: request.credentials,
    env,
    logger,
    secrets: runtime.secrets,
    userAgent: 'slipway-sbom',
    timeouts: request.registryTimeouts,
  });
  const opened = await openReference(request.image, { client, workspace: runtime.workspace });
  const created = sourceDateEpoch(env);
  const inventories = await logger.group(`Describing ${opened.name}@${request.image.digest}`, () =>
    describeImage(opened.store, opened.name, request.image.digest, created ? { created } : {}),
  );
  let sboms = writeSbomFiles(inventories, request.formats, request.outputDir, {
    name: 'slipway',
    version: runtime.toolVersion,
  });
  if (request.attach) {
    const times = new Map(inventories.map((inventory) => [inventory.manifestDigest, inventory.created]));
    sboms = await attachSboms(opened.store, sboms, times);
  }

  const osv = new OsvClient({
    baseUrl: request.osvUrl,
    logger,
    cacheDir: join(env.RUNNER_TEMP || tmpdir(), 'slipway-osv-cache'),
  });
  let baseline: Finding[] | undefined;
  if (request.baseline) {
    const base = await openReference(request.baseline, { client, workspace: runtime.workspace });
    const described = await describeImage(base.store, base.name, request.baseline.digest, created ? { created } : {});
    baseline = await baselineFindings(described, osv);
  }
  const platforms: PlatformDecision[] = [];
  for (const inventory of inventories) {
    const result = await gate({
      packages: inventory.packages,
      distro: inventory.distro,
      client: osv,
      logger,
      failOn: request.failOn,
      onlyFixed: request.onlyFixed,
      exceptions,
      vex,
      ...(baseline ? { baseline } : {}),
      subjects: [`${opened.name}@${inventory.manifestDigest}`, `${opened.name}@${request.image.digest}`],
      now: runtime.now(),
    });
    platforms.push({
      platform: platformOf(inventory),
      manifestDigest: inventory.manifestDigest,
      packages: countByEcosystem(inventory),
      gate: result,
    });
  }
  const decision = platforms.some((p) => p.gate.decision === 'fail')
    ? 'fail'
    : platforms.some((p) => p.gate.decision === 'undecided')
      ? 'undecided'
      : 'pass';
  const record: SbomRecord = {
    subject: { name: opened.name, digest: request.image.digest },
    sboms,
    decision,
    platforms,
    policy: {
      failOn: request.failOn,
      onlyFixed: request.onlyFixed,
      ...(request.exceptionsFile ? { exceptions: request.exceptionsFile.path } : {}),
      vex: request.vexFiles.map((file) => file.path),
      ...(request.baseline
        ? {
            baseline: `${request.baseline.kind === 'registry' ? `${request.baseline.registry}/${request.baseline.repository}` : request.baseline.path}@${request.baseline.digest}`,
          }
        : {}),
      osv: request.osvUrl,
    },
  };
  runtime.summary?.add(renderSbomSummary(record));
  return record;
}

/** Baseline findings may be undecided too; then nothing can be called new, so the caller learns it. */
async function baselineFindings(inventories: readonly PlatformInventory[], osv: OsvClient): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const inventory of inventories) {
    try {
      findings.push(...(await scan(inventory.packages, inventory.distro, osv)).findings);
    } catch (error) {
      const wrapped = new SlipwayError(
        `The baseline could not be scanned, so new vulnerabilities cannot be told from old: ${(error as Error).message}`,
      );
      wrapped.exitCode = UNDECIDED_EXIT_CODE;
      throw wrapped;
    }
  }
  return findings;
}

function platformOf(inventory: PlatformInventory): string {
  const { os, architecture, variant } = inventory.platform;
  return [os, architecture, variant].filter(Boolean).join('/');
}

function countByEcosystem(inventory: PlatformInventory): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const pkg of inventory.packages) counts[pkg.ecosystem] = (counts[pkg.ecosystem] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

const DECISION_TEXT = { pass: 'passed', fail: '**failed**', undecided: '**could not decide**' } as const;

export function renderSbomSummary(record: SbomRecord): string {
  const ecosystems = [...new Set(record.platforms.flatMap((p) => Object.keys(p.packages)))].sort();
  const lines = [
    `### SBOM of ${record.subject.name}@${record.subject.digest}`,
    '',
    markdownTable(
      ['platform', ...ecosystems, 'total'],
      record.platforms.map((p) => [
        p.platform,
        ...ecosystems.map((e) => String(p.packages[e] ?? 0)),
        String(Object.values(p.packages).reduce((a, b) => a + b, 0)),
      ]),
    ),
    '',
    markdownTable(
      ['file', 'platform', 'digest', 'attached'],
      record.sboms.map((f) => [
        `\`${f.path.split('/').pop()}\``,
        f.platform,
        `\`${f.digest}\``,
        f.attached ? `${f.attached.via} \`${f.attached.referrer}\`` : 'no',
      ]),
    ),
    '',
    `The vulnerability gate (fail on ${record.policy.failOn}${record.policy.onlyFixed ? ', only fixed' : ''}) ${DECISION_TEXT[record.decision]}.`,
  ];
  for (const platform of record.platforms) {
    const { gate: result } = platform;
    if (
      result.blocking.length + result.suppressed.length + result.fixedSinceBaseline.length === 0 &&
      result.reasons.length === 0
    )
      continue;
    lines.push('', `#### ${platform.platform}`);
    for (const reason of result.reasons) lines.push(`- ${reason}`);
    const rows = [
      ...result.blocking.map((f) => findingRow(f, 'blocks')),
      ...result.suppressed.map(({ finding, by }) =>
        findingRow(
          finding,
          by.kind === 'exception'
            ? `accepted until ${by.expires}: ${by.reason}`
            : `VEX ${by.status}${by.justification ? ` (${by.justification})` : ''}`,
        ),
      ),
      ...result.fixedSinceBaseline.map((f) => findingRow(f, 'fixed since the baseline')),
    ];
    if (rows.length > 0)
      lines.push('', markdownTable(['vulnerability', 'package', 'version', 'severity', 'fixed in', 'status'], rows));
  }
  return lines.join('\n');
}

function findingRow(finding: Finding, status: string): string[] {
  return [
    finding.id,
    finding.package.name,
    finding.package.version,
    finding.severity,
    finding.fixedIn.join(', ') || '—',
    status,
  ];
}
