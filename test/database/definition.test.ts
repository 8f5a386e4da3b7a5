import { parseMigration } from '../../lambda/database/definition';
import { MigrationErrorName } from '../../lambda/database/errors';

function problemsOf(input: unknown): string {
  try {
    parseMigration(input);
  } catch (err) {
    expect((err as Error).name).toBe(MigrationErrorName.INVALID);
    return (err as Error).message;
  }
  throw new Error('expected the definition to be rejected');
}

describe('migration definition', () => {
  test('accepts a well-formed migration and returns it typed', () => {
    const m = parseMigration({ name: 'rename_name', operations: [{ op: 'renameColumn', table: 'users', from: 'name', to: 'full_name' }] });
    expect(m.operations[0].op).toBe('renameColumn');
  });

  test('createConstraint, alterColumn constraints and dropConstraint up/down: each problem names its field', () => {
    const msg = problemsOf({
      name: 'bad',
      operations: [
        { op: 'createConstraint', table: 'users', name: 'c1', type: 'primary', columns: ['email'] },
        { op: 'createConstraint', table: 'users', name: 'c2', type: 'check', columns: ['name'] },
        { op: 'createConstraint', table: 'users', name: 'c3', type: 'foreignKey', columns: ['org_id', 'team_id'], references: { table: 'orgs', columns: ['id'] } },
        { op: 'createConstraint', table: 'users', name: 'c4', type: 'unique', columns: ['city'], check: 'x', up: { city: '' } },
        { op: 'alterColumn', table: 'users', column: 'price', unique: { name: 'u', where: 'x' }, references: { name: 'u', table: 'orgs', column: 'id' } },
        { op: 'dropConstraint', table: 'users', name: 'c5', down: ['name'] },
      ],
    });
    expect(msg).toMatch(/operations\[0\] \(createConstraint on users\): type must be one of unique, check, foreignKey, got "primary"/);
    expect(msg).toMatch(/operations\[1\] \(createConstraint on users\): check must be a non-empty SQL string, got nothing/);
    expect(msg).toMatch(/operations\[2\] \(createConstraint on users\): references.columns must have as many columns as columns \(2\), got 1/);
    expect(msg).toMatch(/operations\[3\] \(createConstraint on users\): check applies only to type 'check', got type "unique"/);
    expect(msg).toMatch(/operations\[3\] \(createConstraint on users\): up.city must be a non-empty SQL string, got ""/);
    expect(msg).toMatch(/operations\[4\] \(alterColumn on users\): unique has unknown field "where" \(allowed: name\)/);
    expect(msg).toMatch(/operations\[4\] \(alterColumn on users\): check, unique and references must have distinct names, got \["u","u"\]/);
    expect(msg).toMatch(/operations\[5\] \(dropConstraint on users\): down must be an object \{ <column>: <SQL> \}, got \["name"\]/);
  });

  test('names the operation index, kind, table and field of each problem', () => {
    const msg = problemsOf({
      name: 'bad',
      operations: [
        { op: 'addColumn', table: 'users', column: { name: 'age' } },
        { op: 'renameColumn', table: 'users', from: 'name', to: '1bad' },
      ],
    });
    expect(msg).toMatch(/operations\[0\] \(addColumn on users\): column\.type must be a non-empty SQL string, got nothing/);
    expect(msg).toMatch(/operations\[1\] \(renameColumn on users\): to must be an identifier .* got "1bad"/);
  });

  test('requires up for a NOT NULL column without a default', () => {
    expect(problemsOf({ name: 'm', operations: [{ op: 'addColumn', table: 'users', column: { name: 'status', type: 'text', nullable: false } }] }))
      .toMatch(/operations\[0\] \(addColumn on users\): up must be given for a NOT NULL column without a default/);
  });

  test('rejects unknown operations and unknown fields', () => {
    expect(problemsOf({ name: 'm', operations: [{ op: 'truncate', table: 'users' }] })).toMatch(/operations\[0\]: op must be one of createTable, .*got "truncate"/);
    expect(problemsOf({ name: 'm', operations: [{ op: 'dropTable', table: 'users', cascade: true }] })).toMatch(/unknown field "cascade"/);
  });

  test('rejects two operations that rewrite the same column', () => {
    expect(problemsOf({
      name: 'm',
      operations: [
        { op: 'renameColumn', table: 'users', from: 'name', to: 'full_name' },
        { op: 'changeColumnType', table: 'users', column: 'name', type: 'varchar(200)' },
      ],
    })).toMatch(/operations\[1\] \(changeColumnType on users\): column users\.name is already changed by operations\[0\] \(renameColumn\)/);
  });

  test('rejects a bad migration name and empty operations', () => {
    expect(problemsOf({ name: 'Bad-Name', operations: [] })).toMatch(/name must be lowercase letters.*got "Bad-Name"[\s\S]*operations must be a non-empty array/);
  });

  test('rejects names with the reserved prefix', () => {
    expect(problemsOf({ name: 'm', operations: [{ op: 'addColumn', table: 'users', column: { name: '_zdt_x', type: 'int' } }] }))
      .toMatch(/column\.name must be a name that does not start with the reserved prefix _zdt_/);
  });

  test('raw SQL needs an explicit down', () => {
    expect(problemsOf({ name: 'm', operations: [{ op: 'sql', up: 'CREATE TABLE t (id int)' }] })).toMatch(/operations\[0\] \(sql\): down must be a non-empty SQL string/);
  });
});
