/**
 * The plan: every step the migration will take, in order, with the locks it takes, what undoes it and its
 * risk. It is computed (and shown) before anything runs; a high-risk step (one that drops data) makes the
 * whole migration high risk, and start/complete then require an explicit acknowledgement. So do logical
 * replication slots on the database (logicalReplicationSlots).
 */
import { CheckContext, PlanStepDescription } from './operations/operation';
import { implementationOf } from './operations';
import type { ClientBase } from 'pg';
import { Migration, Risk } from './types';

export interface PlanStep extends PlanStepDescription {
  /** Index of the operation in the migration, or null for the engine's own steps. */
  readonly operation: number | null;
}

export interface MigrationPlan {
  readonly migration: string;
  readonly description?: string;
  readonly schema: string;
  /** Schema of views the new application version uses (search_path). */
  readonly versionSchema: string;
  /** Schema the old application version uses: the previous version schema, or the physical schema. */
  readonly previousVersionSchema: string | null;
  readonly steps: readonly PlanStep[];
  readonly risk: Risk;
  /** One line per high-risk step. */
  readonly highRisk: readonly string[];
  /**
   * The database's logical replication slots, as `name (plugin, active|inactive)`: while there are any, start and
   * complete change the schema only with an explicit acknowledgement (acknowledgeLogicalReplication).
   */
  readonly logicalReplicationSlots: readonly string[];
  /** What about the database itself the author should know before running it; the plan and the start's log show them. */
  readonly warnings: readonly string[];
  /** The schema's active migration when the plan was made (this one when it is already started), if any. */
  readonly activeMigration?: { readonly name: string; readonly status: string };
}

const PHASE_ORDER = ['start', 'backfill', 'validate', 'complete'] as const;

export function buildPlan(migration: Migration, ctx: CheckContext, versionSchema: string, previousVersionSchema: string | null,
  logicalReplicationSlots: readonly string[] = []): MigrationPlan {
  const opSteps: PlanStep[] = migration.operations.flatMap((op, index) =>
    implementationOf(op).plan(op, ctx).map((s) => ({ ...s, operation: index })));
  const engine = (phase: PlanStep['phase'], action: string, locks: string[], rollback: string): PlanStep =>
    ({ phase, action, locks, rollback, risk: 'low', operation: null });
  const steps: PlanStep[] = [
    engine('start', `take the migration lock of schema ${ctx.schema} and record the migration`, ['advisory lock (no table locks)'], 'mark rolled back'),
    ...opSteps.filter((s) => s.phase === 'start'),
    engine('start', `CREATE SCHEMA ${versionSchema} with one view per table (the new version's search_path)`, ['none on tables'], `DROP SCHEMA ${versionSchema} CASCADE`),
    ...PHASE_ORDER.slice(1).flatMap((phase) => [
      ...opSteps.filter((s) => s.phase === phase),
      ...(phase === 'validate' ? [engine('validate', `no invalid index in schema ${ctx.schema}`, ['none'], 'none needed')] : []),
      ...(phase === 'complete' ? [engine('complete', previousVersionSchema
        ? `DROP SCHEMA ${previousVersionSchema} CASCADE (the old version's views; its application must be gone) and drop the triggers`
        : 'drop the triggers (the old version used the physical schema directly)', ['brief ACCESS EXCLUSIVE on tables with triggers'], 'none after complete')] : []),
    ]),
  ];
  const highRisk = steps.filter((s) => s.risk === 'high')
    .map((s) => `${s.operation !== null ? `operations[${s.operation}] (${migration.operations[s.operation].op})` : 'engine'}: ${s.action}${s.note ? ` — ${s.note}` : ''}`);
  return {
    migration: migration.name, description: migration.description, schema: ctx.schema, versionSchema, previousVersionSchema,
    steps, risk: highRisk.length > 0 ? 'high' : 'low', highRisk, logicalReplicationSlots, warnings: logicalReplicationSlots.length > 0 ? [logicalReplicationRisk(logicalReplicationSlots)] : [],
  };
}

/** The plan as text for a terminal or a log. */
export function formatPlan(plan: MigrationPlan): string {
  const lines: string[] = [];
  lines.push(`Migration ${plan.migration}${plan.description ? ` — ${plan.description}` : ''}`);
  lines.push(`  schema ${plan.schema}; new version: search_path=${plan.versionSchema}; old version: ${plan.previousVersionSchema ?? `${plan.schema} (physical tables)`}`);
  lines.push(`  risk: ${plan.risk.toUpperCase()}`);
  let phase = '';
  plan.steps.forEach((s, i) => {
    if (s.phase !== phase) {
      phase = s.phase;
      lines.push('', `${phase.toUpperCase()}`);
    }
    lines.push(`  ${String(i + 1).padStart(2)}. [${s.risk === 'high' ? 'HIGH' : 'low '}] ${s.action}`);
    lines.push(`      locks: ${s.locks.join('; ')}`);
    lines.push(`      rollback: ${s.rollback}`);
    if (s.note) lines.push(`      note: ${s.note}`);
  });
  if (plan.warnings.length > 0) {
    lines.push('', 'WARNINGS — about this database:');
    for (const w of plan.warnings) lines.push(`  - ${w}`);
  }
  if (plan.risk === 'high') {
    lines.push('', 'HIGH RISK — these steps drop data and cannot be undone after complete:');
    for (const h of plan.highRisk) lines.push(`  - ${h}`);
    lines.push('They run only with an explicit acknowledgement (--acknowledge-high-risk / acknowledgeHighRisk: true).');
  }
  return lines.join('\n');
}

/**
 * The logical replication slots of the current database, as `name (plugin, active|inactive)`. Logical replication
 * carries rows, not DDL: the subscribers of this database (the green environment of an RDS blue/green deployment
 * that upgrades the major version, a CDC pipeline) get none of a migration's columns, tables, views or triggers,
 * and rows that carry a column a subscriber lacks stop its replication. Physical replication (read replicas, RDS
 * blue/green deployments within a major version) replays the DDL and has no logical slot.
 */
export async function logicalReplicationSlots(client: ClientBase): Promise<string[]> {
  const slots = await client.query<{ slot_name: string; plugin: string; active: boolean }>(
    `SELECT slot_name, plugin, active FROM pg_replication_slots WHERE slot_type = 'logical' AND database = current_database() ORDER BY slot_name`);
  return slots.rows.map((r) => `${r.slot_name} (${r.plugin}, ${r.active ? 'active' : 'inactive'})`);
}

/**
 * Why a schema change on a database with these logical replication slots needs an acknowledgement: the plan's
 * warning, and the refusal of start and complete.
 */
export function logicalReplicationRisk(slots: readonly string[]): string {
  return `logical replication slot${slots.length === 1 ? '' : 's'} ${slots.join(', ')} on this database: logical replication carries rows, not DDL,`
    + ' so its subscribers (the green environment of an RDS blue/green deployment that upgrades the major version, a CDC pipeline) would miss'
    + ' this migration\'s schema changes, and rows carrying a column a subscriber lacks stop its replication. Switch over or delete a blue/green'
    + ' deployment first. Start and complete refuse to change the schema while a slot exists unless acknowledged'
    + ' (--acknowledge-logical-replication / acknowledgeLogicalReplication: true), for when every subscriber gets the same migration;'
    + ' rollback is never refused: it brings the schema back to what the subscribers have.';
}
