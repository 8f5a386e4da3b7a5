/**
 * FakeAppConfig: the part of AWS AppConfig the guarded flag rollout calls (CreateHostedConfigurationVersion,
 * GetHostedConfigurationVersion, StartDeployment, GetDeployment, ListDeployments), with AppConfig's error names and
 * deployments that progress on the Clock it is given. Cited per behaviour from the AppConfig API Reference
 * (https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/, page API_<Operation>.html) and the AppConfig
 * User Guide.
 *
 * It is `aws.appconfig` of AwsFakes: its calls are in `aws.calls`, its faults go through
 * `aws.faults.add({ service: 'appconfig', ... })`. The simulation's back door (not logged, never faulted):
 * `createApplication`, `createEnvironment`, `createConfigurationProfile`, `createDeploymentStrategy` (the deployer
 * creates what the template declares), `deployedContent` (what an application polling the environment reads now),
 * `rollBackDeployment` (an environment monitor's alarm).
 *
 * Validation, as AppConfig does it:
 * - a profile's validators (up to two, JSON_SCHEMA and LAMBDA: API_Validator) run when a deployment starts ("AWS
 *   AppConfig performs a check using the validators when you start a deployment. If any errors are detected, the
 *   deployment stops before making any changes to the targets": User Guide, "Creating a configuration profile in AWS
 *   AppConfig"): StartDeployment fails with BadRequestException, Reason InvalidConfiguration, Details.InvalidConfiguration
 *   (API_BadRequestDetails, API_InvalidConfigurationDetail: Constraint, Location, Reason, Type, Value). A JSON Schema
 *   validator is "JSON Schema version 4.X" (User Guide, "Understanding validators"); a Lambda validator is invoked with
 *   { applicationId, configurationProfileId, configurationVersion, content (base64), uri } and fails when the function
 *   throws (AppConfig reads Lambda's X-Amz-Function-Error: same page). The rehearsal gives the fake the Lambda
 *   invoker (setLambdaInvoker): the library's own handlers, bound in-process.
 * - a profile of type AWS.AppConfig.FeatureFlags: CreateHostedConfigurationVersion checks the content against AppConfig's
 *   feature flag schema, every level of it, and each flag value's attributes against the constraints its flag defines
 *   (appconfig-feature-flags.ts, which cites the User Guide pages), and fails with BadRequestException,
 *   InvalidConfiguration ("Detailed information about the bad request exception error when creating a hosted
 *   configuration version").
 * - JSON Schema validators are for freeform profiles: "JSON Schema: Supported for free form configurations. (AWS
 *   AppConfig automatically validates feature flags against a JSON Schema.)" (User Guide, "Understanding
 *   validators"); what the API does with one on a feature-flags profile is not documented, so the fake adds no
 *   behaviour of its own there (it neither refuses the profile nor exempts it; the library never creates one). The hosted store does not run a
 *   freeform profile's validators when a version is created ("Validate create or update API operations: Not
 *   supported" for the hosted configuration store: User Guide, "About configuration store quotas and limitations"),
 *   only when a deployment starts, as above.
 *
 * Simplified: no tags, KMS, extensions or AppConfigData sessions; a deployment's growth is linear over its duration
 * whatever its GrowthType (only the state, not the share of targets, is read).
 */
import type {
  CreateHostedConfigurationVersionRequest, GetDeploymentRequest, GetHostedConfigurationVersionRequest, ListDeploymentsRequest,
  StartDeploymentRequest,
} from '@aws-sdk/client-appconfig';
import Ajv from 'ajv';
import type { Clock } from '../../lambda/shared/clock';
import { featureFlagsProblems } from './appconfig-feature-flags';
import { awsError } from './aws-errors';

const MS_PER_MINUTE = 60_000;
/** Ids: AppConfig's are 7 lowercase letters and digits (API_StartDeployment: ApplicationId pattern [a-z0-9]{4,7}). */
const ID_LENGTH = 7;
/** ListDeployments MaxResults: 1-50 (API_ListDeployments). */
const MAX_LIST_RESULTS = 50;
/** Hosted configuration content: at most 2 MB (AppConfig User Guide, "Quotas": hosted configuration store). */
const MAX_CONTENT_BYTES = 2 * 1024 * 1024;
/** Descriptions: 0-1024 characters (API_CreateHostedConfigurationVersion, API_StartDeployment). */
const MAX_DESCRIPTION = 1024;

/** GetDeployment State (API_Deployment). */
export type DeploymentState = 'BAKING' | 'VALIDATING' | 'DEPLOYING' | 'COMPLETE' | 'ROLLING_BACK' | 'ROLLED_BACK' | 'REVERTED';

interface Strategy {
  readonly id: string;
  readonly deploymentDurationInMinutes: number;
  readonly finalBakeTimeInMinutes: number;
  readonly growthFactor: number;
  readonly growthType: string;
}

interface Version {
  readonly versionNumber: number;
  readonly content: Uint8Array;
  readonly contentType: string;
  readonly description?: string;
}

interface Deployment {
  readonly deploymentNumber: number;
  readonly applicationId: string;
  readonly environmentId: string;
  readonly configurationProfileId: string;
  readonly configurationName: string;
  readonly configurationVersion: string;
  readonly strategy: Strategy;
  readonly description?: string;
  readonly startedAt: number;
  /** Set when a monitor rolled it back (or a newer deployment replaced it). */
  endedAs?: { readonly state: DeploymentState; readonly at: number };
}

/** A configuration profile's validator (API_Validator): a JSON Schema, or a Lambda function's ARN. */
export interface AppConfigValidator {
  readonly Type: string;
  readonly Content: string;
}

/** Invokes a Lambda function (a LAMBDA validator) with an event; rejects when the function throws. */
export type LambdaInvoker = (functionArn: string, event: unknown) => Promise<unknown>;

/** One failed check, as API_InvalidConfigurationDetail reports it. */
interface InvalidConfigurationDetail {
  readonly Constraint?: string;
  readonly Location?: string;
  readonly Reason: string;
  readonly Type: string;
  readonly Value?: string;
}

interface Profile {
  readonly id: string;
  readonly name: string;
  /** AWS.Freeform (the default) or AWS.AppConfig.FeatureFlags (API_CreateConfigurationProfile Type). */
  readonly type: string;
  readonly validators: readonly AppConfigValidator[];
  readonly versions: Version[];
}

interface Environment {
  readonly id: string;
  readonly deployments: Deployment[];
}

interface Application {
  readonly id: string;
  readonly name: string;
  readonly environments: Map<string, Environment>;
  readonly profiles: Map<string, Profile>;
}

export interface FakeAppConfigOptions {
  readonly clock: Clock;
}

let idCounter = 0;
function nextId(prefix: string): string {
  idCounter += 1;
  return `${prefix}${idCounter.toString(36)}`.padEnd(ID_LENGTH, '0').slice(0, ID_LENGTH);
}

/** A profile's validators: at most two (API_CreateConfigurationProfile Validators, "Maximum number of 2 items"). */
const MAX_VALIDATORS = 2;
const FEATURE_FLAGS_TYPE = 'AWS.AppConfig.FeatureFlags';

export class FakeAppConfig {
  private readonly clock: Clock;
  private lambdaInvoker?: LambdaInvoker;
  private readonly applications = new Map<string, Application>();
  private readonly strategies = new Map<string, Strategy>();

  constructor(options: FakeAppConfigOptions) {
    this.clock = options.clock;
    // AppConfig's predefined strategies (AppConfig User Guide, "Predefined deployment strategies").
    this.strategies.set('AppConfig.AllAtOnce', { id: 'AppConfig.AllAtOnce', deploymentDurationInMinutes: 0, finalBakeTimeInMinutes: 10, growthFactor: 100, growthType: 'LINEAR' });
    this.strategies.set('AppConfig.Canary10Percent20Minutes', { id: 'AppConfig.Canary10Percent20Minutes', deploymentDurationInMinutes: 20, finalBakeTimeInMinutes: 10, growthFactor: 10, growthType: 'EXPONENTIAL' });
    this.strategies.set('AppConfig.Linear50PercentEvery30Seconds', { id: 'AppConfig.Linear50PercentEvery30Seconds', deploymentDurationInMinutes: 1, finalBakeTimeInMinutes: 1, growthFactor: 50, growthType: 'LINEAR' });
  }

  // -- back door (the deployer, the simulation) ---------------------------------------------------------------

  createApplication(name: string): string {
    const id = nextId('app');
    this.applications.set(id, { id, name, environments: new Map(), profiles: new Map() });
    return id;
  }

  createEnvironment(applicationId: string): string {
    const id = nextId('env');
    this.application(applicationId).environments.set(id, { id, deployments: [] });
    return id;
  }

  createConfigurationProfile(applicationId: string, name: string, options: { type?: string; validators?: readonly AppConfigValidator[] } = {}): string {
    const validators = options.validators ?? [];
    if (validators.length > MAX_VALIDATORS) throw awsError('appconfig', 'BadRequestException', `Validators: at most ${MAX_VALIDATORS}, got ${validators.length}`);
    for (const v of validators) {
      if (v.Type !== 'JSON_SCHEMA' && v.Type !== 'LAMBDA') throw awsError('appconfig', 'BadRequestException', `Validator Type must be JSON_SCHEMA or LAMBDA, got ${v.Type}`);
    }
    const id = nextId('prf');
    this.application(applicationId).profiles.set(id, { id, name, type: options.type ?? 'AWS.Freeform', validators, versions: [] });
    return id;
  }

  /** How the fake invokes a LAMBDA validator (the rehearsal binds the library's handlers by ARN). */
  setLambdaInvoker(invoker: LambdaInvoker | undefined): void {
    this.lambdaInvoker = invoker;
  }

  createDeploymentStrategy(s: { deploymentDurationInMinutes: number; finalBakeTimeInMinutes: number; growthFactor: number; growthType?: string }): string {
    const id = nextId('str');
    this.strategies.set(id, { id, growthType: 'LINEAR', ...s });
    return id;
  }

  /** The content of the environment's newest COMPLETE deployment of the profile: what an application reads now. */
  deployedContent(applicationId: string, environmentId: string, profileId: string): string | undefined {
    const env = this.environment(applicationId, environmentId);
    for (const d of [...env.deployments].reverse()) {
      if (d.configurationProfileId === profileId && this.stateOf(d) === 'COMPLETE') {
        const version = this.profile(applicationId, profileId).versions.find((v) => v.versionNumber === Number(d.configurationVersion));
        return version ? Buffer.from(version.content).toString('utf8') : undefined;
      }
    }
    return undefined;
  }

  /** Deployments of an environment, oldest first, with their state now. */
  deployments(applicationId: string, environmentId: string): Array<{ deploymentNumber: number; state: DeploymentState; configurationVersion: string; description?: string; startedAt: number }> {
    return this.environment(applicationId, environmentId).deployments.map((d) => ({
      deploymentNumber: d.deploymentNumber, state: this.stateOf(d), configurationVersion: d.configurationVersion, description: d.description, startedAt: d.startedAt,
    }));
  }

  /**
   * An environment monitor's alarm during a deployment or its bake: AppConfig rolls it back (ROLLED_BACK) and the
   * environment keeps the previous version (AppConfig User Guide, "Monitoring deployments for automatic rollback").
   */
  rollBackDeployment(applicationId: string, environmentId: string, deploymentNumber: number): void {
    const d = this.environment(applicationId, environmentId).deployments.find((x) => x.deploymentNumber === deploymentNumber);
    if (d && !d.endedAs) d.endedAs = { state: 'ROLLED_BACK', at: this.clock.now() };
  }

  // -- API -------------------------------------------------------------------------------------------------

  /**
   * API_CreateHostedConfigurationVersion: a new version numbered one above the profile's latest; Content is a blob
   * (at most 2 MB here, the hosted store's quota); LatestVersionNumber, when given, must equal the latest version
   * or the call fails with ConflictException (the "optional locking token").
   */
  createHostedConfigurationVersion(input: CreateHostedConfigurationVersionRequest): { ApplicationId: string; ConfigurationProfileId: string; VersionNumber: number; ContentType: string; Description?: string } {
    const profile = this.profile(input.ApplicationId, input.ConfigurationProfileId);
    if (!input.Content || !input.ContentType) throw awsError('appconfig', 'BadRequestException', 'Content and ContentType are required');
    const content = typeof input.Content === 'string' ? Buffer.from(input.Content) : Buffer.from(input.Content);
    if (content.length > MAX_CONTENT_BYTES) throw awsError('appconfig', 'PayloadTooLargeException', `Content is ${content.length} bytes; the hosted configuration store takes up to ${MAX_CONTENT_BYTES}`);
    if ((input.Description ?? '').length > MAX_DESCRIPTION) throw awsError('appconfig', 'BadRequestException', `Description must be at most ${MAX_DESCRIPTION} characters`);
    const latest = profile.versions.length > 0 ? profile.versions[profile.versions.length - 1].versionNumber : 0;
    if (input.LatestVersionNumber !== undefined && input.LatestVersionNumber !== latest) {
      throw awsError('appconfig', 'ConflictException', `LatestVersionNumber ${input.LatestVersionNumber} is not the latest version (${latest})`);
    }
    if (profile.type === FEATURE_FLAGS_TYPE) {
      const problems = featureFlagsProblems(content.toString('utf8'));
      if (problems.length > 0) throw invalidConfiguration(`The feature flags of profile ${profile.id} are not valid`, problems);
    }
    const version: Version = { versionNumber: latest + 1, content: new Uint8Array(content), contentType: input.ContentType, description: input.Description };
    profile.versions.push(version);
    return { ApplicationId: input.ApplicationId!, ConfigurationProfileId: profile.id, VersionNumber: version.versionNumber, ContentType: version.contentType, Description: version.description };
  }

  /** API_GetHostedConfigurationVersion: the version's Content (blob) and ContentType; ResourceNotFoundException otherwise. */
  getHostedConfigurationVersion(input: GetHostedConfigurationVersionRequest): { ApplicationId: string; ConfigurationProfileId: string; VersionNumber: number; Content: Uint8Array; ContentType: string } {
    const profile = this.profile(input.ApplicationId, input.ConfigurationProfileId);
    const version = profile.versions.find((v) => v.versionNumber === input.VersionNumber);
    if (!version) throw awsError('appconfig', 'ResourceNotFoundException', `Hosted configuration version ${input.VersionNumber} of profile ${profile.id} not found`);
    return { ApplicationId: input.ApplicationId!, ConfigurationProfileId: profile.id, VersionNumber: version.versionNumber, Content: new Uint8Array(version.content), ContentType: version.contentType };
  }

  /**
   * API_StartDeployment: deploys a version (number, or label) of a profile with a strategy. AppConfig deploys one
   * configuration at a time to an environment: while a deployment is DEPLOYING, BAKING, VALIDATING or ROLLING_BACK,
   * another one fails with ConflictException, HTTP 409 (API_StartDeployment "Errors"; AppConfig User Guide,
   * "Deploying a configuration": "You can only deploy one configuration at a time to an environment").
   */
  async startDeployment(input: StartDeploymentRequest): Promise<{ ApplicationId: string; EnvironmentId: string; DeploymentNumber: number; State: DeploymentState; ConfigurationVersion: string }> {
    const env = this.environment(input.ApplicationId, input.EnvironmentId);
    const profile = this.profile(input.ApplicationId, input.ConfigurationProfileId);
    const strategy = this.strategies.get(input.DeploymentStrategyId ?? '');
    if (!strategy) throw awsError('appconfig', 'ResourceNotFoundException', `Deployment strategy ${input.DeploymentStrategyId} not found`);
    const version = profile.versions.find((v) => String(v.versionNumber) === input.ConfigurationVersion);
    if (!version) {
      throw awsError('appconfig', 'ResourceNotFoundException', `Configuration version ${input.ConfigurationVersion} of profile ${profile.id} not found`);
    }
    const running = env.deployments.find((d) => !['COMPLETE', 'ROLLED_BACK', 'REVERTED'].includes(this.stateOf(d)));
    if (running) {
      throw awsError('appconfig', 'ConflictException', `Deployment ${running.deploymentNumber} to environment ${env.id} is ${this.stateOf(running)}: one deployment at a time`, { httpStatusCode: 409 });
    }
    // The validators, before anything changes (the deployment is not created when they refuse).
    const problems = await this.validate(input.ApplicationId!, profile, version);
    if (problems.length > 0) throw invalidConfiguration(`Configuration version ${version.versionNumber} of profile ${profile.id} failed validation`, problems);
    const deployment: Deployment = {
      deploymentNumber: env.deployments.length + 1,
      applicationId: input.ApplicationId!,
      environmentId: env.id,
      configurationProfileId: profile.id,
      configurationName: profile.name,
      configurationVersion: input.ConfigurationVersion!,
      strategy,
      description: input.Description,
      startedAt: this.clock.now(),
    };
    env.deployments.push(deployment);
    return { ApplicationId: deployment.applicationId, EnvironmentId: env.id, DeploymentNumber: deployment.deploymentNumber, State: this.stateOf(deployment), ConfigurationVersion: deployment.configurationVersion };
  }

  /** API_GetDeployment: the deployment's State and PercentageComplete now; ResourceNotFoundException otherwise. */
  getDeployment(input: GetDeploymentRequest): { DeploymentNumber: number; State: DeploymentState; PercentageComplete: number; ConfigurationVersion: string; ConfigurationName: string } {
    const env = this.environment(input.ApplicationId, input.EnvironmentId);
    const d = env.deployments.find((x) => x.deploymentNumber === input.DeploymentNumber);
    if (!d) throw awsError('appconfig', 'ResourceNotFoundException', `Deployment ${input.DeploymentNumber} of environment ${env.id} not found`);
    return { DeploymentNumber: d.deploymentNumber, State: this.stateOf(d), PercentageComplete: this.percentOf(d), ConfigurationVersion: d.configurationVersion, ConfigurationName: d.configurationName };
  }

  /**
   * API_ListDeployments: "Lists the deployments for an environment in descending deployment number order", MaxResults
   * 1-50, NextToken to go on.
   */
  listDeployments(input: ListDeploymentsRequest): { Items: Array<{ DeploymentNumber: number; ConfigurationName: string; ConfigurationVersion: string; State: DeploymentState; PercentageComplete: number }>; NextToken?: string } {
    const env = this.environment(input.ApplicationId, input.EnvironmentId);
    const max = input.MaxResults ?? MAX_LIST_RESULTS;
    if (!Number.isInteger(max) || max < 1 || max > MAX_LIST_RESULTS) throw awsError('appconfig', 'BadRequestException', `MaxResults must be 1-${MAX_LIST_RESULTS}, got ${max}`);
    const all = [...env.deployments].sort((a, b) => b.deploymentNumber - a.deploymentNumber);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    if (!Number.isInteger(start) || start < 0 || start > all.length) throw awsError('appconfig', 'BadRequestException', `Invalid NextToken ${input.NextToken}`);
    const page = all.slice(start, start + max);
    return {
      Items: page.map((d) => ({ DeploymentNumber: d.deploymentNumber, ConfigurationName: d.configurationName, ConfigurationVersion: d.configurationVersion, State: this.stateOf(d), PercentageComplete: this.percentOf(d) })),
      ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
    };
  }

  // -- internals -------------------------------------------------------------------------------------------

  /** The profile's validators on a version, in order; every failure (API_InvalidConfigurationDetail). */
  private async validate(applicationId: string, profile: Profile, version: Version): Promise<InvalidConfigurationDetail[]> {
    const problems: InvalidConfigurationDetail[] = [];
    const text = Buffer.from(version.content).toString('utf8');
    for (const validator of profile.validators) {
      if (validator.Type === 'JSON_SCHEMA') {
        problems.push(...jsonSchemaProblems(validator.Content, text));
        continue;
      }
      if (!this.lambdaInvoker) {
        throw new Error(`FakeAppConfig: profile ${profile.id} has the Lambda validator ${validator.Content}, and the fake was given no Lambda invoker (setLambdaInvoker)`);
      }
      const event = {
        applicationId, configurationProfileId: profile.id, configurationVersion: String(version.versionNumber),
        content: Buffer.from(version.content).toString('base64'), uri: 'hosted',
      };
      try {
        await this.lambdaInvoker(validator.Content, event);
      } catch (err) {
        problems.push({ Type: 'LAMBDA', Reason: `Lambda validator ${validator.Content} failed: ${(err as Error).message}`, Value: (err as Error).name });
      }
    }
    return problems;
  }

  /**
   * A deployment's state on the clock: DEPLOYING for its strategy's duration, then BAKING for its final bake, then
   * COMPLETE (API_DeploymentStrategy: DeploymentDurationInMinutes, FinalBakeTimeInMinutes; AppConfig User Guide,
   * "Working with deployment strategies"). An immediate strategy (0 and 0) is COMPLETE at once.
   */
  private stateOf(d: Deployment): DeploymentState {
    if (d.endedAs) return d.endedAs.state;
    const elapsed = this.clock.now() - d.startedAt;
    const deploying = d.strategy.deploymentDurationInMinutes * MS_PER_MINUTE;
    if (elapsed < deploying) return 'DEPLOYING';
    if (elapsed < deploying + d.strategy.finalBakeTimeInMinutes * MS_PER_MINUTE) return 'BAKING';
    return 'COMPLETE';
  }

  private percentOf(d: Deployment): number {
    if (this.stateOf(d) !== 'DEPLOYING') return this.stateOf(d) === 'ROLLED_BACK' ? 0 : 100;
    return Math.min(100, (100 * (this.clock.now() - d.startedAt)) / (d.strategy.deploymentDurationInMinutes * MS_PER_MINUTE));
  }

  private application(id: string | undefined): Application {
    const app = this.applications.get(id ?? '');
    if (!app) throw awsError('appconfig', 'ResourceNotFoundException', `Application ${id} not found`);
    return app;
  }

  private environment(appId: string | undefined, envId: string | undefined): Environment {
    const env = this.application(appId).environments.get(envId ?? '');
    if (!env) throw awsError('appconfig', 'ResourceNotFoundException', `Environment ${envId} of application ${appId} not found`);
    return env;
  }

  private profile(appId: string | undefined, profileId: string | undefined): Profile {
    const profile = this.application(appId).profiles.get(profileId ?? '');
    if (!profile) throw awsError('appconfig', 'ResourceNotFoundException', `Configuration profile ${profileId} of application ${appId} not found`);
    return profile;
  }
}

/** BadRequestException, Reason InvalidConfiguration, with the failed checks in Details (API_BadRequestDetails). */
function invalidConfiguration(message: string, problems: readonly InvalidConfigurationDetail[]): Error {
  return awsError('appconfig', 'BadRequestException', `${message}: ${problems.map((p) => `${p.Location ? `${p.Location}: ` : ''}${p.Reason}`).join('; ')}`, {
    extra: { Reason: 'InvalidConfiguration', Details: { InvalidConfiguration: problems } },
  });
}

/**
 * A JSON_SCHEMA validator: AppConfig supports "JSON Schema version 4.X for inline schema" (User Guide, "Understanding
 * validators"). Ajv (draft-07) checks draft-04's keywords alike but for the numeric exclusive limits, which draft-04
 * writes as booleans beside maximum/minimum: they are rewritten to draft-07's form first.
 */
function jsonSchemaProblems(schemaText: string, content: string): InvalidConfigurationDetail[] {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (err) {
    return [{ Type: 'JSON_SCHEMA', Reason: `the content is not JSON: ${(err as Error).message}` }];
  }
  const validate = new Ajv({ strict: false, allErrors: true }).compile(draft04ToDraft07(JSON.parse(schemaText)) as object);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => ({ Type: 'JSON_SCHEMA', Constraint: e.keyword, Location: e.instancePath || '/', Reason: e.message ?? e.keyword }));
}

function draft04ToDraft07(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(draft04ToDraft07);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (k !== '$schema' && k !== 'id') out[k] = draft04ToDraft07(v);
  const src = node as Record<string, unknown>;
  for (const [flag, limit] of [['exclusiveMaximum', 'maximum'], ['exclusiveMinimum', 'minimum']] as const) {
    if (typeof src[flag] === 'boolean') {
      delete out[flag];
      if (src[flag] === true && typeof src[limit] === 'number') { out[flag] = src[limit]; delete out[limit]; }
    }
  }
  if (typeof src.id === 'string' && !('$id' in src)) out.$id = src.id;
  return out;
}
