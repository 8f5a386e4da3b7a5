/**
 * Versioned schemas (pgroll's central idea): each migration gets a schema `<schema>_<migration>` holding one
 * view per table with the columns as the NEW version sees them (renamed, retyped, hidden, added). The old
 * application version keeps using the previous version schema (or the physical schema); the new version sets
 * `search_path` to its version schema. Simple views are updatable, so both versions read and write.
 * Views are `security_invoker`, so the caller's privileges on the tables apply.
 */
import type { ClientBase } from 'pg';
import { listColumns, listTables } from './catalog';
import { INTERNAL_PREFIX } from './definition';
import { qi, ql, qn } from './sql';
import { VersionModel } from './operations/operation';
import { versionSchemaName } from './schema-names';

export { versionSchemaName };

/** The physical tables as views would show them before any operation's changes (without the engine's columns). */
export async function physicalModel(client: ClientBase, schema: string): Promise<VersionModel> {
  const model = new VersionModel();
  for (const t of await listTables(client, schema)) {
    const cols = (await listColumns(client, schema, t)).filter((c) => !c.name.startsWith(INTERNAL_PREFIX));
    model.set(t, cols.map((c) => ({ alias: c.name, physical: c.name })));
  }
  return model;
}

/** Creates the version schema and its views (in the caller's transaction). */
export async function createVersionSchema(client: ClientBase, schema: string, versionSchema: string, model: VersionModel): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${qi(versionSchema)} CASCADE`);
  await client.query(`CREATE SCHEMA ${qi(versionSchema)}`);
  for (const [table, cols] of model) {
    if (cols.length === 0) continue;
    const select = cols.map((c) => (c.alias === c.physical ? qi(c.physical) : `${qi(c.physical)} AS ${qi(c.alias)}`)).join(', ');
    const view = qn(versionSchema, model.viewName(table));
    await client.query(`CREATE VIEW ${view} WITH (security_invoker = true) AS SELECT ${select} FROM ${qn(schema, table)}`);
    for (const c of cols) {
      if (c.default !== undefined) await client.query(`ALTER VIEW ${view} ALTER COLUMN ${qi(c.alias)} SET DEFAULT ${c.default === null ? 'NULL' : c.default}`);
      if (c.comment !== undefined && c.comment !== null) await client.query(`COMMENT ON COLUMN ${view}.${qi(c.alias)} IS ${ql(c.comment)}`);
    }
    // The view carries the table's grants, so every role that could use the table can use its view.
    const grants = await client.query(
      `SELECT grantee, string_agg(privilege_type, ', ') AS privileges FROM information_schema.role_table_grants
       WHERE table_schema = $1 AND table_name = $2 AND privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
         AND grantee <> current_user GROUP BY grantee`, [schema, table]);
    for (const g of grants.rows) {
      await client.query(`GRANT ${g.privileges} ON ${view} TO ${g.grantee === 'PUBLIC' ? 'PUBLIC' : qi(g.grantee)}`);
    }
  }
  // Whoever may use the physical schema may use the version schema (views check the caller's table privileges).
  await client.query(`GRANT USAGE ON SCHEMA ${qi(versionSchema)} TO PUBLIC`);
}

export async function dropVersionSchema(client: ClientBase, versionSchema: string): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${qi(versionSchema)} CASCADE`);
}
