/**
 * What every operation implements. The engine drives the lifecycle; an operation says, for itself, what
 * to check against the catalog, what to expand (inside the start transaction, or concurrently after it),
 * how the new schema version sees its table, which triggers keep the versions in sync, which table needs
 * a backfill, how to validate, contract and roll back, and how to describe all that in the plan.
 */
import type { ClientBase } from 'pg';
import { ColumnInfo } from '../catalog';
import { DdlRunner } from '../ddl';
import { Operation, Risk } from '../types';

export interface TableInfo {
  readonly columns: readonly ColumnInfo[];
  readonly primaryKey: readonly { name: string; type: string }[];
  /** Foreign keys of other tables that reference this table: "<table>.<constraint>". */
  readonly referencedBy: readonly string[];
  /** Indexes of the table, with the constraint each backs (primary key, unique, exclusion), if any. */
  readonly indexes?: readonly { readonly name: string; readonly constraint: string | null; readonly unique: boolean }[];
  /** Constraints of the table (pg_constraint), with the foreign keys ("<table>.<constraint>") that depend on a key's index. */
  readonly constraints?: readonly { readonly name: string; readonly type: string; readonly columns?: readonly string[]; readonly referencedBy: readonly string[] }[];
}

/** The physical schema's tables as they are before the migration starts. */
export type CatalogSnapshot = ReadonlyMap<string, TableInfo>;

/** A column of a view in the new version schema: the name the new version sees, and the physical column behind it. */
export interface ViewColumn {
  alias: string;
  physical: string;
  /** A default of the view's column for the new version's inserts (null: none, whatever the table's); absent: the table's. */
  default?: string | null;
  /** A comment on the view's column (null: none); absent: none. */
  comment?: string | null;
}

/**
 * The new version schema: for each physical table, the columns its view exposes (absent: no view), and the name of
 * the view where the new version calls the table differently (renameTable).
 */
export class VersionModel extends Map<string, ViewColumn[]> {
  readonly viewNames = new Map<string, string>();

  /** The view's name of a physical table in the new version. */
  viewName(table: string): string {
    return this.viewNames.get(table) ?? table;
  }
}

export interface OpContext {
  readonly client: ClientBase;
  readonly ddl: DdlRunner;
  /** The physical schema. */
  readonly schema: string;
  readonly migration: string;
  /** Index of the operation in the migration. */
  readonly index: number;
  /** The new version schema (views). */
  readonly versionSchema: string;
  /**
   * `table.column` of the added columns whose default is volatile (CheckContext.volatileDefaults, probed once by
   * the engine). Known during start (expand, triggers); empty in the later actions, which do not use it.
   */
  readonly volatileDefaults: ReadonlySet<string>;
  /** `table.column` of every column an operation of the migration rewrites (column-rewrite.ts). Known during start. */
  readonly rewritten?: ReadonlySet<string>;
}

export interface PlanStepDescription {
  readonly phase: 'start' | 'backfill' | 'validate' | 'complete';
  readonly action: string;
  /** Locks taken, e.g. "ACCESS EXCLUSIVE on public.users (metadata only, lock_timeout + retries)". */
  readonly locks: readonly string[];
  /** What undoes it (before complete), or "none (irreversible)". */
  readonly rollback: string;
  readonly risk: Risk;
  /** Why the risk is what it is, and any warning. */
  readonly note?: string;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Context of the checks that run before any SQL: the catalog snapshot and what earlier operations create. */
export interface CheckContext {
  readonly schema: string;
  readonly catalog: CatalogSnapshot;
  /** Tables created by operations of this migration (name -> column names). */
  readonly createdTables: ReadonlyMap<string, readonly string[]>;
  /** Column names each table gains in the new version from operations of this migration. */
  readonly newColumns: ReadonlyMap<string, ReadonlySet<string>>;
  /** Columns whose default is volatile (table.column), found by probing; they are backfilled rather than defaulted in place. */
  readonly volatileDefaults: ReadonlySet<string>;
  /**
   * Objects that would stop complete's DROP of a table (key `table`) or column (key `table.column`), for the tables
   * and columns the migration drops (preflight.ts dependentsOf). Empty where not looked up.
   */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
}

/** An SQL statement that preflight EXPLAINs (never executes) to find errors in a migration's SQL before start. */
export interface Probe {
  /** The operation's field the SQL comes from, for the message (e.g. `up`, `column.type`). */
  readonly field: string;
  /** A SELECT; EXPLAIN parses, analyses and plans it. */
  readonly sql: string;
}

/** An expression preflight evaluates over every existing row of a table (read-only): the `up` the triggers will apply. */
export interface DataCheck {
  readonly field: string;
  readonly table: string;
  /** SQL over the table's columns (bare names, as the old version names them). */
  readonly expression: string;
  /** Columns shown with the failing row, besides its primary key. */
  readonly show: readonly string[];
}

/**
 * One operation's share of the backfill batch statement of its table. The statement updates the rows of one
 * key range; PostgreSQL evaluates the values on each row's latest committed version (after waiting for a
 * writer that holds the row), exactly as a trigger on that UPDATE would see it.
 */
export interface BackfillStep {
  /** The table whose rows that existed when the backfill began are touched. */
  readonly table: string;
  /**
   * Columns to set on each touched row. `value` is SQL over the table's columns (bare names, as the old version
   * names them); it should leave a value a writer already set alone (e.g. `CASE WHEN col IS NULL THEN ... ELSE col END`).
   */
  readonly set?: readonly { readonly column: string; readonly value: string }[];
  /**
   * Copies each touched row into another table of the same schema: `INSERT INTO <table> (<key>, <columns>)
   * SELECT <sourceKey>, <columns> ... ON CONFLICT (<key>) DO NOTHING`, so a row a writer already copied wins.
   */
  readonly copy?: { readonly table: string; readonly key: string; readonly sourceKey: string; readonly columns: readonly string[] };
}

export interface OperationImpl<O extends Operation> {
  /** Problems with the operation against the catalog (before any SQL). */
  check(op: O, ctx: CheckContext, index: number): string[];
  plan(op: O, ctx: CheckContext): PlanStepDescription[];
  /**
   * SQL fragments to try before start (preflight.ts). `row(table, as)` is a FROM item giving the table's row as the
   * new version sees it (`view`, the default: for `down` expressions) or as the physical table is after the expand
   * (`physical`: for checks and index predicates); undefined for a table the migration creates.
   */
  probes?(op: O, ctx: CheckContext, row: (table: string, as?: 'view' | 'physical') => string | undefined): Probe[];
  /** Expressions to evaluate over the existing rows before start (preflight.ts). */
  dataChecks?(op: O, ctx: CheckContext): DataCheck[];
  /** DDL inside the start transaction. */
  expand(op: O, ctx: OpContext, catalog: CatalogSnapshot): Promise<void>;
  /** How the new version sees the tables. */
  view?(op: O, model: VersionModel): void;
  /** Triggers (inside the start transaction, after expand, with the new version's model known). */
  triggers?(op: O, ctx: OpContext, catalog: CatalogSnapshot, model: VersionModel): Promise<void>;
  /** Work that must run outside a transaction after the start transaction (concurrent index builds). */
  expandConcurrently?(op: O, ctx: OpContext, model: VersionModel): Promise<void>;
  /**
   * What the backfill does for this operation, if anything: the table whose existing rows it touches and the
   * work done on each touched row inside the batch statement itself (the operation's triggers do not fire for
   * the backfill's own writes, see triggers.ts).
   */
  backfillStep?(op: O, ctx: OpContext): BackfillStep | undefined | Promise<BackfillStep | undefined>;
  validate?(op: O, ctx: OpContext): Promise<Check[]>;
  /** DDL inside the complete transaction. */
  contract?(op: O, ctx: OpContext): Promise<void>;
  /** Undo the expand; idempotent (IF EXISTS everywhere), may run after a partial start. */
  rollback?(op: O, ctx: OpContext): Promise<void>;
}
