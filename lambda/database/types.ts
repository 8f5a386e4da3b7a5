/**
 * Declarative expand/contract migrations: the shapes a user writes (TypeScript objects or JSON files).
 *
 * A migration is a named list of operations. Column and table names are plain PostgreSQL identifiers
 * (letters, digits, `_`, `$`, not starting with a digit, at most 63 bytes). Types (`type`) and expressions
 * (`default`, `up`, `down`, `check`) are SQL written by the migration author and are trusted as such.
 *
 * In `up` and `down` expressions, bare column names refer to the row being written: in `up`, the columns as
 * the OLD schema version sees them; in `down`, as the NEW version sees them (the same idea as pgroll's
 * up/down SQL).
 */

/** A column of a new table or a new column of an existing table. */
export interface ColumnDefinition {
  readonly name: string;
  /** SQL type, e.g. `text`, `bigint`, `numeric(12,2)`, `timestamptz`. */
  readonly type: string;
  /** @default true */
  readonly nullable?: boolean;
  /** SQL default expression, e.g. `'active'` or `now()`. */
  readonly default?: string;
  /** Creates a PRIMARY KEY on this column (createTable only). */
  readonly primaryKey?: boolean;
  /** Creates a UNIQUE constraint on this column (createTable only). */
  readonly unique?: boolean;
  /** A foreign key on this column (createTable only): `REFERENCES table (column) ON DELETE ...`. */
  readonly references?: { readonly table: string; readonly column: string; readonly onDelete?: OnDelete };
  /** A CHECK constraint on this column (createTable only), SQL over the new table's columns. */
  readonly check?: string;
  /** COMMENT ON COLUMN. */
  readonly comment?: string;
}

export type OnDelete = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';

/** A named table constraint of a new table (createTable). */
export interface TableCheck {
  readonly name: string;
  readonly check: string;
}

/** A named, possibly multi-column foreign key of a new table (createTable). */
export interface TableForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  readonly references: { readonly table: string; readonly columns: readonly string[] };
  /** @default 'NO ACTION' */
  readonly onDelete?: OnDelete;
}

export interface CreateTableOperation {
  readonly op: 'createTable';
  readonly table: string;
  readonly columns: readonly ColumnDefinition[];
  /** Composite primary key; alternatively mark one column `primaryKey: true`. */
  readonly primaryKey?: readonly string[];
  /** Named CHECK constraints over several columns. */
  readonly checks?: readonly TableCheck[];
  /** Named (multi-column) foreign keys. */
  readonly foreignKeys?: readonly TableForeignKey[];
  /** COMMENT ON TABLE. */
  readonly comment?: string;
}

export interface AddColumnOperation {
  readonly op: 'addColumn';
  readonly table: string;
  readonly column: ColumnDefinition;
  /**
   * SQL expression computing the new column from a row written by the old version (and used to backfill
   * existing rows). Required for a NOT NULL column without a default.
   */
  readonly up?: string;
}

export interface RenameColumnOperation {
  readonly op: 'renameColumn';
  readonly table: string;
  readonly from: string;
  readonly to: string;
}

export interface ChangeColumnTypeOperation {
  readonly op: 'changeColumnType';
  readonly table: string;
  readonly column: string;
  /** New SQL type. */
  readonly type: string;
  /** Old value -> new value, e.g. `price_cents::numeric / 100`. @default `<column>::<type>` */
  readonly up?: string;
  /** New value -> old value, for rows the new version writes. @default `<column>::<old type>` */
  readonly down?: string;
  /** Default of the column once it has the new type. @default - none */
  readonly default?: string;
}

/**
 * Several changes to one column at once (pgroll's alter_column). A change of `type` or `nullable` rewrites the column
 * like changeColumnType: a new column with the new type/nullability filled by `up` from the old one (old-version
 * writes, backfill) and written back through `down` (new-version writes), swapped in at complete. A change of only
 * `default` and/or `comment` takes effect at once for the new version (on its view) and on the table at complete.
 */
export interface AlterColumnOperation {
  readonly op: 'alterColumn';
  readonly table: string;
  readonly column: string;
  /** New SQL type. @default - unchanged */
  readonly type?: string;
  /** false: SET NOT NULL (needs `up` to fill NULLs); true: DROP NOT NULL (needs `down` for the NULLs the new version writes). @default - unchanged */
  readonly nullable?: boolean;
  /** New default expression; null drops it. @default - unchanged */
  readonly default?: string | null;
  /** New column comment; null drops it. @default - unchanged */
  readonly comment?: string | null;
  /** Old value -> new value (bare column names as the old version names them). @default the column (cast to `type`) */
  readonly up?: string;
  /** New value -> old value, for rows the new version writes. @default the column (cast to the old type) */
  readonly down?: string;
  /**
   * Adds a CHECK on the column for the new version (pgroll's alter_column `check`): the column is rewritten, the check
   * holds on the new column (NOT VALID at start, validated before complete); `up` must turn old values into ones that
   * pass it, `down` new values into ones the old version accepts. @default - none
   */
  readonly check?: { readonly name: string; readonly constraint: string };
  /** Adds a UNIQUE constraint on the column for the new version (pgroll's alter_column `unique`), like `check`. @default - none */
  readonly unique?: { readonly name: string };
  /** Adds a foreign key on the column for the new version (pgroll's alter_column `references`), like `check`. @default - none */
  readonly references?: { readonly name: string; readonly table: string; readonly column: string; readonly onDelete?: OnDelete };
}

/** The kinds of constraint createConstraint adds (pgroll's create_constraint `type`). */
export type ConstraintType = 'unique' | 'check' | 'foreignKey';

/**
 * A UNIQUE, CHECK or FOREIGN KEY constraint over one or more existing columns, with data fix-up (pgroll's
 * create_constraint). Each column is rewritten: the new version sees a new column filled by `up[column]` from the
 * old one (old-version writes, backfill) and written back through `down[column]` (new-version writes); the
 * constraint holds on the new columns at once for new writes (CHECK and FOREIGN KEY NOT VALID at start, validated
 * before complete; UNIQUE through an index built concurrently, attached as the constraint at complete). The old
 * version never sees the constraint. Complete swaps the new columns in; rollback drops them.
 */
export interface CreateConstraintOperation {
  readonly op: 'createConstraint';
  readonly table: string;
  readonly name: string;
  readonly type: ConstraintType;
  /** The constrained columns (as they exist before the migration). */
  readonly columns: readonly string[];
  /** The CHECK expression, over the columns as the new version names them (type 'check'). */
  readonly check?: string;
  /** The referenced table and columns (type 'foreignKey'). */
  readonly references?: { readonly table: string; readonly columns: readonly string[]; readonly onDelete?: OnDelete };
  /** Per column: old value -> a value that satisfies the constraint (bare names as the old version names them). @default each column unchanged */
  readonly up?: { readonly [column: string]: string };
  /** Per column: new value -> old value, for rows the new version writes. @default each column unchanged */
  readonly down?: { readonly [column: string]: string };
}

/** The new version sees the table under a new name (a view); complete renames the table. */
export interface RenameTableOperation {
  readonly op: 'renameTable';
  readonly table: string;
  readonly to: string;
}

/** Drops an index at complete (both versions keep it until then). Not for indexes that back a constraint (dropConstraint). */
export interface DropIndexOperation {
  readonly op: 'dropIndex';
  readonly table: string;
  readonly name: string;
}

/** Renames a constraint (any kind, multi-column included) at complete. */
export interface RenameConstraintOperation {
  readonly op: 'renameConstraint';
  readonly table: string;
  readonly from: string;
  readonly to: string;
}

/**
 * Drops a constraint (any kind, multi-column included). Without `up`/`down`: at complete, and until then it holds for
 * both versions (the new version cannot rely on its absence before complete). With them (pgroll's
 * drop_multicolumn_constraint; CHECK, UNIQUE and FOREIGN KEY): every column of the constraint is rewritten, so the new
 * version is free of it at once while the old version keeps it; `down` must turn the new version's values into ones the
 * constraint accepts for the old version.
 */
export interface DropConstraintOperation {
  readonly op: 'dropConstraint';
  readonly table: string;
  readonly name: string;
  /** Per column of the constraint: old value -> new value. @default each column unchanged */
  readonly up?: { readonly [column: string]: string };
  /** Per column of the constraint: new value -> a value the constraint accepts for the old version. @default each column unchanged */
  readonly down?: { readonly [column: string]: string };
}

/** REPLICA IDENTITY of a table (what logical replication sends for UPDATE and DELETE), set at complete. */
export interface SetReplicaIdentityOperation {
  readonly op: 'setReplicaIdentity';
  readonly table: string;
  readonly identity: 'default' | 'full' | 'nothing' | 'index';
  /** The unique index to use, with identity 'index'. */
  readonly index?: string;
}

export interface AddIndexOperation {
  readonly op: 'addIndex';
  readonly table: string;
  readonly name: string;
  readonly columns: readonly string[];
  /** @default false */
  readonly unique?: boolean;
  /** Index method. @default 'btree' */
  readonly method?: 'btree' | 'hash' | 'gin' | 'gist' | 'brin' | 'spgist';
  /** Partial index predicate (SQL). */
  readonly where?: string;
}

/** A foreign key added to an existing table: a table's foreign key (name, columns, references, onDelete) on `table`. */
export interface AddForeignKeyOperation extends TableForeignKey {
  readonly op: 'addForeignKey';
  readonly table: string;
}

export interface AddCheckOperation {
  readonly op: 'addCheck';
  readonly table: string;
  readonly name: string;
  /** SQL boolean expression over the table's columns. */
  readonly check: string;
}

export interface AddUniqueOperation {
  readonly op: 'addUnique';
  readonly table: string;
  readonly name: string;
  readonly columns: readonly string[];
}

/**
 * Split a table: move columns of `table` into a new table `to`, one row per source row, keyed by the
 * source's single-column primary key (`key` column in the new table, a foreign key ON DELETE CASCADE).
 */
export interface MoveColumnsOperation {
  readonly op: 'moveColumns';
  readonly table: string;
  readonly columns: readonly string[];
  /** The new table. */
  readonly to: string;
  /** Name of the key column in the new table. @default the source's primary key column name */
  readonly key?: string;
}

export interface DropColumnOperation {
  readonly op: 'dropColumn';
  readonly table: string;
  readonly column: string;
  /**
   * SQL expression for the old column on rows the new version writes (it no longer sees the column).
   * Required when the column is NOT NULL without a default.
   */
  readonly down?: string;
}

export interface DropTableOperation {
  readonly op: 'dropTable';
  readonly table: string;
}

/** Raw SQL with an explicit inverse. Nothing is known about what it does, so its risk is high unless declared. */
export interface SqlOperation {
  readonly op: 'sql';
  /** Runs at start (expand), in a transaction with lock_timeout. */
  readonly up: string;
  /** Runs on rollback. Required. */
  readonly down: string;
  /** Runs at complete (contract), after the old version is gone. */
  readonly complete?: string;
  /** The author's assessment. @default 'high' */
  readonly risk?: Risk;
}

export type Operation =
  | CreateTableOperation
  | AddColumnOperation
  | RenameColumnOperation
  | ChangeColumnTypeOperation
  | AlterColumnOperation
  | CreateConstraintOperation
  | RenameTableOperation
  | DropIndexOperation
  | RenameConstraintOperation
  | DropConstraintOperation
  | SetReplicaIdentityOperation
  | AddIndexOperation
  | AddForeignKeyOperation
  | AddCheckOperation
  | AddUniqueOperation
  | MoveColumnsOperation
  | DropColumnOperation
  | DropTableOperation
  | SqlOperation;

export type OperationKind = Operation['op'];

export interface Migration {
  /** Unique name; also names the version schema `<schema>_<name>`. Lowercase letters, digits and `_`, at most 40 characters. */
  readonly name: string;
  /** Free text shown in plans and status. */
  readonly description?: string;
  readonly operations: readonly Operation[];
}

export type Risk = 'low' | 'high';
