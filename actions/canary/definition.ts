import { ConfigurationError, InvalidValueError, SlipwayError } from '../../shared/core/errors.js';
import { userFile } from '../../shared/core/files.js';
import { githubContext } from '../../shared/github/context.js';
import { credentialsFromInputs } from '../../shared/oci/login-inputs.js';
import { writeRecord } from '../../shared/records/record.js';
import { defineAction } from '../../shared/runner/action.js';
import { choice, duration, githubToken, integer, parseDuration, text } from '../../shared/runner/inputs.js';
import { registryTimeoutInputs, registryTimeouts } from '../registry-inputs.js';

// The canary action: inputs into one plan; shared/canary/run-canary.ts evaluates and moves exposure. Everything
// beyond the input readers is imported when the inputs are read, so an input error costs no start time. The
// decision is the exit code (0 promote or continue, 1 rollback, 3 inconclusive), and canary.json and the step
// summary are written before it, whatever it is.

/** The exit code of a canary that could not decide, as sbom's undecided gate: never a pass. */
const INCONCLUSIVE_EXIT_CODE = 3;

export const canary = defineAction({
  name: 'canary',
  inputs: {
    'prometheus-url': text({ pattern: /https?:\/\/\S+/, expected: 'an http(s) URL such as http://prometheus:9090' }),
    metrics: text({
      default: 'http',
      expected: 'a preset (http, istio, linkerd, nginx) or the path of a metrics file',
    }),
    canary: text({ required: true, expected: 'label matchers of the canary arm, e.g. version="canary"' }),
    baseline: text({ required: true, expected: 'label matchers of the baseline arm, e.g. version="stable"' }),
    service: text({ expected: 'label matchers common to both arms, e.g. app="api"' }),
    since: text({ expected: 'an RFC 3339 time (2026-03-01T10:00:00Z) or the path of a promotion record' }),
    steps: text({ default: '1,5,25,100', expected: 'percentages separated by commas, e.g. 1,5,25,100' }),
    interval: duration({ default: '1m' }),
    deadline: duration({ default: '30m' }),
    alpha: text({ default: '0.05', expected: 'a number between 0 and 1, e.g. 0.05' }),
    tolerance: text({ default: '1.0', expected: 'a number of at least 1, e.g. 1.0 (no increase accepted)' }),
    'promote-margin': text({ expected: 'a number of at least 1, e.g. 1.2' }),
    mode: choice(['once', 'loop'], { default: 'once' }),
    'slo-latency': text({ expected: 'a histogram bucket bound as a duration, e.g. 0.5s or 500ms' }),
    'scrape-interval': duration({ default: '15s' }),
    'min-step-duration': duration({ default: '5m' }),
    warmup: duration({ default: '1m' }),
    'min-step-requests': integer({ default: '0', min: 0 }),
    'min-exposure-requests': integer({ default: '0', min: 0 }),
    weight: text({ expected: 'a percentage from 0 to 100' }),
    'gitops-repo': text({
      expected: 'owner/name (a repository on GitHub) or a local path starting with ./, ../ or /',
    }),
    environment: text({ pattern: /[A-Za-z0-9][A-Za-z0-9_.-]*/, expected: 'an environment name from .slipway.yaml' }),
    'gitops-service': text({ pattern: /[A-Za-z0-9][A-Za-z0-9_.-]*/, expected: 'a service name from .slipway.yaml' }),
    exposure: text({ expected: 'rollout, flagd, or a dotted YAML path to the weight (spec.weight)' }),
    'exposure-file': text({ expected: 'a path in the GitOps repository' }),
    flag: text({ expected: 'the key of the flagd flag' }),
    config: text({ default: '.slipway.yaml', expected: 'a path in the GitOps repository' }),
    'prometheus-token': text({ secret: true }),
    'prometheus-username': text(),
    'prometheus-password': text({ secret: true }),
    'prometheus-headers': text({ secret: true }),
    'prometheus-timeout': duration({ default: '30s' }),
    token: githubToken(),
    // Promote's rollback verifies the digest it pins again, as any promotion does: what that needs.
    'trusted-root': text(),
    username: text(),
    password: text({ secret: true }),
    ...registryTimeoutInputs,
    simulate: {
      ...text({ expected: 'a scenario such as errors=2,exposure=5,rps=200, or true for the default one' }),
      // `slipway canary --simulate` alone runs the default scenario.
      bareFlag: true,
    },
  },
  outputs: ['decision', 'step', 'weight', 'record'],

  async main({ inputs, outputs, summary, logger, secrets, env, workspace, recordDirectory }) {
    const ci = await import('../../shared/canary/canary-inputs.js');
    const serviceMatchers = inputs.service ? ci.matchersInput('service', inputs.service) : [];
    const gitopsService = ci.gitopsServiceName(serviceMatchers, inputs['gitops-service']);
    ci.checkCanaryChoice({
      ...(inputs['gitops-repo'] ? { gitopsRepo: inputs['gitops-repo'] } : {}),
      ...(inputs.environment ? { environment: inputs.environment } : {}),
      ...(inputs.exposure ? { exposure: inputs.exposure } : {}),
      ...(inputs['exposure-file'] ? { exposureFile: inputs['exposure-file'] } : {}),
      ...(gitopsService ? { gitopsService } : {}),
      ...(inputs.simulate !== undefined ? { simulate: inputs.simulate } : {}),
      ...(inputs['prometheus-url'] ? { prometheusUrl: inputs['prometheus-url'] } : {}),
    });
    const [{ readMetrics, requireLatencyBuckets }, { runCanary }, { CANARY_RECORD }, { canarySummary }] =
      await Promise.all([
        import('../../shared/canary/metrics-file.js'),
        import('../../shared/canary/run-canary.js'),
        import('../../shared/records/canary.js'),
        import('../../shared/canary/summary.js'),
      ]);

    const metrics = readMetrics(inputs.metrics, workspace);
    let sloLatencySeconds: number | undefined;
    if (inputs['slo-latency']) {
      requireLatencyBuckets(metrics, inputs['slo-latency']);
      const ms = parseDuration(inputs['slo-latency']);
      if (ms === undefined || ms <= 0) {
        throw new ConfigurationError(
          'slo-latency',
          inputs['slo-latency'],
          'a histogram bucket bound as a duration, e.g. 0.5s or 500ms',
        );
      }
      sloLatencySeconds = ms / 1000;
    }
    const canaryArm = { matchers: ci.matchersInput('canary', inputs.canary), service: serviceMatchers };
    const baselineArm = { matchers: ci.matchersInput('baseline', inputs.baseline), service: serviceMatchers };
    const steps = ci.parseSteps(inputs.steps);
    const alpha = ci.parseNumber('alpha', inputs.alpha, { above: 0, below: 1 }, 'a number between 0 and 1, e.g. 0.05');
    const tolerance = ci.parseNumber('tolerance', inputs.tolerance, { atLeast: 1 }, 'a number of at least 1, e.g. 1.0');
    const promoteMargin = inputs['promote-margin']
      ? ci.parseNumber('promote-margin', inputs['promote-margin'], { atLeast: 1 }, 'a number of at least 1, e.g. 1.2')
      : undefined;
    const weight = inputs.weight
      ? ci.parseNumber('weight', inputs.weight, { atLeast: 0 }, 'a percentage from 0 to 100')
      : undefined;
    if (weight !== undefined && weight > 100)
      throw new ConfigurationError('weight', inputs.weight, 'a percentage from 0 to 100');
    if (weight !== undefined && inputs['gitops-repo']) {
      throw new ConfigurationError(
        'weight',
        inputs.weight,
        'no weight with gitops-repo',
        'the GitOps repository holds the weight',
      );
    }

    // The simulator: its own clock, exposure in memory, the whole canary in one loop.
    const simulation =
      inputs.simulate !== undefined ? await simulationOf(inputs.simulate, canaryArm, baselineArm) : undefined;
    // The GitOps repository, opened once: `since` may be read from it, then exposure is written to it.
    const opened = inputs['gitops-repo']
      ? await (async () => {
          const { gitopsLocation, openRepository } = await import('../../shared/gitops/open-repository.js');
          return openRepository({
            location: gitopsLocation(inputs['gitops-repo'] as string, workspace),
            token: inputs.token,
            context: githubContext(env),
            logger,
          });
        })()
      : undefined;
    let since: Date;
    let subject: { name: string; digest: string } | undefined;
    if (inputs.since) {
      const read = await ci.readSince(inputs.since, workspace, gitopsService);
      ({ at: since, subject } = read);
      if (read.landing && opened) {
        // A promotion record's finish time is only when its run ended; the canary started when the digest reached
        // the default branch (a pull request merges later, often as another commit).
        const { promotionLandedAt } = await import('../../shared/canary/started-at.js');
        const landed = await promotionLandedAt(opened.repository, read.landing);
        if (landed) {
          since = landed.at;
          logger.info(
            `since: ${landed.commit} brought ${read.landing.digest} to the default branch at ${since.toISOString()}`,
          );
        } else {
          logger.warning(
            `since: the default branch of ${opened.repository.describe()} does not pin ${read.landing.digest} in ${read.landing.files.join(', ')}; using the promotion's finish time, ${since.toISOString()}`,
          );
        }
      }
    } else if (simulation) since = simulation.start;
    else
      throw new ConfigurationError(
        'since',
        '',
        'an RFC 3339 time (2026-03-01T10:00:00Z) or the path of a promotion record',
      );
    const now = simulation?.clock.now ?? (() => new Date());
    if (since.getTime() > now().getTime()) {
      throw new ConfigurationError('since', inputs.since, 'a time in the past', `${since.toISOString()} is after now`);
    }

    const plan = {
      metrics,
      canary: canaryArm,
      baseline: baselineArm,
      ...(sloLatencySeconds !== undefined ? { sloLatencySeconds } : {}),
      steps,
      alpha,
      tolerance,
      ...(promoteMargin !== undefined ? { promoteMargin } : {}),
      minStepSeconds: inputs['min-step-duration'] / 1000,
      warmupSeconds: inputs.warmup / 1000,
      ...(inputs['min-step-requests'] > 0 ? { minStepRequests: inputs['min-step-requests'] } : {}),
      ...(inputs['min-exposure-requests'] > 0 ? { minExposureRequests: inputs['min-exposure-requests'] } : {}),
      deadlineSeconds: inputs.deadline / 1000,
      scrapeIntervalSeconds: inputs['scrape-interval'] / 1000,
      since,
    };
    const { checkPlan } = await import('../../shared/canary/evaluate.js');
    checkPlan(plan);

    let source: import('../../shared/canary/source.js').MetricsSource;
    if (simulation) {
      source = simulation.source;
    } else {
      const [{ PrometheusClient }, { prometheusSource }] = await Promise.all([
        import('../../shared/canary/prometheus.js'),
        import('../../shared/canary/prometheus-source.js'),
      ]);
      const auth = ci.prometheusAuth({
        ...(inputs['prometheus-token'] ? { token: inputs['prometheus-token'] } : {}),
        ...(inputs['prometheus-username'] ? { username: inputs['prometheus-username'] } : {}),
        ...(inputs['prometheus-password'] ? { password: inputs['prometheus-password'] } : {}),
      });
      const client = new PrometheusClient({
        url: inputs['prometheus-url'] as string,
        auth,
        headers: ci.parseHeaders(inputs['prometheus-headers']),
        idleTimeoutMs: inputs['prometheus-timeout'],
        logger,
      });
      source = prometheusSource(client, metrics);
    }

    let store: import('../../shared/canary/exposure/index.js').ExposureStore;
    if (opened && inputs['gitops-repo']) {
      const [{ gitopsExposure }, { exposureEditor }] = await Promise.all([
        import('../../shared/canary/exposure/gitops-store.js'),
        import('../../shared/canary/exposure/index.js'),
      ]);
      const service = gitopsService as string;
      const registryCredentials = credentialsFromInputs(inputs.username, inputs.password);
      let trustedRoot: object | undefined;
      if (inputs['trusted-root']) {
        const { readTrustedRoot } = await import('../../shared/attest/trusted-root.js');
        trustedRoot = readTrustedRoot(
          userFile('trusted-root', inputs['trusted-root'], workspace, 'a Sigstore trusted root JSON file'),
        );
      }
      const { repository } = opened;
      store = gitopsExposure({
        repository,
        file: inputs['exposure-file'] as string,
        editor: exposureEditor(inputs.exposure as string, { flag: inputs.flag ?? service }),
        service,
        environment: inputs.environment as string,
        config: inputs.config,
        promote: {
          request: {
            gitopsRepo: inputs['gitops-repo'],
            ...(inputs.token ? { token: inputs.token } : {}),
            ...(trustedRoot ? { trustedRoot } : {}),
            ...(registryCredentials ? { registryCredentials } : {}),
            registryTimeouts: registryTimeouts(inputs),
          },
          runtime: { env, logger, secrets, workspace, summary, open: async () => opened },
        },
        logger,
      });
    } else if (simulation) {
      store = simulation.store(since);
    } else {
      const { memoryExposure } = await import('../../shared/canary/exposure/memory-store.js');
      // Without a GitOps repository nothing is written: the weight is what the input says has been in force.
      store = memoryExposure(weight ?? steps[0]!, since, now);
    }

    const mode = simulation ? 'loop' : inputs.mode;
    if (simulation && inputs.mode === 'once')
      logger.info('simulate runs the whole canary (mode loop) on a simulated clock.');
    const record = await runCanary(
      {
        plan,
        mode,
        intervalSeconds: inputs.interval / 1000,
        ...(gitopsService ? { service: gitopsService } : {}),
        ...(inputs.environment ? { environment: inputs.environment } : {}),
        ...(subject ? { subject } : {}),
        described: {
          metrics: inputs.metrics,
          canary: inputs.canary,
          baseline: inputs.baseline,
          ...(inputs.service ? { service: inputs.service } : {}),
        },
      },
      {
        source,
        store,
        now,
        sleep: simulation?.clock.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
        logger,
      },
    );

    // Outputs, record and summary first: a rollback or an inconclusive canary still hands over its evidence.
    outputs.set('decision', record.decision);
    outputs.set('step', String(record.step));
    outputs.set('weight', String(record.weight));
    outputs.set('record', writeRecord(recordDirectory, CANARY_RECORD, record, secrets));
    summary.add(canarySummary(record));
    const why = record.reasons.map((r) => r.message).join('; ');
    if (record.decision === 'rollback') {
      throw new SlipwayError(`The canary was rolled back: ${why}`);
    }
    if (record.decision === 'inconclusive') {
      const error = new SlipwayError(`The canary could not decide, which is never a pass: ${why}`);
      error.exitCode = INCONCLUSIVE_EXIT_CODE;
      throw error;
    }
    logger.info(`Canary ${record.decision} at ${record.weight}%: ${why}`);
  },
});

type ArmInput = import('../../shared/canary/traffic.js').Arm;

/** The simulator's source, clock and memory store; the simulated canary's share follows the store's weight. */
async function simulationOf(text: string, canaryArm: ArmInput, baselineArm: ArmInput) {
  const [{ parseScenario, simulatedSource, simulatedClock }, { memoryExposure }, { trackWeights }] = await Promise.all([
    import('../../shared/canary/simulate.js'),
    import('../../shared/canary/exposure/memory-store.js'),
    import('../../shared/canary/run-canary.js'),
  ]);
  let scenario: import('../../shared/canary/simulate.js').Scenario;
  try {
    scenario = parseScenario(text === '' ? 'true' : text);
  } catch (error) {
    if (error instanceof InvalidValueError) throw ConfigurationError.fromInvalidValue('simulate', error);
    throw error;
  }
  const clock = simulatedClock(scenario.start);
  const tracked = trackWeights(scenario.exposure ?? 0, scenario.start);
  const source = simulatedSource(scenario, { canary: canaryArm, baseline: baselineArm }, tracked.weightAt);
  return {
    start: scenario.start,
    clock,
    source,
    store: (since: Date) => tracked.wrap(memoryExposure(scenario.exposure ?? 0, since, clock.now), clock.now),
  };
}
