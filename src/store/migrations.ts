/**
 * Forward-only schema migrations for DuckDB files (the ingest ledger): numbered SQL files `NNN_name.sql` in
 * migrations/, each applied once inside a transaction and recorded in `schema_migrations`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';

/** One numbered migration. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The repository's migrations/ folder. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Reads `NNN_name.sql` files in version order; a malformed name or a duplicate version is an error. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const seen = new Set<number>();
  const out: Migration[] = [];
  for (const name of names) {
    const m = /^(\d{3,})_[a-z0-9_]+\.sql$/.exec(name);
    if (!m) throw new Error(`migration file ${join(dir, name)}: expected a name like 001_description.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`migration file ${join(dir, name)}: version ${version} is used twice`);
    seen.add(version);
    out.push({ version, name, sql: await readFile(join(dir, name), 'utf8') });
  }
  return out;
}

/** Applies the migrations not yet recorded; returns the versions applied now. */
export async function runMigrations(connection: DuckDBConnection, migrations: readonly Migration[]): Promise<number[]> {
  await connection.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)',
  );
  const rows = (await connection.runAndReadAll('SELECT version FROM schema_migrations')).getRowObjectsJS();
  const applied = new Set(rows.map((r) => Number(r.version)));
  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    await connection.run('BEGIN TRANSACTION');
    try {
      await connection.run(m.sql);
      await connection.run('INSERT INTO schema_migrations VALUES ($1, $2, now()::TIMESTAMP)', [m.version, m.name]);
      await connection.run('COMMIT');
    } catch (err) {
      await connection.run('ROLLBACK');
      throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
    }
    done.push(m.version);
  }
  return done;
}
