/**
 * A migration on a database with logical replication slots (an RDS blue/green deployment's, a CDC pipeline's): the
 * plan warns that the subscribers will not get the migration's DDL, and the migration still runs.
 */
import { Client } from 'pg';
import { MigrationEngine } from '../../lambda/database/engine';
import { formatPlan } from '../../lambda/database/plan';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST } from './fixtures';
import { PgServer, startPgServer } from './pg-server';

let server: PgServer;
let admin: Client;
beforeAll(async () => {
  // Logical slots need wal_level=logical (the test servers run with PostgreSQL's default, replica).
  server = await startPgServer({ postgresFlags: ['-c', 'wal_level=logical'] });
  admin = await server.connect(await server.freshDatabase());
  await createUsers(admin, 100);
});
afterAll(async () => { await server.stop(); });

const addColumn: Migration = { name: 'add_bio', operations: [{ op: 'addColumn', table: 'users', column: { name: 'bio', type: 'text' } }] };

describe('a migration on a database with logical replication', () => {
  test('the plan warns, naming the slot, that its subscribers will not get the DDL; without a slot it does not', async () => {
    const engine = new MigrationEngine(admin, FAST);
    expect((await engine.plan(addColumn)).warnings).toEqual([]);
    expect(formatPlan(await engine.plan(addColumn))).not.toMatch(/WARNINGS/);

    await admin.query(`SELECT pg_create_logical_replication_slot('bg_green', 'pgoutput')`);
    try {
      const plan = await engine.plan(addColumn);
      expect(plan.warnings).toHaveLength(1);
      expect(plan.warnings[0]).toMatch(/^logical replication slot bg_green \(pgoutput, inactive\) on this database: logical replication carries rows, not DDL/);
      expect(plan.warnings[0]).toMatch(/blue\/green deployment/);
      expect(formatPlan(plan)).toMatch(/WARNINGS — about this database:\n {2}- logical replication slot bg_green/);
      // A warning, not a refusal: the migration starts, and the plan it returns carries the warning.
      const started = await engine.start(addColumn);
      expect(started.plan.warnings).toEqual(plan.warnings);
      await engine.rollback(addColumn.name);
    } finally {
      await admin.query(`SELECT pg_drop_replication_slot('bg_green')`);
    }
  });
});
