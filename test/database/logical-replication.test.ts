/**
 * A migration on a database with logical replication slots (an RDS blue/green deployment's that upgrades the
 * major version, a CDC pipeline's): logical replication carries rows, not DDL, so start and complete refuse to
 * change the schema unless acknowledged, and rollback, which gives back the schema the subscribers have, never is.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ExitCode, migrateCommand } from '../../bin/migrate';
import { MigrationEngine } from '../../lambda/database/engine';
import { MigrationErrorName } from '../../lambda/database/errors';
import { formatPlan } from '../../lambda/database/plan';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST, usePgDatabase } from './fixtures';
import { PgServer } from './pg-server';

let server: PgServer;
let db: string;
let admin: Client;
// Logical slots need wal_level=logical (the other test servers run with PostgreSQL's default, replica).
const pg = usePgDatabase({ setup: (c) => createUsers(c, 100), postgresFlags: ['-c', 'wal_level=logical'] });
beforeEach(() => { ({ server, db, admin } = pg); });

const addColumn: Migration = { name: 'add_bio', operations: [{ op: 'addColumn', table: 'users', column: { name: 'bio', type: 'text' } }] };

async function withSlot(name: string, body: () => Promise<void>): Promise<void> {
  await admin.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [name]);
  try {
    await body();
  } finally {
    await admin.query('SELECT pg_drop_replication_slot($1)', [name]);
  }
}

const columns = async () => (await admin.query(
  `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users' ORDER BY ordinal_position`)).rows.map((r) => r.column_name);
const migrationRecords = async () => (await admin.query(`SELECT to_regclass('zdt_migrations.migrations') IS NOT NULL AS ok`)).rows[0].ok
  ? (await admin.query('SELECT name, status FROM zdt_migrations.migrations')).rows : [];

describe('a migration on a database with logical replication', () => {
  test('the plan names the slot and says start and complete will refuse; without a slot it has no warning', async () => {
    const engine = new MigrationEngine(admin, FAST);
    const clean = await engine.plan(addColumn);
    expect({ slots: clean.logicalReplicationSlots, warnings: clean.warnings }).toEqual({ slots: [], warnings: [] });
    expect(formatPlan(clean)).not.toMatch(/WARNINGS/);

    await withSlot('bg_green', async () => {
      const plan = await engine.plan(addColumn);
      expect(plan.logicalReplicationSlots).toEqual(['bg_green (pgoutput, inactive)']);
      expect(plan.warnings).toHaveLength(1);
      expect(plan.warnings[0]).toMatch(/^logical replication slot bg_green \(pgoutput, inactive\) on this database: logical replication carries rows, not DDL/);
      expect(plan.warnings[0]).toMatch(/Start and complete refuse to change the schema while a slot exists unless acknowledged \(--acknowledge-logical-replication/);
      expect(formatPlan(plan)).toMatch(/WARNINGS — about this database:\n {2}- logical replication slot bg_green/);
    });
  });

  test('start refuses before any change, naming the slot and the acknowledgement; acknowledged, it starts', async () => {
    const before = await columns();
    await withSlot('bg_green', async () => {
      const refused = new MigrationEngine(admin, FAST).start(addColumn);
      await expect(refused).rejects.toMatchObject({ name: MigrationErrorName.ACKNOWLEDGEMENT_REQUIRED });
      await expect(refused).rejects.toThrow(/^Migration add_bio: start refused: logical replication slot bg_green \(pgoutput, inactive\) on this database: logical replication carries rows, not DDL.*Switch over or delete a blue\/green deployment first.*--acknowledge-logical-replication \/ acknowledgeLogicalReplication: true/s);
      expect(await columns()).toEqual(before);
      expect(await migrationRecords()).toEqual([]);
      expect((await admin.query(`SELECT to_regnamespace('public_add_bio') AS s`)).rows[0].s).toBeNull();

      const acknowledged = new MigrationEngine(admin, { ...FAST, acknowledgeLogicalReplication: true });
      const started = await acknowledged.start(addColumn);
      expect(started.status).toBe('started');
      expect(started.plan.warnings).toHaveLength(1);
      expect(await columns()).toContain('bio');
    });
  });

  test('a slot created after start (a blue/green deployment created meanwhile) stops complete, not rollback, which restores the old schema', async () => {
    const engine = new MigrationEngine(admin, FAST);
    const before = await columns();
    await engine.start(addColumn);
    await engine.backfill(addColumn.name);
    expect((await engine.validate(addColumn.name)).ok).toBe(true);
    await withSlot('rds_green', async () => {
      await expect(engine.complete(addColumn.name)).rejects.toMatchObject({
        name: MigrationErrorName.ACKNOWLEDGEMENT_REQUIRED,
        message: expect.stringMatching(/^Migration add_bio: complete refused: logical replication slot rds_green/),
      });
      expect((await engine.status(addColumn.name))?.status).toBe('validated');
      await engine.rollback(addColumn.name);
      expect(await columns()).toEqual(before);
      expect((await engine.status(addColumn.name))?.status).toBe('rolled_back');
    });
  });

  test('acknowledged, complete contracts while the slot exists', async () => {
    const engine = new MigrationEngine(admin, { ...FAST, acknowledgeLogicalReplication: true });
    await withSlot('cdc', async () => {
      await engine.start(addColumn);
      await engine.backfill(addColumn.name);
      expect((await engine.validate(addColumn.name)).ok).toBe(true);
      await engine.complete(addColumn.name);
      expect((await engine.status(addColumn.name))?.status).toBe('completed');
    });
  });

  test('the CLI exits 3 and says which flag acknowledges it; with the flag it starts', async () => {
    const run = async (...argv: string[]) => {
      const err: string[] = [];
      const code = await migrateCommand(argv, { out: () => undefined, err: (s) => err.push(s) });
      return { code, err: err.join('\n') };
    };
    const file = join(mkdtempSync(join(tmpdir(), 'zdt-lr-')), 'add_bio.json');
    writeFileSync(file, JSON.stringify(addColumn));
    await withSlot('bg_green', async () => {
      const refused = await run('start', '--database-url', server.url(db), file);
      expect(refused.code).toBe(ExitCode.ACKNOWLEDGEMENT_REQUIRED);
      expect(refused.err).toMatch(/--acknowledge-logical-replication/);
      expect(await columns()).not.toContain('bio');
      expect((await run('start', '--database-url', server.url(db), '--acknowledge-logical-replication', file)).code).toBe(ExitCode.OK);
      expect(await columns()).toContain('bio');
    });
  });
});
