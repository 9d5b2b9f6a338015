import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { STORED_COLUMNS } from '../../../src/domain/flow-schema.ts';
import { flowsCreateTableSql } from '../../../src/ingest/ingest-ddl.ts';

describe('schema/flows.parquet.sql', () => {
  it('is current (regenerate: npx tsx src/ingest/ingest-ddl.ts > schema/flows.parquet.sql)', async () => {
    const committed = await readFile(join(import.meta.dirname, '../../../schema/flows.parquet.sql'), 'utf8');
    expect(committed === flowsCreateTableSql()).toBe(true);
  });

  it('creates, in DuckDB, exactly the stored columns with their types', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(flowsCreateTableSql());
    const cols = (
      await c.runAndReadAll(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'flows' ORDER BY ordinal_position",
      )
    ).getRows();
    expect(cols.length).toBe(STORED_COLUMNS.length);
    expect(cols.slice(0, 3)).toEqual([
      ['version', 'INTEGER'],
      ['interface_id', 'VARCHAR'],
      ['srcaddr', 'VARCHAR'],
    ]);
    expect(cols.at(-5)).toEqual(['flow_id', 'BIGINT']);
  });
});
