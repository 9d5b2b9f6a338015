/**
 * Writes AWS-shaped Parquet flow-log objects (`.log.parquet`) with DuckDB: AWS's column names (`-` as `_`), INT32 for
 * version/srcport/dstport/protocol/tcp_flags/traffic_path, INT64 for packets/bytes/start/end, STRING for the rest,
 * NULL for `-`, gzip column codec (flow-logs.md §5.4).
 *
 * This is test-data tooling, not the warehouse writer: the only SQL is a COPY of a staged text file, whose column
 * list comes from the field table and whose paths are generated (checked against a safe pattern, never user text).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { build, raw, sql } from '../store/sql.ts';
import { fieldByName } from '../domain/fields.ts';
import type { GeneratedField } from './flow-log-formats.ts';

const PARQUET_TYPE: Readonly<Record<string, string>> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  epoch: 'BIGINT',
};
const SAFE_PATH = /^[A-Za-z0-9_./=:\\ -]+$/;

/** Converts space-separated lines (in `fields` order) into Parquet objects, one DuckDB COPY each. */
export interface AwsParquetWriter {
  /** Writes `lines` (LF-terminated, no header) as a Parquet object at `outPath`; resolves when the file is complete. */
  write(fields: readonly GeneratedField[], lines: Uint8Array, outPath: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens an in-memory DuckDB (one thread, so it leaves the other core to gzip) and a staging folder. */
export async function createAwsParquetWriter(): Promise<AwsParquetWriter> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance: DuckDBInstance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection: DuckDBConnection = await instance.connect();
  const staging = await mkdtemp(join(tmpdir(), 'flowql-gen-'));
  let n = 0;
  // One connection runs one statement at a time: queue the writes.
  let queue: Promise<void> = Promise.resolve();
  const writeOne = async (fields: readonly GeneratedField[], lines: Uint8Array, outPath: string): Promise<void> => {
    if (!SAFE_PATH.test(outPath))
      throw new Error(`aws-parquet-writer: unexpected characters in output path ${outPath}`);
    const staged = join(staging, `part-${n++}.txt`);
    await writeFile(staged, lines);
    await mkdir(dirname(outPath), { recursive: true });
    const columns = fields.map((f) => {
      const kind = fieldByName(f)?.kind ?? 'string';
      return `'${f.replaceAll('-', '_')}': '${PARQUET_TYPE[kind]}'`;
    });
    const query = build(
      'generator.aws-parquet',
      sql`COPY (SELECT * FROM read_csv(${staged}, delim = ' ', header = false, quote = '', escape = '', nullstr = '-',
          auto_detect = false, columns = {${raw(columns.join(', '))}}))
          TO '${raw(outPath)}' (FORMAT parquet, COMPRESSION gzip)`,
    );
    await connection.run(query.text, query.params as never);
    await rm(staged);
  };
  return {
    write(fields, lines, outPath) {
      const done = queue.then(() => writeOne(fields, lines, outPath));
      queue = done.catch(() => undefined);
      return done;
    },
    async close() {
      await queue;
      connection.closeSync();
      instance.closeSync();
      await rm(staging, { recursive: true, force: true });
    },
  };
}
