import { SlipwayError, showValue } from '../core/errors.js';
import type { WorkflowClaims } from './types.js';

// The GitHub Actions OIDC token: requested from the runner for Fulcio (audience `sigstore`), and read
// (never verified here) for the claims provenance records. Fulcio verifies the token's signature
// before it issues a certificate, and the certificate, not the token, is what verifiers trust; reading
// unverified claims for provenance is therefore no weaker than GitHub's own flow, and needs no JWKS fetch.
//
// The token is a bearer credential for the signing identity: it never appears in a message or log.

type Env = Readonly<Record<string, string | undefined>>;
type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface IdTokenRetry {
  /** Total attempts, first included. */
  attempts?: number;
  /** Delay before the first retry; doubled for each further one. */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_BASE_DELAY_MS = 500;

/** Asks the runner for an ID token with the given audience and returns the raw JWT. */
export async function requestIdToken(
  env: Env,
  audience = 'sigstore',
  fetchFn: FetchFn = fetch,
  retry: IdTokenRetry = {},
): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) throw missingPermissionError(env);

  // The runner's URL already carries `?api-version=…`; setting the parameter on a parsed URL also
  // copes with one that does not, and encodes the audience.
  const url = new URL(requestUrl);
  url.searchParams.set('audience', audience);

  const attempts = Math.max(1, retry.attempts ?? DEFAULT_ATTEMPTS);
  const baseDelay = retry.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  let lastProblem = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(baseDelay * 2 ** (attempt - 2));
    let response: Response;
    try {
      response = await fetchFn(url.toString(), {
        method: 'GET',
        headers: { Authorization: `bearer ${requestToken}`, Accept: 'application/json' },
      });
    } catch (error) {
      // A reset or refused connection to the runner's token service is as transient as a 5xx.
      lastProblem = `the request failed: ${(error as Error).message}`;
      continue;
    }
    if (response.status >= 500) {
      lastProblem = `the token service answered ${response.status}`;
      await response.body?.cancel();
      continue;
    }
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      throw new SlipwayError(
        `Could not get an OIDC ID token: the token service answered ${response.status}${body ? ` ${showValue(body)}` : ''}.`,
      );
    }
    let value: unknown;
    try {
      value = ((await response.json()) as { value?: unknown }).value;
    } catch {
      throw new SlipwayError(
        'Could not get an OIDC ID token: the token service answered with something other than JSON.',
      );
    }
    if (typeof value !== 'string' || value === '') {
      throw new SlipwayError('Could not get an OIDC ID token: the token service answered without a token.');
    }
    return value;
  }
  throw new SlipwayError(`Could not get an OIDC ID token after ${attempts} attempts: ${lastProblem}.`);
}

function missingPermissionError(env: Env): SlipwayError {
  const event = env.GITHUB_EVENT_NAME ?? '';
  // pull_request_target runs in the base repository's context and can be granted the permission.
  const fromPullRequest = event === 'pull_request' || event.startsWith('pull_request_review');
  const lines = [
    'Keyless signing needs a GitHub OIDC ID token, and this job cannot request one (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set).',
    'Grant it in the workflow: `permissions: id-token: write` on the job (with a reusable workflow, the calling job must grant it too; a called workflow can only reduce permissions).',
    'On pull_request events from forks GitHub never grants id-token: write, whatever the workflow says, so keyless signing cannot run there: sign on push or release, or in a workflow_run workflow that runs after the pull request workflow.',
  ];
  if (fromPullRequest) lines.push(`This run was triggered by ${event}, so a fork pull request is the likely cause.`);
  if (env.GITHUB_ACTIONS !== 'true')
    lines.push('This does not look like a GitHub Actions run at all (GITHUB_ACTIONS is not "true").');
  return new SlipwayError(lines.join('\n'));
}

const REQUIRED_CLAIMS = [
  'iss',
  'sub',
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'ref',
  'sha',
  'event_name',
  'workflow_ref',
  'job_workflow_ref',
  'runner_environment',
  'run_id',
  'run_attempt',
] as const satisfies readonly (keyof WorkflowClaims)[];

/**
 * Reads the claims of a GitHub Actions ID token without verifying its signature (see the note at the
 * top: Fulcio verifies it). Throws naming every required claim that is missing.
 */
export function decodeClaims(token: string): WorkflowClaims {
  const parts = token.split('.');
  // The signature part is not read here (Fulcio checks it), so only header and payload must be present.
  if (parts.length !== 3 || parts[0] === '' || parts[1] === '') {
    throw new SlipwayError(
      `The OIDC ID token is not a JWT (expected header.payload.signature, found ${parts.length} part${parts.length === 1 ? '' : 's'}).`,
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new SlipwayError('The OIDC ID token payload is not base64url-encoded JSON.');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new SlipwayError('The OIDC ID token payload is not a JSON object.');
  }
  const raw = payload as Record<string, unknown>;
  const claims: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of REQUIRED_CLAIMS) {
    const value = claimString(raw[name]);
    if (value === undefined) missing.push(name);
    else claims[name] = value;
  }
  if (missing.length > 0) {
    const issuer = claimString(raw.iss);
    throw new SlipwayError(
      `The OIDC ID token lacks the claim${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${issuer ? ` (issuer ${showValue(issuer)})` : ''}; provenance needs a GitHub Actions token from token.actions.githubusercontent.com or a GitHub Enterprise issuer.`,
    );
  }
  const visibility = claimString(raw.repository_visibility);
  return {
    ...(claims as Omit<WorkflowClaims, 'repository_visibility'>),
    ...(visibility !== undefined ? { repository_visibility: visibility } : {}),
  };
}

/** GitHub sends ids and run numbers as strings; a number is accepted as its decimal text. */
function claimString(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Whether signing must stay off the public transparency log: private and internal repositories sign
 * with GitHub's Sigstore instance, as actions/attest does, so their names never reach public Rekor. A
 * token without the claim counts as private: publishing by mistake cannot be undone.
 */
export function isPrivateRepository(claims: Pick<WorkflowClaims, 'repository_visibility'>): boolean {
  return claims.repository_visibility !== 'public';
}
