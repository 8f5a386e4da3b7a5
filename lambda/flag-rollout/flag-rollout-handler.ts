import { clock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { log } from '../shared/log';
import { CALLER_RETRIES, withRetryPolicy } from '../shared/sdk-retries';
import { requireAction, requireObject } from '../shared/validate';
import { awaitDeployment, deployDocument, deployedDocument } from './appconfig-store';
import { restoreFlag } from './flag-restore';
import {
  FlagJudgeResult, FlagPhase, FlagRolloutConfig, FlagRolloutRequest, PhaseBake, SetPhaseResult, StartResult,
} from './flag-rollout-contract';
import { canonicalJson, controlOf, documentForPhase, flagOf } from './phase-document';
import { readVariantData } from './variant-metrics-reader';
import { judgeVariants, judgementWindow } from './variant-judge';

const SOURCE = 'flag-rollout request';
const ACTIONS = ['start', 'setPhase', 'checkDeployment', 'judge', 'rollback'] as const;

/** Start: the deployed document, the flag as it is (kept for the rollback), its control variant. */
async function start(config: FlagRolloutConfig): Promise<StartResult> {
  const deployed = await deployedDocument(config);
  const flag = flagOf(deployed.document, config.flagKey);
  const control = controlOf(config.flagKey, flag, config.treatment);
  return { flagKey: config.flagKey, originalFlag: JSON.stringify(flag), baseVersion: deployed.versionNumber, treatment: config.treatment, control };
}

/**
 * Deploys the phase: the deployed document with the rollout's rule at the phase's percentage or segments. Nothing
 * is written when the deployed document already is that (a retried task, or a phase that repeats the last one).
 */
async function setPhase(config: FlagRolloutConfig, phase: FlagPhase): Promise<SetPhaseResult> {
  const deployed = await deployedDocument(config);
  const desired = documentForPhase(deployed.document, config.flagKey, config.treatment, phase);
  if (canonicalJson(desired) === canonicalJson(deployed.document)) return { changed: false, versionNumber: deployed.versionNumber };
  const what = phase.segments !== undefined ? `segments ${phase.segments.join(', ')}` : `${phase.percent}%`;
  const { versionNumber, deploymentNumber } = await deployDocument(config, desired,
    `cdk-zero-downtime guarded rollout of ${config.flagKey}: phase ${phase.number} (${phase.name}), ${config.treatment} for ${what}`);
  log('info', 'flag phase deployed', { flag: config.flagKey, phase: phase.number, versionNumber, deploymentNumber });
  return { changed: true, versionNumber, deploymentNumber };
}

async function judge(config: FlagRolloutConfig, phase: FlagPhase, bake: PhaseBake, names: { treatment: string; control: string }): Promise<FlagJudgeResult> {
  const now = clock().now();
  const window = judgementWindow(config.analysis, bake, now);
  const data = await readVariantData(config.analysis, config.flagKey, names, window.phaseStartMs, window.fromMs, window.endMs);
  const result = judgeVariants(config.analysis, phase, bake, data, now, names);
  log('info', 'flag phase judged', { flag: config.flagKey, phase: phase.number, verdict: result.verdict, reasons: result.reasons });
  return result;
}

/** The guarded flag rollout's steps (GuardedFlagRollout's state machine): start / setPhase / checkDeployment / judge / rollback. */
async function handle(event: unknown): Promise<unknown> {
  const config = readConfig<FlagRolloutConfig>();
  const body = requireObject(event, SOURCE);
  const action = requireAction(body, ACTIONS, SOURCE);
  const request = body as unknown as FlagRolloutRequest;
  switch (action) {
    case 'start': return start(config);
    case 'setPhase': return setPhase(config, requireObject(body.phase, SOURCE, 'phase') as unknown as FlagPhase);
    case 'checkDeployment': {
      const deployment = requireObject(body.deployment, SOURCE, 'deployment') as unknown as SetPhaseResult;
      if (deployment.deploymentNumber === undefined) return { state: 'UNCHANGED' };
      return { state: await awaitDeployment(config, deployment.deploymentNumber) };
    }
    case 'judge': {
      const r = request as Extract<FlagRolloutRequest, { action: 'judge' }>;
      const start = requireObject(body.start, SOURCE, 'start') as unknown as StartResult;
      return judge(config, requireObject(r.phase, SOURCE, 'phase') as unknown as FlagPhase, requireObject(r.bake, SOURCE, 'bake') as unknown as PhaseBake,
        { treatment: start.treatment, control: start.control });
    }
    case 'rollback': return restoreFlag(config, requireObject(body.original, SOURCE, 'original') as unknown as StartResult);
  }
}

/** Invoked by Step Functions tasks: their Retry is the only retry layer (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(CALLER_RETRIES, handle);
