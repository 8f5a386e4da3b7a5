/**
 * The blue/green Lambda: one step of an RDS Blue/Green Deployment per invocation, driven by the BlueGreenDatabase state
 * machine: create -> status (poll until provisioned) -> preflight -> switchover -> status (poll until the switchover
 * ends) -> verify -> cleanup. RDS itself rolls back a switchover that does not finish within the timeout (blue is then
 * untouched): this handler never tries to "switch back", it reports.
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BlueGreenDeployment, CreateBlueGreenDeploymentCommand, DeleteBlueGreenDeploymentCommand, DeleteDBInstanceCommand,
  DescribeBlueGreenDeploymentsCommand, ModifyDBInstanceCommand, SwitchoverBlueGreenDeploymentCommand,
} from '@aws-sdk/client-rds';
import { cloudWatch, rds } from '../shared/clients';
import { clock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { ErrorName } from '../shared/contracts';
import { awsCall, NamedError, ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import {
  BlueGreenCleanupResult, BlueGreenCreateResult, BlueGreenDeploymentView, BlueGreenErrorName, BlueGreenErrorNameType,
  BlueGreenHandlerConfig, BlueGreenPreflightResult, BlueGreenRequest, BlueGreenStatusResult, DeploymentStatus, MemberStatus, SourceKind,
} from './blue-green-contract';
import { CALLER_RETRIES, withRetryPolicy } from '../shared/sdk-retries';

/** An error Step Functions catches and retries by name (see BlueGreenErrorName). */
export class BlueGreenError extends NamedError<BlueGreenErrorNameType> {}


const NOT_FOUND_FAULTS = new Set(['BlueGreenDeploymentNotFoundFault']);
const ALREADY_EXISTS_FAULT = 'BlueGreenDeploymentAlreadyExistsFault';
const INSTANCE_NOT_FOUND_FAULT = 'DBInstanceNotFoundFault';
/** The instance is busy (a modification being applied, a deployment still being deleted): try again later. */
const INSTANCE_STATE_FAULT = 'InvalidDBInstanceStateFault';
/** DescribeBlueGreenDeployments filter on the deployment's name. */
const NAME_FILTER = 'blue-green-deployment-name';
/** Period of the replica-lag datapoints read (RDS publishes its metrics every minute). */
const LAG_PERIOD_SECONDS = 60;
const MS_PER_SECOND = 1000;
/** Statuses in which the deployment waits for RDS, by phase. */
const WAITING_STATUS = { provisioned: DeploymentStatus.PROVISIONING, switched: DeploymentStatus.SWITCHOVER_IN_PROGRESS } as const;
/** Statuses after which a deployment can no longer reach AVAILABLE by itself. */
const BROKEN_STATUSES: ReadonlySet<string> = new Set([DeploymentStatus.INVALID_CONFIGURATION, DeploymentStatus.PROVISIONING_FAILED, DeploymentStatus.DELETING]);

function view(d: BlueGreenDeployment): BlueGreenDeploymentView {
  return {
    deploymentId: d.BlueGreenDeploymentIdentifier ?? '',
    name: d.BlueGreenDeploymentName ?? '',
    source: d.Source ?? '',
    target: d.Target ?? '',
    status: d.Status ?? 'UNKNOWN',
    ...(d.StatusDetails ? { statusDetails: d.StatusDetails } : {}),
    members: (d.SwitchoverDetails ?? []).map((m) => ({ source: m.SourceMember ?? '', target: m.TargetMember ?? '', status: m.Status ?? 'UNKNOWN' })),
  };
}

/** "Blue/green deployment bgd-x (name, source arn)": how every message names the deployment. */
function named(d: BlueGreenDeploymentView): string {
  return `Blue/green deployment ${d.deploymentId} (${d.name}, source ${d.source})`;
}

function details(d: BlueGreenDeploymentView): string {
  return d.statusDetails ? ` (${d.statusDetails})` : '';
}

function membersNotIn(d: BlueGreenDeploymentView, status: string): string[] {
  return d.members.filter((m) => m.status !== status).map((m) => `${m.source} -> ${m.target}: ${m.status}`);
}

/** The deployment as RDS shows it now, or undefined once it is gone. */
async function describeIfAny(deploymentId: string): Promise<BlueGreenDeploymentView | undefined> {
  try {
    const out = await awsCall(`rds:DescribeBlueGreenDeployments ${deploymentId}`, () => rds().send(new DescribeBlueGreenDeploymentsCommand({ BlueGreenDeploymentIdentifier: deploymentId })));
    const found = out.BlueGreenDeployments?.[0];
    return found && view(found);
  } catch (err) {
    if (!NOT_FOUND_FAULTS.has((err as Error).name)) throw err;
    return undefined;
  }
}

async function describe(deploymentId: string): Promise<BlueGreenDeploymentView> {
  const d = await describeIfAny(deploymentId);
  if (d) return d;
  throw new BlueGreenError(BlueGreenErrorName.NOT_FOUND, `Blue/green deployment ${deploymentId}: expected it to exist, found none (deleted outside the state machine?)`);
}

/** The deployments named `name` that are not being deleted. */
async function findByName(name: string): Promise<BlueGreenDeploymentView[]> {
  const found: BlueGreenDeploymentView[] = [];
  let marker: string | undefined;
  do {
    const out = await awsCall(`rds:DescribeBlueGreenDeployments name=${name}`, () => rds().send(new DescribeBlueGreenDeploymentsCommand({
      Filters: [{ Name: NAME_FILTER, Values: [name] }], Marker: marker,
    })));
    found.push(...(out.BlueGreenDeployments ?? []).map(view));
    marker = out.Marker;
  } while (marker);
  return found.filter((d) => d.name === name && d.status !== DeploymentStatus.DELETING);
}

/** An existing deployment of this name and source, or none; another source under this name is an error. */
async function existing(config: BlueGreenHandlerConfig): Promise<BlueGreenDeploymentView | undefined> {
  const found = await findByName(config.deploymentName);
  const mine = found.find((d) => d.source === config.sourceArn);
  if (mine) return mine;
  if (found.length) {
    throw new BlueGreenError(BlueGreenErrorName.INVALID_STATE, `${named(found[0])}: expected a deployment named ${config.deploymentName} `
      + `to have source ${config.sourceArn}, found source ${found[0].source}; delete it or choose another deploymentName`);
  }
  return undefined;
}

async function create(config: BlueGreenHandlerConfig): Promise<BlueGreenCreateResult> {
  const reused = await existing(config);
  if (reused) {
    log('info', 'reusing blue/green deployment', { deploymentId: reused.deploymentId, status: reused.status });
    return { ...reused, created: false };
  }
  try {
    const out = await awsCall(`rds:CreateBlueGreenDeployment ${config.deploymentName}`, () => rds().send(new CreateBlueGreenDeploymentCommand({
      BlueGreenDeploymentName: config.deploymentName,
      Source: config.sourceArn,
      TargetEngineVersion: config.targetEngineVersion,
      TargetDBParameterGroupName: config.targetDBParameterGroupName,
      TargetDBClusterParameterGroupName: config.targetDBClusterParameterGroupName,
      Tags: [{ Key: 'managed-by', Value: 'cdk-zero-downtime' }],
    })));
    const created = view(out.BlueGreenDeployment ?? {});
    log('info', 'created blue/green deployment', { deploymentId: created.deploymentId });
    return { ...created, created: true };
  } catch (err) {
    // Another invocation created it between our read and our write: the same deployment, reuse it.
    if ((err as Error).name !== ALREADY_EXISTS_FAULT) throw err;
    const raced = await existing(config);
    if (!raced) throw err;
    return { ...raced, created: false };
  }
}

async function status(request: Extract<BlueGreenRequest, { action: 'status' }>): Promise<BlueGreenStatusResult> {
  const d = await describe(request.deploymentId);
  const polls = (request.polls ?? 0) + 1;
  const waiting = d.status === WAITING_STATUS[request.phase];
  if (request.phase === 'provisioned' && BROKEN_STATUSES.has(d.status)) {
    throw new BlueGreenError(BlueGreenErrorName.INVALID_STATE,
      `${named(d)}: expected PROVISIONING then AVAILABLE, found ${d.status}${details(d)}; nothing was switched over, delete the deployment and fix its configuration`);
  }
  if (waiting && request.maxPolls !== undefined && polls >= request.maxPolls) {
    const expected = request.phase === 'provisioned' ? 'AVAILABLE' : 'the switchover to end';
    throw new BlueGreenError(BlueGreenErrorName.TIMED_OUT, `${named(d)}: expected ${expected} within ${request.maxPolls} polls, found ${d.status} after ${polls}`);
  }
  return { ...d, waiting, polls };
}

/** The green resource whose lag the check reads: the target of the source's own member pair. */
function greenIdentifier(d: BlueGreenDeploymentView, config: BlueGreenHandlerConfig): string {
  const pair = d.members.find((m) => m.source === config.sourceArn) ?? { target: d.target };
  const identifier = rdsIdentifier(pair.target, config.sourceKind);
  if (identifier === undefined) {
    throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `${named(d)}: expected a green ${config.sourceKind} ARN for ${config.sourceArn}, found "${pair.target}"`);
  }
  return identifier;
}

async function replicaLag(d: BlueGreenDeploymentView, config: BlueGreenHandlerConfig): Promise<number | undefined> {
  const check = config.replicaLag;
  if (!check) return undefined;
  const green = greenIdentifier(d, config);
  const now = clock().now();
  const out = await awsCall(`cloudwatch:GetMetricData AWS/RDS ${check.metricName} ${green}`, () => cloudWatch().send(new GetMetricDataCommand({
    StartTime: new Date(now - check.windowSeconds * MS_PER_SECOND),
    EndTime: new Date(now),
    MetricDataQueries: [{
      Id: 'lag',
      MetricStat: { Metric: { Namespace: 'AWS/RDS', MetricName: check.metricName, Dimensions: [{ Name: check.dimensionName, Value: green }] }, Period: LAG_PERIOD_SECONDS, Stat: 'Maximum' },
    }],
  })));
  const values = out.MetricDataResults?.find((r) => r.Id === 'lag')?.Values ?? [];
  const metric = `AWS/RDS ${check.metricName} (${check.dimensionName}=${green})`;
  // No data is not "no lag": the check cannot vouch for green, so the switchover waits.
  if (!values.length) {
    throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `${named(d)}: expected ${metric} at most ${check.maxSeconds} s over the last ${check.windowSeconds} s, found no datapoints`);
  }
  // RDS reports -1 when replication is not active: no lag figure at all.
  if (values.some((v) => v < 0)) {
    throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `${named(d)}: expected ${metric} at most ${check.maxSeconds} s over the last ${check.windowSeconds} s, found ${Math.min(...values)} (replication not active)`);
  }
  const worst = Math.max(...values);
  if (worst > check.maxSeconds) {
    throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `${named(d)}: expected ${metric} at most ${check.maxSeconds} s over the last ${check.windowSeconds} s, found ${worst} s`);
  }
  return worst;
}

async function preflight(deploymentId: string, config: BlueGreenHandlerConfig): Promise<BlueGreenPreflightResult> {
  const d = await describe(deploymentId);
  if (d.status === DeploymentStatus.PROVISIONING) {
    throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `${named(d)}: expected AVAILABLE before switchover, found PROVISIONING${details(d)}`);
  }
  if (d.status !== DeploymentStatus.AVAILABLE) {
    throw new BlueGreenError(BlueGreenErrorName.INVALID_STATE, `${named(d)}: expected AVAILABLE before switchover, found ${d.status}${details(d)}`);
  }
  if (!d.members.length) {
    throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `${named(d)}: expected at least one member pair in SwitchoverDetails, found none`);
  }
  const unready = membersNotIn(d, MemberStatus.AVAILABLE);
  if (unready.length) {
    throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `${named(d)}: expected every member AVAILABLE before switchover, found ${unready.join('; ')}`);
  }
  requireNoReplicasForDeleteOld(d, config);
  const lag = await replicaLag(d, config);
  return { ...d, ...(lag !== undefined ? { replicaLagSeconds: lag } : {}) };
}

async function switchover(deploymentId: string, config: BlueGreenHandlerConfig): Promise<BlueGreenDeploymentView> {
  const d = await describe(deploymentId);
  // A retried invocation whose first attempt started the switchover: do not start it twice.
  if (d.status === DeploymentStatus.SWITCHOVER_IN_PROGRESS || d.status === DeploymentStatus.SWITCHOVER_COMPLETED) return d;
  if (d.status !== DeploymentStatus.AVAILABLE) {
    throw new BlueGreenError(BlueGreenErrorName.INVALID_STATE, `${named(d)}: expected AVAILABLE to start the switchover, found ${d.status}${details(d)}`);
  }
  const out = await awsCall(`rds:SwitchoverBlueGreenDeployment ${deploymentId}`, () => rds().send(new SwitchoverBlueGreenDeploymentCommand({
    BlueGreenDeploymentIdentifier: deploymentId, SwitchoverTimeout: config.switchoverTimeoutSeconds,
  })));
  log('info', 'switchover started', { deploymentId, timeoutSeconds: config.switchoverTimeoutSeconds });
  return view(out.BlueGreenDeployment ?? {});
}

async function verify(deploymentId: string, config: BlueGreenHandlerConfig): Promise<BlueGreenDeploymentView> {
  const d = await describe(deploymentId);
  const failedMembers = membersNotIn(d, MemberStatus.SWITCHOVER_COMPLETED);
  if (d.status === DeploymentStatus.SWITCHOVER_COMPLETED && !failedMembers.length) return d;
  const rolledBack = d.status === DeploymentStatus.SWITCHOVER_FAILED || d.status === DeploymentStatus.AVAILABLE;
  const what = rolledBack
    ? `RDS rolled the switchover back (within its ${config.switchoverTimeoutSeconds} s timeout or on a guardrail): the blue environment ${d.source} is unchanged and still serves production`
    : 'the switchover state is unexpected: inspect the deployment before acting';
  throw new BlueGreenError(BlueGreenErrorName.SWITCHOVER_FAILED, `${named(d)}: expected SWITCHOVER_COMPLETED for the deployment and every member, `
    + `found ${d.status}${details(d)}${failedMembers.length ? `, members ${failedMembers.join('; ')}` : ''}; ${what}`);
}

/** A final snapshot identifier: letters, digits and single hyphens, starting with a letter. */
function finalSnapshotName(identifier: string): string {
  const stamp = new Date(clock().now()).toISOString().replace(/[^0-9]/g, '').slice(0, 14);
  return `${identifier}-zdt-final-${stamp}`;
}

/** The identifier of an RDS DB instance or cluster ARN (`...:db:<id>`, `...:cluster:<id>`), or undefined. */
function rdsIdentifier(arn: string, kind: SourceKind): string | undefined {
  const marker = kind === 'instance' ? ':db:' : ':cluster:';
  const at = arn.lastIndexOf(marker);
  return at < 0 ? undefined : arn.slice(at + marker.length);
}

/**
 * deleteOldAfter deletes one old instance, with a final snapshot: a source with read replicas has old replicas too,
 * which RDS deletes only without a final snapshot, under names the construct cannot scope its IAM grant to.
 * Such a deployment is refused before its switchover, not half cleaned after it.
 */
function requireNoReplicasForDeleteOld(d: BlueGreenDeploymentView, config: BlueGreenHandlerConfig): void {
  if (!config.deleteOldAfter || d.members.length <= 1) return;
  throw new BlueGreenError(BlueGreenErrorName.INVALID_STATE, `${named(d)}: deleteOldAfter deletes the old instance of a source without read replicas, `
    + `found ${d.members.length} members (${d.members.map((m) => m.source).join(', ')}); set deleteOldAfter to false and delete the old environment yourself after the switchover`);
}

/**
 * Deletes the deployment, then (deleteOldAfter) the old primary instance. Safe to retry: RDS shows a deleted
 * deployment as DELETING for a while, then not at all, and keeps its instances until then, so the old instance
 * waits (NOT_READY) for a later attempt, which knows it from `request.members`.
 */
async function cleanup(request: Extract<BlueGreenRequest, { action: 'cleanup' }>, config: BlueGreenHandlerConfig): Promise<BlueGreenCleanupResult> {
  const deploymentId = request.deploymentId;
  const d = await describeIfAny(deploymentId);
  if (d && d.status !== DeploymentStatus.DELETING) {
    if (d.status !== DeploymentStatus.SWITCHOVER_COMPLETED) {
      throw new BlueGreenError(BlueGreenErrorName.INVALID_STATE, `${named(d)}: expected SWITCHOVER_COMPLETED before cleanup, found ${d.status}${details(d)}; cleanup deletes only a switched-over deployment`);
    }
    // After a switchover RDS refuses DeleteTarget: the green environment is production now. Both environments stay.
    try {
      await awsCall(`rds:DeleteBlueGreenDeployment ${deploymentId}`, () => rds().send(new DeleteBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: deploymentId })));
    } catch (err) {
      if (!NOT_FOUND_FAULTS.has((err as Error).name)) throw err;
    }
  }
  // The old primary: the member whose green took over the source's name (and ARN).
  const old = config.deleteOldAfter && config.sourceKind === 'instance' ? (request.members ?? d?.members)?.find((m) => m.target === config.sourceArn) : undefined;
  const identifier = old && rdsIdentifier(old.source, 'instance');
  const result = { deploymentId, deleted: d !== undefined, deletedOld: [] as { identifier: string; finalSnapshot: string }[] };
  if (!identifier) return result;
  if (d) {
    throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `${named(d)}: deleted; its old instance ${identifier} is deleted once RDS has finished deleting the deployment (a later attempt)`);
  }
  const finalSnapshot = finalSnapshotName(identifier);
  try {
    // The old instance is the source renamed: it keeps the source's deletion protection, which deleteOldAfter
    // (an explicit request to delete it, with a final snapshot) turns off first. Idempotent.
    await awsCall(`rds:ModifyDBInstance ${identifier}`, () => rds().send(new ModifyDBInstanceCommand({
      DBInstanceIdentifier: identifier, DeletionProtection: false, ApplyImmediately: true,
    })));
    await awsCall(`rds:DeleteDBInstance ${identifier}`, () => rds().send(new DeleteDBInstanceCommand({
      DBInstanceIdentifier: identifier, FinalDBSnapshotIdentifier: finalSnapshot, DeleteAutomatedBackups: false,
    })));
  } catch (err) {
    const name = (err as Error).name;
    if (name === INSTANCE_NOT_FOUND_FAULT) return result;
    if (name === INSTANCE_STATE_FAULT) {
      throw new BlueGreenError(BlueGreenErrorName.NOT_READY, `Old instance ${identifier}: RDS cannot delete it yet (${(err as Error).message}); a later attempt deletes it`);
    }
    throw err;
  }
  return { ...result, deletedOld: [{ identifier, finalSnapshot }] };
}

function requireDeploymentId(request: { deploymentId?: unknown }, action: string): string {
  if (typeof request.deploymentId !== 'string' || request.deploymentId === '') {
    throw new ZdtError(ErrorName.INVALID_REQUEST, `${action}: expected a deploymentId (the create step's output), found ${JSON.stringify(request.deploymentId)}`);
  }
  return request.deploymentId;
}

async function handle(request: BlueGreenRequest): Promise<unknown> {
  const config = readConfig<BlueGreenHandlerConfig>();
  if (!request || typeof request !== 'object' || typeof request.action !== 'string') {
    throw new ZdtError(ErrorName.INVALID_REQUEST, `Expected a request { action, deploymentId? }, got ${JSON.stringify(request)}`);
  }
  log('info', 'blue/green action', { action: request.action, deployment: config.deploymentName });
  switch (request.action) {
    case 'create':
      return create(config);
    case 'status':
      if (request.phase !== 'provisioned' && request.phase !== 'switched') {
        throw new ZdtError(ErrorName.INVALID_REQUEST, `status: expected phase "provisioned" or "switched", found ${JSON.stringify(request.phase)}`);
      }
      return status({ ...request, deploymentId: requireDeploymentId(request, 'status') });
    case 'preflight':
      return preflight(requireDeploymentId(request, 'preflight'), config);
    case 'switchover':
      return switchover(requireDeploymentId(request, 'switchover'), config);
    case 'verify':
      return verify(requireDeploymentId(request, 'verify'), config);
    case 'cleanup':
      return cleanup({ ...request, deploymentId: requireDeploymentId(request, 'cleanup') }, config);
    default:
      throw new ZdtError(ErrorName.INVALID_REQUEST, `Unknown action ${JSON.stringify((request as { action: unknown }).action)}; expected create, status, preflight, switchover, verify or cleanup`);
  }
}

/** Invoked by a Step Functions task (its Retry is the retry layer) (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(CALLER_RETRIES, handle);
