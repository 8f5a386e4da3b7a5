import { CfnResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { STATE_MACHINE_KIND_METADATA_KEY } from '../../lambda/flag-rollout/flag-rollout-contract';
import {
  describePlan, RELEASE_PLAN_KIND, RELEASE_PLAN_METADATA_KEY, ReleasePlanDocument, ReleasePlanStep,
} from '../../lambda/release/release-plan-contract';
import { SchemaMigration } from '../database/schema-migration';
import { GuardedFlagRollout } from '../flags/guarded-flag-rollout';
import { acknowledge, iam5FunctionVersions, iam5Resource } from '../private/nag';
import { buildReleaseDefinition, stateMachineExecutionsArn } from '../private/release-definition';
import { standardStateMachine } from '../private/standard-state-machine';
import { PropChecks, propError } from '../private/validation';
import { IProgressiveRollout, ProgressiveRollout } from '../rollout/progressive-rollout';

/** Props of ReleasePlan. */
export interface ReleasePlanProps {
  /**
   * The schema migration the release needs: expanded before any traffic moves, completed (contract) after every
   * other part passed. It must keep its gate (`gate` not false), with a `gateTimeout` longer than the release (the
   * traffic rollout's bakes, the flag rollouts' phases, the soak, and room for pauses and the approval), and must not
   * also `completeAfterRollout`.
   */
  readonly migration: SchemaMigration;
  /** The traffic rollout of the new application version. */
  readonly rollout: IProgressiveRollout;
  /**
   * Flag rollouts run after the traffic rollout, one after the other, in this order.
   * @default - none
   */
  readonly flagRollouts?: GuardedFlagRollout[];
  /**
   * How often the plan reads the migration's progress (until it waits at its gate, and until it completed or rolled
   * back).
   * @default Duration.minutes(1)
   */
  readonly pollInterval?: Duration;
  /**
   * How long the plan waits after the last rollout before the contract (the new version under full traffic, every
   * flag on).
   * @default - no soak: the contract follows the last rollout
   */
  readonly soakTime?: Duration;
  /**
   * Wait for an operator before the contract: the 'Release Waiting For Approval' event carries the task token
   * (SendTaskSuccess approves; SendTaskFailure or the timeout halts the plan without the contract).
   * @default false
   */
  readonly approveBeforeContract?: boolean;
  /**
   * How long the approval waits (with approveBeforeContract).
   * @default Duration.days(7)
   */
  readonly approvalTimeout?: Duration;
  /**
   * When a flag rollout of the plan fails (it rolled its own flag back), leave the flags whose rollouts completed
   * earlier in the plan rolled out. By default the plan is one release: those flags are restored too, the latest
   * first, each to its definition before its rollout ("Release Flag Rolled Back" each), then the plan halts. Keep them
   * when the flags are independent of each other and of the failed one.
   * @default false
   */
  readonly keepCompletedFlags?: boolean;
  /**
   * Bus of the plan's events.
   * @default - the migration's bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Retention of the state machine's log.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

const DEFAULTS = {
  pollInterval: Duration.minutes(1),
  approvalTimeout: Duration.days(7),
};

/** Step Functions' longest state name (API Reference, StateEnteredEventDetails). */
const MAX_STATE_NAME = 80;

/**
 * One release across components (the seed's MigrationOrchestrator): a Step Functions state machine that starts a
 * schema migration's expand and waits until it is backfilled, validated and waiting at its gate; runs the traffic
 * rollout (its state machine, `.sync:2`); runs each flag rollout (`.sync:2`); then, after an optional approval and
 * soak, completes the migration (contract) by releasing its gate, the mechanism `SchemaMigration.completeAfterRollout`
 * uses. The plan replaces that link: it completes the migration only after the flags too, and rolls it back when the
 * traffic rolls back.
 *
 * One rollback story: every part rolls itself back (a migration that fails before its gate, a traffic rollout on a
 * regression, a flag rollout on a regression). Then the plan undoes the earlier parts in reverse only where that is
 * safe: after the traffic rollout's verified rollback (ZdtRolledBack) the migration is rolled back, since only the old
 * version serves traffic; after a flag rollback, the flags whose rollouts completed earlier in the plan are rolled
 * back too, the latest first (unless `keepCompletedFlags`), the traffic stays on the new version (which passed its
 * judgement) and the migration stays expanded, never completed; after a failed traffic rollback nothing more is
 * changed. Every
 * step is an EventBridge event (`ReleasePlanEvent`) and the execution fails with a `ReleasePlanErrorName`.
 *
 * Start a release with StartExecution of `stateMachine` and the input `{}`, or `{ "migration": { ... } }` when the
 * SchemaMigration has no `migration` prop (the plan hands it to the migration's execution). Each part's execution is
 * named after the plan's. `zdt plan` prints the plan from the synthesized template (no AWS call); `zdt status
 * --state-machine <arn>` shows every part of the running release.
 */
export class ReleasePlan extends Construct {
  /** The state machine that runs the release: start an execution to release. */
  public readonly stateMachine: sfn.StateMachine;
  /** The plan, a line a step, then the rollback story: what `zdt plan` prints. */
  public readonly planDescription: string[];

  constructor(scope: Construct, id: string, props: ReleasePlanProps) {
    super(scope, id);
    const migration = props.migration;
    const flags = props.flagRollouts ?? [];
    const pollInterval = props.pollInterval ?? DEFAULTS.pollInterval;
    if (!migration.hasGate) {
      throw propError(this, `migration ${migration.node.path} has gate: false, so it completes right after validation, before any traffic moves; give it its gate (the plan releases it)`);
    }
    if (props.approvalTimeout && !props.approveBeforeContract) throw propError(this, 'approvalTimeout is set but approveBeforeContract is not; set both or neither');
    const keys = flags.map((f) => f.flagKey);
    const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
    if (repeated) throw propError(this, `flagRollouts has two rollouts of flag "${repeated}"; give each flag once`);
    new PropChecks(this)
      .duration('pollInterval', props.pollInterval, Duration.seconds(10), Duration.hours(1))
      .duration('soakTime', props.soakTime, Duration.minutes(1), Duration.days(30))
      .duration('approvalTimeout', props.approvalTimeout, Duration.minutes(1), Duration.days(364));
    // completeAfterRollout may be called after the plan is built: checked at synth.
    this.node.addValidation({
      validate: () => migration._releasedBy.length === 0 ? [] : [`${this.node.path}: migration ${migration.node.path} also completes after the rollout of `
        + `${migration._releasedBy.join(', ')} (completeAfterRollout): its contract would run as soon as the traffic rollout completes, before the plan's flag rollouts; `
        + 'remove the completeAfterRollout call, the release plan releases the gate'],
    });

    const approvalTimeout = props.approveBeforeContract ? props.approvalTimeout ?? DEFAULTS.approvalTimeout : undefined;
    checkGateTimeout(this, migration, props.rollout, flags, props.soakTime, approvalTimeout);
    const keepCompletedFlags = props.keepCompletedFlags ?? false;
    const document = planDocument(this.node.path, { migration, rollout: props.rollout, flags, soakTime: props.soakTime, approvalTimeout, pollInterval, keepCompletedFlags });
    this.planDescription = describePlan(document);

    const traffic = this.local(props.rollout.stateMachine, 'TrafficStateMachine');
    const flagMachines = flags.map((f) => {
      const id = f.flagKey.replace(/[^A-Za-z0-9]/g, '');
      return { flagKey: f.flagKey, stateMachine: this.local(f.stateMachine, `FlagStateMachine${id}`), handler: this.localFunction(f.handler, `FlagHandler${id}`) };
    });
    this.stateMachine = standardStateMachine(this, {
      definition: buildReleaseDefinition(this, {
        path: this.node.path,
        migration,
        traffic,
        flags: flagMachines,
        pollInterval,
        soakTime: props.soakTime,
        approvalTimeout,
        eventBus: props.eventBus ?? migration.eventBus,
        keepCompletedFlags,
      }),
      comment: `cdk-zero-downtime release plan: migration ${migration.migrationName ?? '(from the input)'}, traffic, ${flags.length} flag rollout(s), contract`,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      wildcardReason: 'X-Ray tracing, and the .sync:2 integration\'s executions and events rule, have no narrower resource: Step Functions Developer Guide, "IAM policies for Step Functions" (StartExecution .sync)',
    });
    this.refuseLongStateNames(keys);
    const cfn = this.stateMachine.node.defaultChild as CfnResource;
    cfn.addMetadata(STATE_MACHINE_KIND_METADATA_KEY, RELEASE_PLAN_KIND);
    cfn.addMetadata(RELEASE_PLAN_METADATA_KEY, document);
    acknowledge(this.stateMachine, iam5FunctionVersions(migration.handler), 'Step Functions invokes the migration function and its versions');
    acknowledge(this.stateMachine, iam5Resource(this, stateMachineExecutionsArn(this, migration.stateMachine, ':*')),
      'The plan reads the migration\'s execution it started (DescribeExecution); its name is the plan execution\'s, known at run time');
    if (!keepCompletedFlags) {
      // Every flag but the last may be restored by the plan (when a later one fails), with its rollout's handler.
      flags.slice(0, -1).forEach((f, i) => acknowledge(this.stateMachine,
        Stack.of(f.handler) === Stack.of(this) ? iam5FunctionVersions(f.handler) : iam5Resource(this, `${flagMachines[i].handler.functionArn}:*`),
        'Step Functions invokes the flag rollout\'s handler and its versions (the plan restores a flag whose rollout completed when a later flag fails)'));
    }
    for (const child of [traffic, ...flagMachines.map((f) => f.stateMachine)]) {
      acknowledge(this.stateMachine, iam5Resource(this, stateMachineExecutionsArn(this, child, '*')),
        'The .sync:2 integration reads and stops the child execution it started (CDK\'s grant, Step Functions Developer Guide "IAM policies for Step Functions": executions of that state machine only)');
    }
  }

  /**
   * `stateMachine` as this stack references it: a state machine of another stack through an explicit export
   * (Stack.exportValue, the export CDK would make for the reference anyway), so that the ARN this construct grants and
   * acknowledges (cdk-nag) is the one the template holds (Fn::ImportValue), not a reference resolved later.
   */

  /**
   * Step Functions refuses a state name longer than 80 characters at deploy (Step Functions API Reference,
   * "StateEnteredEventDetails": name, length 1-80). The plan names its states after the flag keys, which may be up to
   * 128 characters: refused here instead, naming the key.
   */
  private refuseLongStateNames(flagKeys: string[]): void {
    const tooLong = this.node.findAll().filter((c): c is sfn.State => c instanceof sfn.State && c.stateId.length > MAX_STATE_NAME);
    if (tooLong.length === 0) return;
    const name = tooLong[0].stateId;
    const key = flagKeys.filter((k) => name.includes(k)).sort((a, b) => b.length - a.length)[0];
    const room = key === undefined ? 0 : MAX_STATE_NAME - (name.length - key.length);
    throw propError(this, key === undefined
      ? `the state name "${name}" is ${name.length} characters; Step Functions allows ${MAX_STATE_NAME}`
      : `flagRollouts: the flag key "${key}" (${key.length} characters) makes the state name "${name}" ${name.length} characters long; Step Functions allows ${MAX_STATE_NAME}, so a flag of a release plan may have a key of at most ${room} characters`);
  }
  private local(stateMachine: sfn.IStateMachine, id: string): sfn.IStateMachine {
    const owner = Stack.of(stateMachine);
    if (owner === Stack.of(this)) return stateMachine;
    return sfn.StateMachine.fromStateMachineArn(this, id, owner.exportValue(stateMachine.stateMachineArn));
  }

  /** `fn` as this stack references it (see `local`). */
  private localFunction(fn: lambda.IFunction, id: string): lambda.IFunction {
    const owner = Stack.of(fn);
    if (owner === Stack.of(this)) return fn;
    return lambda.Function.fromFunctionArn(this, id, owner.exportValue(fn.functionArn));
  }

  /** Lets `grantee` start a release (states:StartExecution). */
  public grantStartRelease(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }
}

interface PlanParts {
  readonly migration: SchemaMigration;
  readonly rollout: IProgressiveRollout;
  readonly flags: readonly GuardedFlagRollout[];
  readonly soakTime?: Duration;
  readonly approvalTimeout?: Duration;
  readonly pollInterval: Duration;
  readonly keepCompletedFlags: boolean;
}

/**
 * The migration waits at its gate for the whole release: a gate that times out first fails the contract. The release
 * can hold the gate for the traffic rollout's bakes and pauses, the flag rollouts' phases and pauses, the approval and
 * the soak: each pause and the approval for as long as its timeout lets it wait.
 */
function checkGateTimeout(plan: Construct, migration: SchemaMigration, rollout: IProgressiveRollout, flags: readonly GuardedFlagRollout[],
  soakTime: Duration | undefined, approvalTimeout: Duration | undefined): void {
  if (Token.isUnresolved(migration.gateTimeout.toSeconds())) return;
  const traffic = rollout instanceof ProgressiveRollout ? rollout : undefined;
  const parts: Array<{ readonly what: string; readonly seconds: number }> = [
    { what: `the traffic rollout's bakes${traffic ? '' : ' (an imported rollout: not known, counted as 0)'}`, seconds: traffic ? traffic.plan.steps.reduce((total, s) => total + s.bakeSeconds, 0) : 0 },
    { what: `its pauses (pauseTimeout of ${rollout.node.path})`, seconds: traffic?._pauseAllowance.toSeconds() ?? 0 },
    ...flags.flatMap((f) => [
      { what: `the phases of ${f.flagKey}`, seconds: f.plannedDuration.toSeconds() },
      { what: `its pauses (pauseTimeout of ${f.node.path})`, seconds: f._pauseAllowance.toSeconds() },
    ]),
    { what: 'the approval (approvalTimeout)', seconds: approvalTimeout?.toSeconds() ?? 0 },
    { what: 'the soak (soakTime)', seconds: soakTime?.toSeconds() ?? 0 },
  ];
  const longest = parts.reduce((total, p) => total + p.seconds, 0);
  if (longest < migration.gateTimeout.toSeconds()) return;
  const human = (seconds: number) => Duration.seconds(seconds).toHumanString();
  throw propError(plan, `gateTimeout: migration ${migration.node.path} waits at its gate for ${migration.gateTimeout.toHumanString()} (its gateTimeout), `
    + `but the release can hold the gate for up to ${human(longest)}: ${parts.filter((p) => p.seconds > 0).map((p) => `${human(p.seconds)} for ${p.what}`).join(' + ')}. `
    + 'Allowed: a gateTimeout longer than that; or shorten the pauses\' pauseTimeout, approvalTimeout or soakTime');
}

function planDocument(path: string, parts: PlanParts): ReleasePlanDocument {
  const steps: Omit<ReleasePlanStep, 'number'>[] = [];
  const name = parts.migration.migrationName ?? 'the migration of the execution\'s input';
  steps.push({
    part: 'migration', construct: parts.migration.node.path,
    action: `start migration ${name} (expand, backfill, validate)`,
    waitsFor: `the migration to wait at its gate (read every ${parts.pollInterval.toHumanString()})`,
    onFailure: 'the migration rolls itself back; nothing else has changed: the release fails',
  });
  steps.push({
    part: 'traffic', construct: parts.rollout.node.path,
    action: `traffic rollout of ${parts.rollout.serviceName}`,
    details: parts.rollout instanceof ProgressiveRollout ? parts.rollout.plan.steps.map((s) => `step ${s.number}: new version at ${s.percent}%`
      + `${s.segments.length ? ` (segments ${s.segments.join(', ')})` : ''}, bake ${Duration.seconds(s.bakeSeconds).toHumanString()}${s.pause ? ', then a manual pause' : ''}`) : undefined,
    waitsFor: 'the rollout to complete (new version at 100%)',
    onFailure: 'the rollout rolls traffic back to the stable version (verified); then the plan rolls the migration back. A failed traffic rollback: nothing more is changed',
  });
  for (const flag of parts.flags) {
    steps.push({
      part: 'flag', construct: flag.node.path,
      action: `flag rollout of ${flag.flagKey}`,
      details: flag.planDescription,
      waitsFor: 'every phase to pass',
      onFailure: `the flag is rolled back to its definition before the rollout; ${parts.keepCompletedFlags ? 'earlier flags stay rolled out (keepCompletedFlags)' : 'the flags that completed earlier in the plan are rolled back too, the latest first'}; the traffic stays on the new version, the migration stays expanded (not completed)`,
    });
  }
  if (parts.approvalTimeout) {
    steps.push({
      part: 'gate', action: 'approval before the contract (event "Release Waiting For Approval" with the task token)',
      waitsFor: `SendTaskSuccess, at most ${parts.approvalTimeout.toHumanString()}`,
      onFailure: 'refused or timed out: the contract does not run; traffic and flags stay, the migration stays expanded',
    });
  }
  if (parts.soakTime) {
    steps.push({
      part: 'gate', action: `soak ${parts.soakTime.toHumanString()}`, waitsFor: 'the time to pass',
      onFailure: '-',
    });
  }
  steps.push({
    part: 'migration', construct: parts.migration.node.path,
    action: `complete migration ${name} (contract: the old schema version is dropped)`,
    waitsFor: 'the migration\'s execution to succeed',
    onFailure: 'the release fails with the new version live and the schema expanded; complete it with zdt migrate complete',
  });
  return {
    kind: RELEASE_PLAN_KIND,
    path,
    steps: steps.map((s, i) => ({ number: i + 1, ...s })),
    rollback: [
      'Each part rolls itself back when it fails.',
      'Traffic rolled back (verified 100% on the stable version) -> the migration is rolled back: only the old version, which reads the old schema, serves traffic.',
      'Traffic rollback failed -> nothing more is changed; the migration stays expanded (both schema versions are served).',
      parts.keepCompletedFlags
        ? 'A flag rolled back -> the flags that completed before it stay rolled out (keepCompletedFlags), the traffic stays on the new version and the migration stays expanded: the new version reads the new schema.'
        : 'A flag rolled back -> the flags that completed before it are rolled back too, the latest first; then the traffic stays on the new version and the migration stays expanded: the new version reads the new schema. A flag that cannot be restored fails the rollback.',
      'The contract runs only after every part passed; it is never undone (the old columns are gone).',
    ],
  };
}
