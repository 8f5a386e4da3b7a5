/** Read-only introspection of the PostgreSQL catalog. */
import type { ClientBase } from 'pg';

export interface ColumnInfo {
  readonly name: string;
  /** format_type(), e.g. `character varying(80)`. */
  readonly type: string;
  readonly notNull: boolean;
  /** Default expression, or null. */
  readonly default: string | null;
  /** COMMENT ON COLUMN, or null. */
  readonly comment?: string | null;
}

/** Ordinary and partitioned tables of a schema, by name. */
export async function listTables(client: ClientBase, schema: string): Promise<string[]> {
  const r = await client.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`, [schema]);
  return r.rows.map((row) => row.relname as string);
}

/** Live columns of a table in attnum order ([] when the table does not exist). */
export async function listColumns(client: ClientBase, schema: string, table: string): Promise<ColumnInfo[]> {
  const r = await client.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS default_expr, col_description(a.attrelid, a.attnum) AS comment
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`, [schema, table]);
  return r.rows.map((row) => ({ name: row.name, type: row.type, notNull: row.not_null, default: row.default_expr, comment: row.comment }));
}

/** Primary key columns in key order, with their types ([] without a primary key). */
export async function primaryKey(client: ClientBase, schema: string, table: string): Promise<{ name: string; type: string }[]> {
  const r = await client.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
     FROM pg_index i
     JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
     WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary
     ORDER BY k.ord`, [schema, table]);
  return r.rows;
}

/** null when the index does not exist; otherwise whether it is valid (a failed concurrent build leaves it invalid). */
export async function indexValidity(client: ClientBase, schema: string, index: string): Promise<boolean | null> {
  const r = await client.query(
    `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2`, [schema, index]);
  return r.rowCount === 0 ? null : r.rows[0].indisvalid;
}

/** Invalid indexes on a schema's tables (what validation reports). */
export async function invalidIndexes(client: ClientBase, schema: string): Promise<string[]> {
  const r = await client.query(
    `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND NOT i.indisvalid ORDER BY 1`, [schema]);
  return r.rows.map((row) => row.relname);
}

/** null when the constraint does not exist; otherwise whether it is validated. */
export async function constraintValidity(client: ClientBase, schema: string, table: string, name: string): Promise<boolean | null> {
  const r = await client.query(
    `SELECT co.convalidated FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND co.conname = $3`, [schema, table, name]);
  return r.rowCount === 0 ? null : r.rows[0].convalidated;
}
