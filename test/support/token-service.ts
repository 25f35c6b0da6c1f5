import type { WorkflowClaims } from '../../shared/attest/types.js';
import { serveLoopback } from './loopback.js';
import { githubToken } from './sigstore.js';

// The runner's OIDC token service (ACTIONS_ID_TOKEN_REQUEST_URL) on loopback, for the built actions to sign
// keylessly with. It answers with an unsigned GitHub Actions token (githubToken) whose claims are read at each
// request, so a test can change them between runs, and refuses any audience but `sigstore`, the one Fulcio
// takes: an action that asked for another fails here as it would against Fulcio.

export interface TokenService {
  /** The two variables the runner sets for a job with `id-token: write`. */
  env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  close(): Promise<void>;
}

export async function startTokenService(claims: () => Partial<WorkflowClaims>): Promise<TokenService> {
  const server = await serveLoopback((req, res) => {
    const audience = new URL(req.url ?? '/', 'http://x').searchParams.get('audience');
    res.writeHead(audience === 'sigstore' ? 200 : 400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ value: githubToken(claims()) }));
  });
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${server.url}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token',
    },
    close: server.close,
  };
}
