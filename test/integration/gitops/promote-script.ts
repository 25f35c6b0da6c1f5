import { silentLogger } from '../../../shared/core/logger.js';
import { backoffMs } from '../../../shared/core/retry.js';
import { parseSlipwayConfig } from '../../../shared/gitops/config.js';
import { ConcurrentUpdateError } from '../../../shared/gitops/errors.js';
import { localRepository } from '../../../shared/gitops/local-repository.js';
import { planPromotion, readRequestFor } from '../../../shared/gitops/planner.js';
import type { ImagePin } from '../../../shared/gitops/types.js';

// One promotion run as its own process, for the race tests: read, plan, write; on a lost compare-and-swap read
// again, plan again and retry after a jittered wait. Bundled by the test with esbuild and started twice at once.
//
//   node promote-script.mjs <repo> <environment> <service> <startAtMs> <digest>...
//
// Each digest is promoted in turn; prints {"commits": [...], "retries": n} on stdout.

const [repo = '', environment = '', service = '', startAt = '0', ...digests] = process.argv.slice(2);
const repository = localRepository(repo, { logger: silentLogger });
const policy = await repository.readFile('.slipway.yaml');
const config = parseSlipwayConfig(policy.text ?? '', '.slipway.yaml');
const image = config.services[service]?.image ?? '';

// Both processes start their first read at the same instant, so their writes race.
await new Promise((done) => setTimeout(done, Math.max(0, Number(startAt) - Date.now())));

const commits: string[] = [];
let retries = 0;
for (const digest of digests) {
  const pin = { name: image, digest } as ImagePin;
  const request = {
    environment,
    services: [service],
    source: { images: { [service]: pin } },
    rollback: false,
    hold: false,
    releaseHold: false,
    now: new Date(),
  };
  for (let attempt = 1; ; attempt++) {
    const snapshot = await repository.read(readRequestFor(config, request));
    const plan = planPromotion(config, snapshot, request);
    if (!plan.changed) break;
    try {
      const result = await repository.write({
        snapshot,
        branch: plan.branch,
        direct: plan.direct,
        changes: plan.changes,
        message: plan.message,
      });
      commits.push(result.commit);
      break;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= 30) throw error;
      retries++;
      const wait = backoffMs(attempt, { attempts: 30, baseDelayMs: 10, maxDelayMs: 200 });
      await new Promise((done) => setTimeout(done, wait));
    }
  }
}
process.stdout.write(JSON.stringify({ commits, retries }));
