/**
 * FakeRdsBlueGreen: the blue/green side of the RDS API (CreateBlueGreenDeployment, DescribeBlueGreenDeployments,
 * SwitchoverBlueGreenDeployment, DeleteBlueGreenDeployment, and ModifyDBInstance (deletion protection) and
 * DeleteDBInstance for the old blue instances), with
 * RDS's error names and a virtual-time progression on the Clock it is given:
 *
 * - create: PROVISIONING for `provisioningMs` (members PROVISIONING), then AVAILABLE, or INVALID_CONFIGURATION when a
 *   fault was armed with `failNextProvisioning(details)`;
 * - switchover: SWITCHOVER_IN_PROGRESS; after `switchoverMs`, when that is within the request's SwitchoverTimeout,
 *   SWITCHOVER_COMPLETED: the blue resources are renamed `<name>-old1` and the green ones take the original names (the
 *   members then read old1 -> original). Otherwise, at the timeout, SWITCHOVER_FAILED (nothing changed), and
 *   `rollbackMs` later AVAILABLE again, as RDS rolls a timed-out switchover back;
 * - delete: refuses DeleteTarget once switched over, and a deployment whose switchover is in progress; the deployment
 *   then reads DELETING for `deletingMs` before it is gone (NotFound), as RDS shows it;
 *
 * It is `aws.rds` of AwsFakes: installed with the other fakes, its calls in `aws.calls`, its faults through
 * `aws.faults.add({ service: 'rds', ... })`; any other RDS command fails with FakeNotImplemented.
 * Simplified: no tags, no engine-version or parameter-group validation beyond recording them.
 */
import type {
  BlueGreenDeployment, CreateBlueGreenDeploymentRequest, DeleteBlueGreenDeploymentRequest, DeleteDBInstanceMessage,
  DescribeBlueGreenDeploymentsRequest, ModifyDBInstanceMessage, SwitchoverBlueGreenDeploymentRequest,
} from '@aws-sdk/client-rds';
import type { Clock } from '../../lambda/shared/clock';
import { awsError } from './aws-errors';
import { deepClone } from './clone';

/** RDS's bounds of SwitchoverTimeout, seconds, and its default. */
export const RDS_MIN_SWITCHOVER_TIMEOUT_SECONDS = 30;
export const RDS_MAX_SWITCHOVER_TIMEOUT_SECONDS = 3600;
export const RDS_DEFAULT_SWITCHOVER_TIMEOUT_SECONDS = 300;
/** Longest BlueGreenDeploymentName (1-60 characters, a letter first). */
const MAX_NAME_LENGTH = 60;
/** RDS's BlueGreenDeploymentName: a letter first, single hyphens, none at the end. */
const NAME_PATTERN = /^[A-Za-z][0-9A-Za-z]*(-[0-9A-Za-z]+)*$/;
/** DescribeBlueGreenDeployments MaxRecords: 20-100, default 100. */
const MIN_RECORDS = 20;
const MAX_RECORDS = 100;
const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60_000;
/** Defaults of the progression: an RDS green environment takes tens of minutes; a switchover about a minute. */
const DEFAULT_PROVISIONING_MS = 20 * MS_PER_MINUTE;
const DEFAULT_SWITCHOVER_MS = MS_PER_MINUTE;
const DEFAULT_ROLLBACK_MS = MS_PER_MINUTE;
const DEFAULT_DELETING_MS = MS_PER_MINUTE;
/** Suffix RDS appends to the blue resources' names at switchover. */
export const OLD_SUFFIX = '-old1';
/** Length of the random part of generated identifiers (bgd-..., -green-...). */
const ID_LENGTH = 16;
const GREEN_SUFFIX_LENGTH = 6;

export interface FakeRdsBlueGreenOptions {
  readonly clock: Clock;
  /** @default us-east-1 */
  readonly region?: string;
  /** @default 123456789012 */
  readonly accountId?: string;
  /** How long a new deployment stays PROVISIONING. @default 20 minutes */
  readonly provisioningMs?: number;
  /** How long a switchover takes (within its timeout: completes; beyond: fails at the timeout). @default 1 minute */
  readonly switchoverMs?: number;
  /** How long after a timed-out switchover the deployment is AVAILABLE again. @default 1 minute */
  readonly rollbackMs?: number;
  /** How long a deleted deployment reads DELETING before it is gone. @default 1 minute */
  readonly deletingMs?: number;
}

/** A DB instance or cluster as the fake holds it. */
export interface FakeDatabase {
  readonly kind: 'instance' | 'cluster';
  readonly identifier: string;
  readonly engineVersion: string;
  readonly parameterGroup?: string;
  /** Instance identifiers of a cluster, or the read replicas of an instance. */
  readonly instances: readonly string[];
  /** The source instance of a read replica. */
  readonly replicaOf?: string;
  /** DeleteDBInstance is refused while it is on; a green environment starts with its source's setting. */
  readonly deletionProtection?: boolean;
}

interface Member { source: string; target: string; status: string }

interface Deployment {
  readonly id: string;
  readonly name: string;
  source: string;
  target: string;
  status: string;
  statusDetails?: string;
  members: Member[];
  readonly createdAt: number;
  readonly availableAt: number;
  readonly invalidConfiguration?: string;
  readonly targetEngineVersion?: string;
  readonly targetParameterGroup?: string;
  switchover?: { readonly startedAt: number; readonly endsAt: number; readonly completes: boolean; readonly timeoutSeconds: number; settled: boolean };
  /** When DeleteBlueGreenDeployment was accepted. */
  deletedAt?: number;
  /** Green resources, created at provisioning. */
  readonly green: Map<string, FakeDatabase>;
}

/** An RDS-shaped error (the shared awsError shaping: the SDK's modeled exception class when it has one). */
export function rdsError(name: string, message: string): Error {
  return awsError('rds', name, message);
}

export class FakeRdsBlueGreen {
  /** Final snapshots taken by DeleteDBInstance. */
  readonly snapshots: string[] = [];
  private readonly clock: Clock;
  private readonly region: string;
  private readonly accountId: string;
  private readonly provisioningMs: number;
  private switchoverMs: number;
  private readonly rollbackMs: number;
  private readonly deletingMs: number;
  private readonly databases = new Map<string, FakeDatabase>();
  private readonly deployments = new Map<string, Deployment>();
  private nextInvalidConfiguration: string | undefined;
  private counter = 0;

  constructor(options: FakeRdsBlueGreenOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.provisioningMs = options.provisioningMs ?? DEFAULT_PROVISIONING_MS;
    this.switchoverMs = options.switchoverMs ?? DEFAULT_SWITCHOVER_MS;
    this.rollbackMs = options.rollbackMs ?? DEFAULT_ROLLBACK_MS;
    this.deletingMs = options.deletingMs ?? DEFAULT_DELETING_MS;
  }

  /** ARN of a DB instance (`db`) or cluster (`cluster`) of this account and region. */
  arn(kind: 'instance' | 'cluster', identifier: string): string {
    return `arn:aws:rds:${this.region}:${this.accountId}:${kind === 'instance' ? 'db' : 'cluster'}:${identifier}`;
  }

  /** Adds a DB instance; returns its ARN. */
  addInstance(identifier: string, options: { engineVersion?: string; parameterGroup?: string; readReplicas?: readonly string[]; deletionProtection?: boolean } = {}): string {
    const engineVersion = options.engineVersion ?? '16.4';
    const replicas = options.readReplicas ?? [];
    // A deployment pairs each read replica too (SwitchoverDetails has one member per replica).
    this.databases.set(this.arn('instance', identifier), {
      kind: 'instance', identifier, engineVersion, parameterGroup: options.parameterGroup, instances: [...replicas], deletionProtection: options.deletionProtection,
    });
    for (const r of replicas) this.databases.set(this.arn('instance', r), { kind: 'instance', identifier: r, engineVersion, instances: [], replicaOf: identifier });
    return this.arn('instance', identifier);
  }

  /** Adds an Aurora DB cluster with its instances; returns the cluster's ARN. */
  addCluster(identifier: string, options: { engineVersion?: string; instances?: readonly string[] } = {}): string {
    const instances = options.instances ?? [`${identifier}-instance-1`];
    const engineVersion = options.engineVersion ?? '16.4';
    this.databases.set(this.arn('cluster', identifier), { kind: 'cluster', identifier, engineVersion, instances });
    for (const i of instances) this.databases.set(this.arn('instance', i), { kind: 'instance', identifier: i, engineVersion, instances: [] });
    return this.arn('cluster', identifier);
  }

  /** The databases by ARN (copies): what production looks like. */
  databaseList(): FakeDatabase[] {
    return [...this.databases.values()].map((d) => deepClone(d));
  }

  /** The next deployment created ends its provisioning in INVALID_CONFIGURATION with these StatusDetails. */
  failNextProvisioning(details: string): void {
    this.nextInvalidConfiguration = details;
  }

  /** How long switchovers started from now take. */
  setSwitchoverDuration(ms: number): void {
    this.switchoverMs = ms;
  }

  /** A deployment as DescribeBlueGreenDeployments shows it now, or undefined. */
  deployment(id: string): BlueGreenDeployment | undefined {
    this.purgeDeleted();
    const d = this.deployments.get(id);
    if (!d) return undefined;
    this.advance(d);
    return this.render(d);
  }

  createBlueGreenDeployment(input: CreateBlueGreenDeploymentRequest): { BlueGreenDeployment: BlueGreenDeployment } {
    const name = input.BlueGreenDeploymentName ?? '';
    if (name.length < 1 || name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
      throw rdsError('InvalidParameterValue', `BlueGreenDeploymentName must be 1 to ${MAX_NAME_LENGTH} letters, digits or single hyphens, starting with a letter and not ending with a hyphen: ${name}`);
    }
    const source = this.databases.get(input.Source ?? '');
    if (!source) {
      // RDS names the source's kind: the ARN says which (…:db:… or …:cluster:…).
      const cluster = /:cluster:/.test(input.Source ?? '');
      throw rdsError(cluster ? 'DBClusterNotFoundFault' : 'DBInstanceNotFoundFault', `${cluster ? 'DBCluster' : 'DBInstance'} ${input.Source} not found.`);
    }
    for (const d of this.deployments.values()) {
      if (d.name === name) throw rdsError('BlueGreenDeploymentAlreadyExistsFault', `A blue/green deployment with the name ${name} already exists.`);
      if (d.source === input.Source) throw rdsError('InvalidDBInstanceStateFault', `The source ${input.Source} is already part of blue/green deployment ${d.id}.`);
    }
    const id = `bgd-${this.randomId(ID_LENGTH)}`;
    const suffix = `-green-${this.randomId(GREEN_SUFFIX_LENGTH)}`;
    const green = new Map<string, FakeDatabase>();
    const engineVersion = input.TargetEngineVersion ?? source.engineVersion;
    const parameterGroup = input.TargetDBClusterParameterGroupName ?? input.TargetDBParameterGroupName;
    const members: Member[] = [];
    const pair = (kind: 'instance' | 'cluster', identifier: string, instances: readonly string[] = []) => {
      const greenId = `${identifier}${suffix}`;
      const deletionProtection = this.databases.get(this.arn(kind, identifier))?.deletionProtection;
      green.set(this.arn(kind, greenId), { kind, identifier: greenId, engineVersion, parameterGroup, instances: instances.map((i) => `${i}${suffix}`), deletionProtection });
      members.push({ source: this.arn(kind, identifier), target: this.arn(kind, greenId), status: 'PROVISIONING' });
    };
    pair(source.kind, source.identifier, source.instances);
    for (const i of source.instances) pair('instance', i);
    const now = this.clock.now();
    const d: Deployment = {
      id, name, source: input.Source!, target: members[0].target, status: 'PROVISIONING', members, green,
      createdAt: now, availableAt: now + this.provisioningMs, invalidConfiguration: this.nextInvalidConfiguration,
      targetEngineVersion: input.TargetEngineVersion, targetParameterGroup: parameterGroup,
    };
    this.nextInvalidConfiguration = undefined;
    this.deployments.set(id, d);
    return { BlueGreenDeployment: this.render(d) };
  }

  describeBlueGreenDeployments(input: DescribeBlueGreenDeploymentsRequest): { BlueGreenDeployments: BlueGreenDeployment[]; Marker?: string } {
    const max = input.MaxRecords ?? MAX_RECORDS;
    if (max < MIN_RECORDS || max > MAX_RECORDS) throw rdsError('InvalidParameterValue', `MaxRecords must be from ${MIN_RECORDS} to ${MAX_RECORDS}: ${max}`);
    this.purgeDeleted();
    let list = [...this.deployments.values()];
    if (input.BlueGreenDeploymentIdentifier !== undefined) {
      list = list.filter((d) => d.id === input.BlueGreenDeploymentIdentifier);
      if (!list.length) throw rdsError('BlueGreenDeploymentNotFoundFault', `BlueGreenDeploymentIdentifier ${input.BlueGreenDeploymentIdentifier} doesn't refer to an existing blue/green deployment.`);
    }
    for (const f of input.Filters ?? []) {
      const values = f.Values ?? [];
      const field: Record<string, (d: Deployment) => string> = {
        'blue-green-deployment-identifier': (d) => d.id, 'blue-green-deployment-name': (d) => d.name, 'source': (d) => d.source, 'target': (d) => d.target,
      };
      const get = field[f.Name ?? ''];
      if (!get) throw rdsError('InvalidParameterValue', `Unrecognized filter name: ${f.Name}`);
      list = list.filter((d) => values.includes(get(d)));
    }
    const start = input.Marker ? Number(input.Marker) : 0;
    const page = list.slice(start, start + max);
    for (const d of page) this.advance(d);
    const next = start + max < list.length ? String(start + max) : undefined;
    return { BlueGreenDeployments: page.map((d) => this.render(d)), ...(next ? { Marker: next } : {}) };
  }

  switchoverBlueGreenDeployment(input: SwitchoverBlueGreenDeploymentRequest): { BlueGreenDeployment: BlueGreenDeployment } {
    const d = this.get(input.BlueGreenDeploymentIdentifier);
    const timeout = input.SwitchoverTimeout ?? RDS_DEFAULT_SWITCHOVER_TIMEOUT_SECONDS;
    if (!Number.isInteger(timeout) || timeout < RDS_MIN_SWITCHOVER_TIMEOUT_SECONDS || timeout > RDS_MAX_SWITCHOVER_TIMEOUT_SECONDS) {
      throw rdsError('InvalidParameterValue', `SwitchoverTimeout must be from ${RDS_MIN_SWITCHOVER_TIMEOUT_SECONDS} to ${RDS_MAX_SWITCHOVER_TIMEOUT_SECONDS} seconds: ${timeout}`);
    }
    if (d.status !== 'AVAILABLE') throw rdsError('InvalidBlueGreenDeploymentStateFault', `The blue/green deployment ${d.id} must be AVAILABLE to switch over; it is ${d.status}.`);
    const now = this.clock.now();
    const completes = this.switchoverMs <= timeout * MS_PER_SECOND;
    d.switchover = { startedAt: now, endsAt: now + (completes ? this.switchoverMs : timeout * MS_PER_SECOND), completes, timeoutSeconds: timeout, settled: false };
    d.status = 'SWITCHOVER_IN_PROGRESS';
    d.statusDetails = undefined;
    for (const m of d.members) m.status = 'SWITCHOVER_IN_PROGRESS';
    return { BlueGreenDeployment: this.render(d) };
  }

  deleteBlueGreenDeployment(input: DeleteBlueGreenDeploymentRequest): { BlueGreenDeployment: BlueGreenDeployment } {
    const d = this.get(input.BlueGreenDeploymentIdentifier);
    if (d.status === 'SWITCHOVER_IN_PROGRESS') throw rdsError('InvalidBlueGreenDeploymentStateFault', `The blue/green deployment ${d.id} is switching over and can't be deleted.`);
    if (input.DeleteTarget && d.status === 'SWITCHOVER_COMPLETED') {
      throw rdsError('InvalidBlueGreenDeploymentStateFault', `DeleteTarget can't be specified for blue/green deployment ${d.id}: its switchover is complete.`);
    }
    if (d.status === 'DELETING') throw rdsError('InvalidBlueGreenDeploymentStateFault', `The blue/green deployment ${d.id} is already being deleted.`);
    if (input.DeleteTarget) for (const arn of d.green.keys()) this.databases.delete(arn);
    d.status = 'DELETING';
    d.deletedAt = this.clock.now();
    return { BlueGreenDeployment: this.render(d) };
  }

  deleteDBInstance(input: DeleteDBInstanceMessage): { DBInstance: { DBInstanceIdentifier: string; DBInstanceStatus: string } } {
    const arn = this.arn('instance', input.DBInstanceIdentifier ?? '');
    if (!this.databases.has(arn)) throw rdsError('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    if (this.databases.get(arn)!.replicaOf !== undefined && input.FinalDBSnapshotIdentifier) {
      throw rdsError('InvalidParameterCombination', 'FinalDBSnapshotIdentifier can not be specified when deleting a replica instance');
    }
    if (!input.SkipFinalSnapshot && !input.FinalDBSnapshotIdentifier) {
      throw rdsError('InvalidParameterCombination', 'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.');
    }
    for (const d of this.deployments.values()) {
      if (d.members.some((m) => m.source === arn || m.target === arn)) throw rdsError('InvalidDBInstanceStateFault', `DBInstance ${input.DBInstanceIdentifier} is part of blue/green deployment ${d.id}.`);
    }
    if (this.databases.get(arn)!.deletionProtection) {
      throw rdsError('InvalidParameterCombination', 'Cannot delete protected DB Instance, please disable deletion protection and try again.');
    }
    this.databases.delete(arn);
    if (input.FinalDBSnapshotIdentifier) this.snapshots.push(input.FinalDBSnapshotIdentifier);
    return { DBInstance: { DBInstanceIdentifier: input.DBInstanceIdentifier!, DBInstanceStatus: 'deleting' } };
  }

  /** ModifyDBInstance of DeletionProtection only (what cleanup changes); any other setting is not implemented. */
  modifyDBInstance(input: ModifyDBInstanceMessage): { DBInstance: { DBInstanceIdentifier: string; DeletionProtection?: boolean } } {
    const others = Object.keys(input).filter((k) => !['DBInstanceIdentifier', 'DeletionProtection', 'ApplyImmediately'].includes(k));
    if (others.length) throw rdsError('FakeNotImplemented', `FakeRdsBlueGreen: ModifyDBInstance of ${others.join(', ')} is not implemented`);
    const arn = this.arn('instance', input.DBInstanceIdentifier ?? '');
    const db = this.databases.get(arn);
    if (!db) throw rdsError('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    const modified = input.DeletionProtection === undefined ? db : { ...db, deletionProtection: input.DeletionProtection };
    this.databases.set(arn, modified);
    return { DBInstance: { DBInstanceIdentifier: db.identifier, DeletionProtection: modified.deletionProtection ?? false } };
  }

  /** Forgets the deployments whose deletion has finished. */
  private purgeDeleted(): void {
    const now = this.clock.now();
    for (const [id, d] of this.deployments) if (d.deletedAt !== undefined && now >= d.deletedAt + this.deletingMs) this.deployments.delete(id);
  }

  private get(id: string | undefined): Deployment {
    this.purgeDeleted();
    const d = this.deployments.get(id ?? '');
    if (!d) throw rdsError('BlueGreenDeploymentNotFoundFault', `BlueGreenDeploymentIdentifier ${id} doesn't refer to an existing blue/green deployment.`);
    this.advance(d);
    return d;
  }

  /** Brings a deployment up to the clock's time. */
  private advance(d: Deployment): void {
    const now = this.clock.now();
    if (d.status === 'DELETING') return;
    if (d.status === 'PROVISIONING' && now >= d.availableAt) {
      if (d.invalidConfiguration) {
        d.status = 'INVALID_CONFIGURATION';
        d.statusDetails = d.invalidConfiguration;
        for (const m of d.members) m.status = 'AVAILABLE';
      } else {
        d.status = 'AVAILABLE';
        for (const m of d.members) m.status = 'AVAILABLE';
        for (const [arn, db] of d.green) this.databases.set(arn, db);
      }
    }
    const s = d.switchover;
    if (!s || s.settled || now < s.endsAt) return;
    if (s.completes) {
      s.settled = true;
      this.swap(d);
      d.status = 'SWITCHOVER_COMPLETED';
      for (const m of d.members) m.status = 'SWITCHOVER_COMPLETED';
      return;
    }
    if (d.status === 'SWITCHOVER_IN_PROGRESS') {
      d.status = 'SWITCHOVER_FAILED';
      d.statusDetails = `Switchover was rolled back: it did not complete within the switchover timeout of ${s.timeoutSeconds} seconds. No changes were made.`;
      for (const m of d.members) m.status = 'SWITCHOVER_FAILED';
    }
    if (now >= s.endsAt + this.rollbackMs) {
      s.settled = true;
      d.status = 'AVAILABLE';
      for (const m of d.members) m.status = 'AVAILABLE';
    }
  }

  /** The switchover's renames: blue -> <name>-old1, green -> the original names. */
  private swap(d: Deployment): void {
    const renamed: Member[] = [];
    for (const m of d.members) {
      const blue = this.databases.get(m.source)!;
      const green = this.databases.get(m.target)!;
      const oldId = `${blue.identifier}${OLD_SUFFIX}`;
      const oldArn = this.arn(blue.kind, oldId);
      this.databases.delete(m.source);
      this.databases.delete(m.target);
      this.databases.set(oldArn, { ...blue, identifier: oldId, instances: blue.instances.map((i) => `${i}${OLD_SUFFIX}`) });
      this.databases.set(m.source, { ...green, identifier: blue.identifier, instances: blue.instances });
      renamed.push({ source: oldArn, target: m.source, status: m.status });
    }
    d.members = renamed;
    d.source = renamed[0].source;
    d.target = renamed[0].target;
  }

  private render(d: Deployment): BlueGreenDeployment {
    return deepClone({
      BlueGreenDeploymentIdentifier: d.id,
      BlueGreenDeploymentName: d.name,
      Source: d.source,
      Target: d.target,
      Status: d.status,
      ...(d.statusDetails ? { StatusDetails: d.statusDetails } : {}),
      SwitchoverDetails: d.members.map((m) => ({ SourceMember: m.source, TargetMember: m.target, Status: m.status })),
      Tasks: [{ Name: d.targetEngineVersion ? 'CREATING_UPGRADE_READ_REPLICA_OF_SOURCE' : 'CREATING_READ_REPLICA_OF_SOURCE', Status: d.status === 'PROVISIONING' ? 'IN_PROGRESS' : 'COMPLETED' }],
      CreateTime: new Date(d.createdAt),
    });
  }

  private randomId(length: number): string {
    this.counter += 1;
    return this.counter.toString(36).padStart(length, '0');
  }
}
