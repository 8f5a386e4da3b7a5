import { log } from '../shared/log';
import { FlagDefinition } from '../flags/document';
import { deployDocument, deployedDocument } from './appconfig-store';
import { FlagRolloutConfig, SetPhaseResult, StartResult } from './flag-rollout-contract';
import { canonicalJson, documentWithFlag } from './phase-document';

/**
 * Puts the flag's definition from before the rollout back; other flags keep what they have now. Idempotent: nothing
 * is written when the deployed document already has it. The state machine's rollback ("Roll Back Flag") and the
 * execution guard (flag-guard.ts) both restore the flag with this.
 */
export async function restoreFlag(config: FlagRolloutConfig, original: StartResult): Promise<SetPhaseResult> {
  const deployed = await deployedDocument(config);
  const desired = documentWithFlag(deployed.document, config.flagKey, JSON.parse(original.originalFlag) as FlagDefinition);
  if (canonicalJson(desired) === canonicalJson(deployed.document)) return { changed: false, versionNumber: deployed.versionNumber };
  const out = await deployDocument(config, desired, `cdk-zero-downtime guarded rollout of ${config.flagKey}: rolled back to its definition of version ${original.baseVersion}`);
  log('warn', 'flag rolled back', { flag: config.flagKey, ...out });
  return { changed: true, ...out };
}
