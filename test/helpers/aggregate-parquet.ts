/**
 * Writes the aggregate fixture (test/fixtures/aggregate-flows.ts) as real Hive-partitioned Parquet with DuckDB, for
 * the builder tests that run before (and independently of) the warehouse and manifest.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { AGGREGATE_FIXTURE } from '../fixtures/aggregate-flows.ts';
import { HIVE_TYPES_SQL } from '../../src/domain/flow-schema.ts';
import { raw, type SqlFragment } from '../../src/store/sql.ts';

const COLUMNS =
  "{account_id: 'VARCHAR', region: 'VARCHAR', interface_id: 'VARCHAR', instance_id: 'VARCHAR', vpc_id: 'VARCHAR', subnet_id: 'VARCHAR', srcaddr: 'VARCHAR', dstaddr: 'VARCHAR', srcport: 'INTEGER', dstport: 'INTEGER', protocol: 'INTEGER', packets: 'BIGINT', bytes: 'BIGINT', start_time: 'TIMESTAMP', end_time: 'TIMESTAMP', action: 'VARCHAR', log_status: 'VARCHAR'}";

/** A directory of Parquet partitions holding the fixture, a connection, and the relation that reads it. */
export async function writeAggregateParquet(): Promise<{ dir: string; conn: DuckDBConnection; source: SqlFragment }> {
  const dir = await mkdtemp(join(tmpdir(), 'flowql-agg-'));
  const json = join(dir, 'records.json');
  await writeFile(json, JSON.stringify(AGGREGATE_FIXTURE));
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(
    `COPY (SELECT *, CAST(start_time AS DATE) AS date FROM read_json('${json}', format = 'array', columns = ${COLUMNS})) TO '${dir}/flows' (FORMAT parquet, PARTITION_BY (account_id, region, date))`,
  );
  const source = raw(
    `read_parquet('${dir}/flows/**/*.parquet', hive_partitioning = true, hive_types = ${HIVE_TYPES_SQL})`,
  );
  return { dir, conn, source };
}
