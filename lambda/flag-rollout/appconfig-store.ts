import {
  CreateHostedConfigurationVersionCommand, GetDeploymentCommand, GetHostedConfigurationVersionCommand, ListDeploymentsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { FlagsDocument } from '../flags/document';
import { parseFlagsDocument } from '../flags/validate';
import { appConfig } from '../shared/clients';
import { awsCall } from '../shared/errors';
import { FlagRolloutConfig, FlagRolloutErrorName } from './flag-rollout-contract';
import { FlagRolloutError } from './phase-document';

/**
 * The flags document in AWS AppConfig, as the guarded rollout reads and writes it (AppConfig API Reference,
 * https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/):
 * - the deployed document: ListDeployments ("Lists the deployments for an environment in descending deployment
 *   number order") gives the newest COMPLETE deployment of the profile, GetHostedConfigurationVersion its content;
 * - a new document: CreateHostedConfigurationVersion, then StartDeployment with the rollout's immediate strategy.
 *   AppConfig deploys one configuration at a time to an environment: StartDeployment while another deployment is
 *   in progress fails with ConflictException (HTTP 409, API_StartDeployment "Errors"; AppConfig User Guide,
 *   "Deploying a configuration": "You can only deploy one configuration at a time to an environment"). That is
 *   DEPLOYMENT_CONFLICT here, retried by the state machine.
 * - GetDeployment's State: BAKING | VALIDATING | DEPLOYING | COMPLETE | ROLLING_BACK | ROLLED_BACK | REVERTED.
 * - AppConfig runs the profile's validators when a deployment starts and refuses an invalid version with
 *   BadRequestException (User Guide, "Creating a configuration profile in AWS AppConfig": "If any errors are detected,
 *   the deployment stops before making any changes to the targets"); a feature-flags profile checks its type at
 *   CreateHostedConfigurationVersion (API_InvalidConfigurationDetail). Both are VALIDATION_FAILED here, not retried.
 */

export interface DeployedDocument {
  readonly document: FlagsDocument;
  readonly versionNumber: number;
}

/** Deployments of one page of ListDeployments (its maximum). */
const LIST_PAGE = 50;
/** States of a deployment still running (GetDeployment / ListDeployments State). */
const RUNNING = new Set(['BAKING', 'VALIDATING', 'DEPLOYING', 'ROLLING_BACK']);

/** The document the environment holds: the newest COMPLETE deployment of the flags profile. */
export async function deployedDocument(config: FlagRolloutConfig): Promise<DeployedDocument> {
  let nextToken: string | undefined;
  let version: number | undefined;
  do {
    const page = await awsCall('ListDeployments', () => appConfig().send(new ListDeploymentsCommand({
      ApplicationId: config.applicationId, EnvironmentId: config.environmentId, MaxResults: LIST_PAGE, NextToken: nextToken,
    })));
    const found = (page.Items ?? []).find((d) => d.ConfigurationName === config.configurationProfileName && d.State === 'COMPLETE');
    if (found) version = Number(found.ConfigurationVersion);
    nextToken = version === undefined ? page.NextToken : undefined;
  } while (nextToken);
  if (version === undefined || !Number.isInteger(version)) {
    throw new FlagRolloutError(FlagRolloutErrorName.INVALID, `Environment ${config.environmentId} has no completed deployment of the configuration profile "${config.configurationProfileName}"`);
  }
  const out = await awsCall('GetHostedConfigurationVersion', () => appConfig().send(new GetHostedConfigurationVersionCommand({
    ApplicationId: config.applicationId, ConfigurationProfileId: config.configurationProfileId, VersionNumber: version,
  })));
  const text = Buffer.from(out.Content ?? new Uint8Array()).toString('utf8');
  try {
    return { document: parseFlagsDocument(text), versionNumber: version };
  } catch (err) {
    throw new FlagRolloutError(FlagRolloutErrorName.INVALID, `Hosted configuration version ${version} is not a valid flags document: ${(err as Error).message}`);
  }
}

/** Writes `doc` as a new hosted configuration version and starts its deployment with the immediate strategy. */
export async function deployDocument(config: FlagRolloutConfig, doc: FlagsDocument, description: string): Promise<{ versionNumber: number; deploymentNumber: number }> {
  const created = await awsCall('CreateHostedConfigurationVersion', () => refusedAsInvalid('CreateHostedConfigurationVersion', () => appConfig().send(new CreateHostedConfigurationVersionCommand({
    ApplicationId: config.applicationId,
    ConfigurationProfileId: config.configurationProfileId,
    Content: Buffer.from(JSON.stringify(doc), 'utf8'),
    ContentType: 'application/json',
    Description: description.slice(0, 1024),
  }))));
  const versionNumber = created.VersionNumber!;
  try {
    const started = await awsCall('StartDeployment', () => refusedAsInvalid(`StartDeployment of version ${versionNumber}`, () => appConfig().send(new StartDeploymentCommand({
      ApplicationId: config.applicationId,
      EnvironmentId: config.environmentId,
      ConfigurationProfileId: config.configurationProfileId,
      ConfigurationVersion: String(versionNumber),
      DeploymentStrategyId: config.deploymentStrategyId,
      Description: description.slice(0, 1024),
    }))));
    return { versionNumber, deploymentNumber: started.DeploymentNumber! };
  } catch (err) {
    if ((err as Error).name === 'ConflictException') {
      throw new FlagRolloutError(FlagRolloutErrorName.DEPLOYMENT_CONFLICT,
        `AppConfig is deploying to environment ${config.environmentId} (one deployment at a time): ${(err as Error).message}`);
    }
    throw err;
  }
}

/**
 * `call`, with AppConfig's BadRequestException of an invalid configuration as VALIDATION_FAILED naming what failed
 * (inside awsCall, which keeps the error's name: the state machine catches it by that name).
 */
async function refusedAsInvalid<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = err as Error & { Reason?: string; Details?: { InvalidConfiguration?: Array<{ Location?: string; Reason?: string }> } };
    if (e.name !== 'BadRequestException' || e.Reason !== 'InvalidConfiguration') throw err;
    const details = (e.Details?.InvalidConfiguration ?? []).map((d) => `${d.Location ? `${d.Location}: ` : ''}${d.Reason ?? ''}`);
    throw new FlagRolloutError(FlagRolloutErrorName.VALIDATION_FAILED,
      `AppConfig refused the flags document (${what}): ${details.length > 0 ? details.join('; ') : e.message}`);
  }
}

/** The state of a deployment: COMPLETE returns, a running one throws DEPLOYMENT_IN_PROGRESS, a rolled-back one DEPLOYMENT_ROLLED_BACK. */
export async function awaitDeployment(config: FlagRolloutConfig, deploymentNumber: number): Promise<string> {
  const out = await awsCall('GetDeployment', () => appConfig().send(new GetDeploymentCommand({
    ApplicationId: config.applicationId, EnvironmentId: config.environmentId, DeploymentNumber: deploymentNumber,
  })));
  const state = out.State ?? 'UNKNOWN';
  if (state === 'COMPLETE') return state;
  if (RUNNING.has(state)) {
    throw new FlagRolloutError(FlagRolloutErrorName.DEPLOYMENT_IN_PROGRESS, `Deployment ${deploymentNumber} is ${state} (${out.PercentageComplete ?? 0}% complete)`);
  }
  throw new FlagRolloutError(FlagRolloutErrorName.DEPLOYMENT_ROLLED_BACK, `AppConfig ended deployment ${deploymentNumber} as ${state}: the environment's monitors (alarms) or a stop rolled it back`);
}
