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
  'createTable', 'addColumn', 'renameColumn', 'changeColumnType', 'alterColumn', 'createConstraint', 'renameTable', 'dropIndex', 'renameConstraint',
  'dropConstraint', 'setReplicaIdentity', 'addIndex', 'addForeignKey', 'addCheck', 'addUnique', 'moveColumns', 'dropColumn', 'dropTable', 'sql',
];
const REPLICA_IDENTITIES = ['default', 'full', 'nothing', 'index'];
const ON_DELETE = ['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT'];
const CONSTRAINT_TYPES = ['unique', 'check', 'foreignKey'];
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
  /** A non-empty SQL string, or null (drop it), or absent. */
  sqlOrNull(field: string): this {
    const v = this.get(field);
    if (v === undefined || v === null) return this;
    if (typeof v !== 'string' || v.trim() === '') this.fail(field, 'a non-empty SQL string or null');
    return this;
  }
  /** A string (possibly empty), or null, or absent. */
  text(field: string, nullable = false): this {
    const v = this.get(field);
    if (v === undefined || (nullable && v === null)) return this;
    if (typeof v !== 'string') this.fail(field, nullable ? 'a string or null' : 'a string');
    return this;
  }
  /** An optional object { <column>: <SQL> }, its columns among `columns` when given. */
  columnMap(field: string, columns?: readonly string[]): this {
    const v = this.get(field);
    if (v === undefined) return this;
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(field, 'an object { <column>: <SQL> }');
      return this;
    }
    for (const [k, sql] of Object.entries(v)) {
      if (columns && !columns.includes(k)) this.problems.push(`${this.where}: ${field} names column ${show(k)}, which is not in columns (${columns.join(', ')})`);
      else if (!isIdentifier(k)) this.problems.push(`${this.where}: ${field} names column ${show(k)}, which is not an identifier`);
      if (typeof sql !== 'string' || sql.trim() === '') this.problems.push(`${this.where}: ${field}.${k} must be a non-empty SQL string, got ${show(sql)}`);
    }
    return this;
  }
  /** An object with only the `known` fields. */
  object(field: string, known: readonly string[]): this {
    const v = this.get(field);
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(field, `an object { ${known.join(', ')} }`);
      return this;
    }
    for (const k of Object.keys(v)) if (!known.includes(k)) this.problems.push(`${this.where}: ${field} has unknown field ${show(k)} (allowed: ${known.join(', ')})`);
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
      .boolean(`${field}.primaryKey`).boolean(`${field}.unique`).sql(`${field}.check`, true).text(`${field}.comment`);
    const c = v as Record<string, unknown>;
    if (c.references !== undefined) {
      if (!c.references || typeof c.references !== 'object') this.fail(`${field}.references`, 'an object { table, column, onDelete? }');
      else this.identifier(`${field}.references.table`).identifier(`${field}.references.column`).oneOf(`${field}.references.onDelete`, ON_DELETE);
    }
    const known = ['name', 'type', 'nullable', 'default', 'primaryKey', 'unique', 'references', 'check', 'comment'];
    for (const k of Object.keys(c)) if (!known.includes(k)) this.problems.push(`${this.where}: ${field} has unknown field ${show(k)} (allowed: ${known.join(', ')})`);
    if (forNewColumnOfExistingTable) {
      if (c.primaryKey !== undefined) this.problems.push(`${this.where}: ${field}.primaryKey is not supported by addColumn (a primary key cannot be added without a table rewrite); create the table with it`);
      if (c.unique !== undefined) this.problems.push(`${this.where}: ${field}.unique is not supported by addColumn; add an addUnique operation after it (built CONCURRENTLY)`);
      if (c.references !== undefined) this.problems.push(`${this.where}: ${field}.references is not supported by addColumn; add an addForeignKey operation after it (NOT VALID, then validated)`);
      if (c.check !== undefined) this.problems.push(`${this.where}: ${field}.check is not supported by addColumn; add an addCheck operation after it (NOT VALID, then validated)`);
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
      c.text('comment');
      if (op.checks !== undefined) {
        if (!Array.isArray(op.checks)) c.problems.push(`${describeOp(index, op)}: checks must be an array of { name, check }, got ${show(op.checks)}`);
        else op.checks.forEach((_, i) => c.identifier(`checks.${i}.name`).sql(`checks.${i}.check`));
      }
      if (op.foreignKeys !== undefined) {
        if (!Array.isArray(op.foreignKeys)) c.problems.push(`${describeOp(index, op)}: foreignKeys must be an array of { name, columns, references, onDelete? }, got ${show(op.foreignKeys)}`);
        else {
          op.foreignKeys.forEach((fk, i) => {
            c.identifier(`foreignKeys.${i}.name`).identifiers(`foreignKeys.${i}.columns`).identifier(`foreignKeys.${i}.references.table`)
              .identifiers(`foreignKeys.${i}.references.columns`).oneOf(`foreignKeys.${i}.onDelete`, ON_DELETE);
            const f = fk as { columns?: unknown[]; references?: { columns?: unknown[] } };
            if (Array.isArray(f?.columns) && Array.isArray(f?.references?.columns) && f.columns.length !== f.references.columns.length) {
              c.problems.push(`${describeOp(index, op)}: foreignKeys[${i}].references.columns must have as many columns as columns (${f.columns.length})`);
            }
            for (const col of Array.isArray(f?.columns) ? f.columns : []) if (!names.includes(col)) c.problems.push(`${describeOp(index, op)}: foreignKeys[${i}].columns names column ${show(col)}, which is not in columns`);
          });
        }
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
    case 'alterColumn': {
      c.identifier('column', false, MAX_USER_COLUMN_LENGTH).sql('type', true).boolean('nullable').sqlOrNull('default').text('comment', true).sql('up', true).sql('down', true);
      if (!['type', 'nullable', 'default', 'comment', 'check', 'unique', 'references'].some((k) => op[k] !== undefined)) {
        c.problems.push(`${describeOp(index, op)}: expected at least one change (type, nullable, default, comment, check, unique or references), found none`);
      }
      if ((op.up !== undefined || op.down !== undefined) && ['type', 'nullable', 'check', 'unique', 'references'].every((k) => op[k] === undefined)) {
        c.problems.push(`${describeOp(index, op)}: up and down apply only to a change of type, nullable, check, unique or references (a default or comment change copies no data)`);
      }
      if (op.check !== undefined) c.object('check', ['name', 'constraint']).identifier('check.name').sql('check.constraint');
      if (op.unique !== undefined) c.object('unique', ['name']).identifier('unique.name');
      if (op.references !== undefined) {
        c.object('references', ['name', 'table', 'column', 'onDelete']).identifier('references.name').identifier('references.table')
          .identifier('references.column').oneOf('references.onDelete', ON_DELETE);
      }
      const names = ['check', 'unique', 'references'].map((k) => (op[k] as { name?: unknown } | undefined)?.name).filter((x) => x !== undefined);
      if (new Set(names).size !== names.length) c.problems.push(`${describeOp(index, op)}: check, unique and references must have distinct names, got ${show(names)}`);
      break;
    }
    case 'createConstraint': {
      c.identifier('name').oneOf('type', CONSTRAINT_TYPES, false).identifiers('columns');
      const where = describeOp(index, op);
      const cols = Array.isArray(op.columns) ? (op.columns as string[]) : [];
      if (op.type === 'check') c.sql('check');
      else if (op.check !== undefined) c.problems.push(`${where}: check applies only to type 'check', got type ${show(op.type)}`);
      if (op.type === 'foreignKey') {
        c.object('references', ['table', 'columns', 'onDelete']).identifier('references.table').identifiers('references.columns').oneOf('references.onDelete', ON_DELETE);
        const refCols = (op.references as { columns?: unknown } | undefined)?.columns;
        if (Array.isArray(refCols) && refCols.length !== cols.length) c.problems.push(`${where}: references.columns must have as many columns as columns (${cols.length}), got ${refCols.length}`);
      } else if (op.references !== undefined) c.problems.push(`${where}: references applies only to type 'foreignKey', got type ${show(op.type)}`);
      c.columnMap('up', cols).columnMap('down', cols);
      break;
    }
    case 'renameTable':
      c.identifier('to');
      if (op.to === op.table) c.problems.push(`${describeOp(index, op)}: to must differ from table, got ${show(op.to)}`);
      break;
    case 'dropIndex':
      c.identifier('name');
      break;
    case 'dropConstraint':
      c.identifier('name').columnMap('up').columnMap('down');
      break;
    case 'renameConstraint':
      c.identifier('from').identifier('to');
      if (op.from === op.to) c.problems.push(`${describeOp(index, op)}: to must differ from from, got ${show(op.to)}`);
      break;
    case 'setReplicaIdentity':
      c.oneOf('identity', REPLICA_IDENTITIES, false).identifier('index', true);
      if ((op.identity === 'index') !== (op.index !== undefined)) {
        c.problems.push(`${describeOp(index, op)}: index must be given exactly when identity is 'index', got identity ${show(op.identity)} and index ${show(op.index)}`);
      }
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
  createTable: ['columns', 'primaryKey', 'checks', 'foreignKeys', 'comment'],
  addColumn: ['column', 'up'],
  renameColumn: ['from', 'to'],
  changeColumnType: ['column', 'type', 'up', 'down', 'default'],
  alterColumn: ['column', 'type', 'nullable', 'default', 'comment', 'up', 'down', 'check', 'unique', 'references'],
  createConstraint: ['name', 'type', 'columns', 'check', 'references', 'up', 'down'],
  renameTable: ['to'],
  dropIndex: ['name'],
  renameConstraint: ['from', 'to'],
  dropConstraint: ['name', 'up', 'down'],
  setReplicaIdentity: ['identity', 'index'],
  addIndex: ['name', 'columns', 'unique', 'method', 'where'],
  addForeignKey: ['name', 'columns', 'references', 'onDelete'],
  addCheck: ['name', 'check'],
  addUnique: ['name', 'columns'],
  moveColumns: ['columns', 'to', 'key'],
  dropColumn: ['column', 'down'],
  dropTable: [],
  sql: ['up', 'down', 'complete', 'risk'],
};

/** The columns a dropConstraint with up/down rewrites (the keys of up and down); none without them. */
export function droppedConstraintColumns(op: { readonly up?: Readonly<Record<string, string>>; readonly down?: Readonly<Record<string, string>> }): string[] {
  return [...new Set([...Object.keys(op.up ?? {}), ...Object.keys(op.down ?? {})])];
}

/** The column an operation rewrites (its data or its name), if any: one such operation per column per migration. */
function rewrittenColumns(op: Operation): string[] {
  switch (op.op) {
    case 'renameColumn': return [op.from];
    case 'changeColumnType': return [op.column];
    case 'alterColumn': return [op.column];
    case 'createConstraint': return [...op.columns];
    case 'dropConstraint': return droppedConstraintColumns(op);
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
  const renamedTables = new Map<string, number>();
  ops.forEach((op, i) => { if (op.op === 'renameTable') renamedTables.set(op.table, i); });
  ops.forEach((op, i) => {
    if (op.op === 'sql') return;
    const renamedBy = op.op === 'renameTable' ? undefined : renamedTables.get(op.table);
    if (renamedBy !== undefined) {
      problems.push(`operations[${i}] (${op.op} on ${op.table}): table ${op.table} is renamed by operations[${renamedBy}]; rename it in a migration of its own`);
    }
    if (op.op !== 'dropTable' && droppedTables.has(op.table)) {
      problems.push(`operations[${i}] (${op.op} on ${op.table}): table ${op.table} is dropped by operations[${droppedTables.get(op.table)}]; it cannot also be changed`);
    }
  });
  return problems;
}
