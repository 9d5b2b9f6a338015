import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { loadMigrations, runMigrations } from '../../../src/store/migrations.ts';

describe('migrations', () => {
  it('applies the repository migrations once, recording their versions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowql-mig-'));
    const path = join(dir, 'ledger.duckdb');
    const migrations = await loadMigrations();
    expect(migrations.map((m) => m.name)[0]).toBe('001_ledger.sql');
    const db = await DuckDBInstance.create(path);
    const c = await db.connect();
    expect(await runMigrations(c, migrations)).toEqual(migrations.map((m) => m.version));
    expect(await runMigrations(c, migrations)).toEqual([]);
    const tables = (await c.runAndReadAll('SELECT table_name FROM information_schema.tables ORDER BY 1'))
      .getRows()
      .flat();
    expect(tables).toEqual([
      'commits',
      'file_sources',
      'files',
      'reference_snapshots',
      'rejects',
      'schema_migrations',
      'sources',
    ]);
    c.closeSync();
    db.closeSync();
  });

  it('rolls back a failing migration and names it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowql-mig-'));
    await mkdir(join(dir, 'm'));
    await writeFile(join(dir, 'm', '001_a.sql'), 'CREATE TABLE a (x INTEGER);');
    await writeFile(join(dir, 'm', '002_b.sql'), 'CREATE TABLE b (x INTEGER); SELECT nonsense FROM nowhere;');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await expect(runMigrations(c, await loadMigrations(join(dir, 'm')))).rejects.toThrow(
      /^migration 002_b.sql failed: .*nowhere/,
    );
    const tables = (await c.runAndReadAll('SELECT table_name FROM information_schema.tables ORDER BY 1'))
      .getRows()
      .flat();
    expect(tables).toEqual(['a', 'schema_migrations']);
  });

  it('refuses a badly named migration file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowql-mig-'));
    await writeFile(join(dir, 'init.sql'), '');
    await expect(loadMigrations(dir)).rejects.toThrow(
      `migration file ${join(dir, 'init.sql')}: expected a name like 001_description.sql`,
    );
  });
});
