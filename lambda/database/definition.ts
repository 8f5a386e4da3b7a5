/**
 * Validation of a migration definition before any SQL runs. Every problem names the operation (index and kind),
 * the field, what was expected and what was found. `parseMigration` accepts unknown input (a parsed JSON file, a
 * Step Functions payload) and returns it typed.
 */
import { MigrationError, MigrationErrorName } from './errors';
import { isIdentifier, MAX_IDENTIFIER_LENGTH } from './sql';
import { Migration, Operation, OperationKind } from './types';

/** Migration names become part of schema and trigger names: keep them short and plain. */
export const MAX_MIGRATION_NAME_LENGTH = 40;
const MIGRATION_NAME = /^[a-z0-9_]+$/;

/** Prefix of every column, trigger and function the engine creates; user names must not start with it. */
export const INTERNAL_PREFIX = '_zdt_';

/** Temporary column that holds a column's new type until complete. */
export function newTypeColumn(column: string): string {
  return `${INTERNAL_PREFIX}new_${column}`;
}
const MAX_USER_COLUMN_LENGTH = MAX_IDENTIFIER_LENGTH - newTypeColumn('').length;

const KINDS: readonly OperationKind[] = [
  'createTable', 'addColumn', 'renameColumn', 'changeColumnType', 'addIndex', 'addForeignKey', 'addCheck',
  'addUnique', 'moveColumns', 'dropColumn', 'dropTable', 'sql',
];
const ON_DELETE = ['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT'];
const INDEX_METHODS = ['btree', 'hash', 'gin', 'gist', 'brin', 'spgist'];

class Checker {
  readonly problems: string[] = [];
  constructor(private readonly where: string, private readonly value: Record<string, unknown>) {}

  private fail(field: string, expected: string): void {
    this.problems.push(`${this.where}: ${field} must be ${expected}, got ${show(this.get(field))}`);
  }
  private get(field: string): unknown {
    return field.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), this.value);
  }
  identifier(field: string, optional = false, maxLength = MAX_IDENTIFIER_LENGTH): this {
    const v = this.get(field);
    if (v === undefined && optional) return this;
    if (!isIdentifier(v) || v.length > maxLength) {
      this.fail(field, `an identifier (letters, digits, _ or $, not starting with a digit, at most ${maxLength} characters)`);
    } else if (v.startsWith(INTERNAL_PREFIX)) {
      this.fail(field, `a name that does not start with the reserved prefix ${INTERNAL_PREFIX}`);
    }
    return this;
  }
  identifiers(field: string, maxLength = MAX_IDENTIFIER_LENGTH): this {
    const v = this.get(field);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => isIdentifier(x) && x.length <= maxLength && !x.startsWith(INTERNAL_PREFIX))) {
      this.fail(field, 'a non-empty array of identifiers');
    } else if (new Set(v).size !== v.length) {
      this.fail(field, 'an array without duplicates');
    }
    return this;
  }
  sql(field: string, optional = false): this {
    const v = this.get(field);
    if (v === undefined && optional) return this;
    if (typeof v !== 'string' || v.trim() === '') this.fail(field, 'a non-empty SQL string');
    return this;
  }
  boolean(field: string): this {
    const v = this.get(field);
    if (v !== undefined && typeof v !== 'boolean') this.fail(field, 'true or false');
    return this;
  }
  oneOf(field: string, allowed: readonly string[], optional = true): this {
    const v = this.get(field);
    if (v === undefined && optional) return this;
    if (typeof v !== 'string' || !allowed.includes(v)) this.fail(field, `one of ${allowed.join(', ')}`);
    return this;
  }
  column(field: string, forNewColumnOfExistingTable: boolean): this {
    const v = this.get(field);
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(field, 'a column definition object { name, type, nullable?, default? }');
      return this;
    }
    this.identifier(`${field}.name`, false, MAX_USER_COLUMN_LENGTH).sql(`${field}.type`).boolean(`${field}.nullable`).sql(`${field}.default`, true)
      .boolean(`${field}.primaryKey`).boolean(`${field}.unique`);
    if (forNewColumnOfExistingTable) {
      const c = v as Record<string, unknown>;
      if (c.primaryKey !== undefined) this.problems.push(`${this.where}: ${field}.primaryKey is not supported by addColumn (a primary key cannot be added without a table rewrite); create the table with it`);
      if (c.unique !== undefined) this.problems.push(`${this.where}: ${field}.unique is not supported by addColumn; add an addUnique operation after it (built CONCURRENTLY)`);
    }
    return this;
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Where an operation is, for messages: `operations[2] (addColumn on users)`. Takes unparsed input too. */
export function describeOp(index: number, op: { readonly op?: unknown; readonly table?: unknown }): string {
  const kind = typeof op.op === 'string' ? op.op : '?';
  const table = typeof op.table === 'string' ? ` on ${op.table}` : '';
  return `operations[${index}] (${kind}${table})`;
}

/** Parses and validates a migration definition; throws one MigrationError listing every problem. */
export function parseMigration(input: unknown): Migration {
  const problems: string[] = [];
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new MigrationError(MigrationErrorName.INVALID, `A migration must be an object { name, operations }, got ${show(input)}`);
  }
  const m = input as Record<string, unknown>;
  const name = m.name;
  if (typeof name !== 'string' || !MIGRATION_NAME.test(name) || name.length > MAX_MIGRATION_NAME_LENGTH) {
    problems.push(`migration: name must be lowercase letters, digits and _ (at most ${MAX_MIGRATION_NAME_LENGTH} characters), got ${show(name)}`);
  }
  if (m.description !== undefined && typeof m.description !== 'string') problems.push(`migration: description must be a string, got ${show(m.description)}`);
  if (!Array.isArray(m.operations) || m.operations.length === 0) {
    problems.push(`migration: operations must be a non-empty array, got ${show(m.operations)}`);
  } else {
    m.operations.forEach((raw, index) => {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        problems.push(`operations[${index}]: must be an object with an "op" field, got ${show(raw)}`);
        return;
      }
      problems.push(...checkOperation(index, raw as Record<string, unknown>));
    });
    if (problems.length === 0) problems.push(...checkConflicts(m.operations as Operation[]));
  }
  if (problems.length > 0) {
    const label = typeof name === 'string' ? `Migration "${name}"` : 'The migration';
    throw new MigrationError(MigrationErrorName.INVALID, `${label} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
  return input as Migration;
}

function checkOperation(index: number, op: Record<string, unknown>): string[] {
  const c = new Checker(describeOp(index, op), op);
  if (!KINDS.includes(op.op as OperationKind)) {
    return [`operations[${index}]: op must be one of ${KINDS.join(', ')}, got ${show(op.op)}`];
  }
  const kind = op.op as OperationKind;
  if (kind !== 'sql') c.identifier('table');
  switch (kind) {
    case 'createTable': {
      const cols = op.columns;
      if (!Array.isArray(cols) || cols.length === 0) {
        c.problems.push(`${describeOp(index, op)}: columns must be a non-empty array of column definitions, got ${show(cols)}`);
        break;
      }
      cols.forEach((_, i) => c.column(`columns.${i}`, false));
      const names = cols.map((x) => (x as Record<string, unknown>)?.name);
      if (new Set(names).size !== names.length) c.problems.push(`${describeOp(index, op)}: columns must have distinct names, got ${show(names)}`);
      const pkCols = cols.filter((x) => (x as Record<string, unknown>)?.primaryKey === true).length;
      if (op.primaryKey !== undefined) {
        c.identifiers('primaryKey');
        if (pkCols > 0) c.problems.push(`${describeOp(index, op)}: primaryKey must not be given when a column is marked primaryKey: true`);
        if (Array.isArray(op.primaryKey)) {
          for (const k of op.primaryKey) if (!names.includes(k)) c.problems.push(`${describeOp(index, op)}: primaryKey names column ${show(k)}, which is not in columns`);
        }
      } else if (pkCols > 1) {
        c.problems.push(`${describeOp(index, op)}: columns must mark at most one primaryKey: true (use primaryKey: [...] for a composite key), got ${pkCols}`);
      }
      break;
    }
    case 'addColumn': {
      c.column('column', true).sql('up', true);
      const col = op.column as Record<string, unknown> | undefined;
      if (col && typeof col === 'object' && col.nullable === false && col.default === undefined && op.up === undefined) {
        c.problems.push(`${describeOp(index, op)}: up must be given for a NOT NULL column without a default (it fills existing rows and rows the old version writes)`);
      }
      break;
    }
    case 'renameColumn':
      c.identifier('from').identifier('to', false, MAX_USER_COLUMN_LENGTH);
      if (op.from === op.to) c.problems.push(`${describeOp(index, op)}: to must differ from from, got ${show(op.to)}`);
      break;
    case 'changeColumnType':
      c.identifier('column', false, MAX_USER_COLUMN_LENGTH).sql('type').sql('up', true).sql('down', true).sql('default', true);
      break;
    case 'addIndex':
      c.identifier('name').identifiers('columns').boolean('unique').oneOf('method', INDEX_METHODS).sql('where', true);
      break;
    case 'addForeignKey':
      c.identifier('name').identifiers('columns').identifier('references.table').identifiers('references.columns').oneOf('onDelete', ON_DELETE);
      if (Array.isArray(op.columns) && Array.isArray((op.references as Record<string, unknown> | undefined)?.columns)
        && (op.columns as unknown[]).length !== ((op.references as Record<string, unknown>).columns as unknown[]).length) {
        c.problems.push(`${describeOp(index, op)}: references.columns must have as many columns as columns (${(op.columns as unknown[]).length})`);
      }
      break;
    case 'addCheck':
      c.identifier('name').sql('check');
      break;
    case 'addUnique':
      c.identifier('name').identifiers('columns');
      break;
    case 'moveColumns':
      c.identifiers('columns').identifier('to').identifier('key', true);
      if (op.to === op.table) c.problems.push(`${describeOp(index, op)}: to must name a new table, not the source table ${show(op.table)}`);
      break;
    case 'dropColumn':
      c.identifier('column').sql('down', true);
      break;
    case 'dropTable':
      break;
    case 'sql':
      c.sql('up').sql('down').sql('complete', true).oneOf('risk', ['low', 'high']);
      break;
  }
  const known = new Set(['op', 'table', ...FIELDS[kind]]);
  for (const field of Object.keys(op)) {
    if (!known.has(field)) c.problems.push(`${describeOp(index, op)}: unknown field ${show(field)} (allowed: ${[...known].join(', ')})`);
  }
  return c.problems;
}

const FIELDS: Record<OperationKind, readonly string[]> = {
  createTable: ['columns', 'primaryKey'],
  addColumn: ['column', 'up'],
  renameColumn: ['from', 'to'],
  changeColumnType: ['column', 'type', 'up', 'down', 'default'],
  addIndex: ['name', 'columns', 'unique', 'method', 'where'],
  addForeignKey: ['name', 'columns', 'references', 'onDelete'],
  addCheck: ['name', 'check'],
  addUnique: ['name', 'columns'],
  moveColumns: ['columns', 'to', 'key'],
  dropColumn: ['column', 'down'],
  dropTable: [],
  sql: ['up', 'down', 'complete', 'risk'],
};

/** The column an operation rewrites (its data or its name), if any: one such operation per column per migration. */
function rewrittenColumns(op: Operation): string[] {
  switch (op.op) {
    case 'renameColumn': return [op.from];
    case 'changeColumnType': return [op.column];
    case 'dropColumn': return [op.column];
    case 'moveColumns': return [...op.columns];
    case 'addColumn': return [op.column.name];
    default: return [];
  }
}

function checkConflicts(ops: readonly Operation[]): string[] {
  const problems: string[] = [];
  const owner = new Map<string, number>();
  const createdTables = new Map<string, number>();
  const droppedTables = new Map<string, number>();
  const names = new Map<string, number>();
  ops.forEach((op, i) => {
    if (op.op === 'sql') return;
    for (const col of rewrittenColumns(op)) {
      const key = `${op.table}.${col}`;
      const prev = owner.get(key);
      if (prev !== undefined) {
        problems.push(`${describeOp(i, op as unknown as Record<string, unknown>)}: column ${key} is already changed by operations[${prev}] (${ops[prev].op}); one operation per column per migration — split it into two migrations`);
      } else owner.set(key, i);
    }
    if (op.op === 'createTable' || op.op === 'moveColumns') {
      const t = op.op === 'createTable' ? op.table : op.to;
      if (createdTables.has(t)) problems.push(`operations[${i}] (${op.op}): table ${t} is already created by operations[${createdTables.get(t)}]`);
      createdTables.set(t, i);
    }
    if (op.op === 'dropTable') droppedTables.set(op.table, i);
    if ('name' in op && typeof op.name === 'string') {
      if (names.has(op.name)) problems.push(`operations[${i}] (${op.op}): name ${op.name} is already used by operations[${names.get(op.name)}]`);
      names.set(op.name, i);
    }
  });
  ops.forEach((op, i) => {
    if (op.op !== 'sql' && op.op !== 'dropTable' && droppedTables.has(op.table)) {
      problems.push(`operations[${i}] (${op.op} on ${op.table}): table ${op.table} is dropped by operations[${droppedTables.get(op.table)}]; it cannot also be changed`);
    }
  });
  return problems;
}
