/**
 * Writes AWS-shaped Parquet flow-log objects (`.log.parquet`) with DuckDB: AWS's column names (`-` as `_`), INT32 for
 * version/srcport/dstport/protocol/tcp_flags/traffic_path, INT64 for packets/bytes/start/end, STRING for the rest,
 * NULL for `-`, gzip column codec (flow-logs.md §5.4).
 *
 * Objects are converted in batches: each object's lines are staged as a text file, and one COPY reads a batch of
 * staged files and writes one Parquet file per staged file (PARTITION_BY the staged file's name), which are then
 * moved to their keys. A COPY costs ~7 ms of CPU however small its input, and a dataset has ~550 Parquet objects:
 * one COPY each was a third of the generator's fixed cost.
 *
 * This is test-data tooling, not the warehouse writer: the only SQL is that COPY, whose column list comes from the
 * field table and whose paths are generated (checked against a safe pattern, never user text).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
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
/** Objects converted by one COPY, and the staged bytes that flush a batch early (bounding the staging folder). */
const BATCH = 32;
const BATCH_BYTES = 16 << 20;
// Staging on tmpfs when there is one: each object costs ~10 file-system operations (stage, read, partition folder,
// file, move, remove), far cheaper in memory than on a disk; BATCH_BYTES keeps a small /dev/shm (Docker: 64 MB) safe.
const STAGING_ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** One object handed to `write`. */
export interface ParquetWrite {
  /** Resolves once the lines are staged: the caller may reuse their buffer. */
  readonly staged: Promise<void>;
  /** Resolves with the object's size once it is at its path. */
  readonly written: Promise<number>;
}

/** Converts space-separated lines (in `fields` order) into Parquet objects, a batch per DuckDB COPY. */
export interface AwsParquetWriter {
  /** Queues `lines` (LF-terminated, no header) as a Parquet object at `outPath`. */
  write(fields: readonly GeneratedField[], lines: Uint8Array, outPath: string): ParquetWrite;
  /** Converts the objects queued so far; resolves when they are written. */
  flush(): Promise<void>;
  /** Flushes, then closes DuckDB and removes the staging folder. */
  close(): Promise<void>;
}

interface Pending {
  readonly staged: string;
  readonly part: string;
  readonly outPath: string;
  readonly ready: Promise<void>;
  readonly resolve: (size: number) => void;
  readonly reject: (err: unknown) => void;
}

/** Opens an in-memory DuckDB (one thread, so it leaves the other core to gzip) and a staging folder. */
export async function createAwsParquetWriter(): Promise<AwsParquetWriter> {
  const { DuckDBInstance, LIST, VARCHAR, listValue } = await import('@duckdb/node-api');
  const instance: DuckDBInstance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection: DuckDBConnection = await instance.connect();
  const staging = await mkdtemp(join(STAGING_ROOT, 'flowql-gen-'));
  if (!SAFE_PATH.test(staging)) throw new Error(`aws-parquet-writer: unexpected characters in ${staging}`);
  let n = 0;
  let batch: Pending[] = [];
  let batchBytes = 0;
  const madeDirs = new Set<string>();
  let batchFields: readonly GeneratedField[] = [];
  // One connection runs one statement at a time: batches run in order.
  let queue: Promise<void> = Promise.resolve();

  const convert = async (fields: readonly GeneratedField[], items: Pending[]): Promise<void> => {
    await Promise.all(items.map((p) => p.ready));
    const out = join(staging, `out-${n++}`);
    const columns = fields.map((f) => {
      const kind = fieldByName(f)?.kind ?? 'string';
      return `'${f.replaceAll('-', '_')}': '${PARQUET_TYPE[kind]}'`;
    });
    const query = build(
      'generator.aws-parquet',
      sql`COPY (SELECT * EXCLUDE (filename), parse_filename(filename, true) AS part
          FROM read_csv(${items.map((p) => p.staged)}, delim = ' ', header = false, quote = '', escape = '',
            nullstr = '-', auto_detect = false, filename = true, columns = {${raw(columns.join(', '))}}))
          TO '${raw(out)}' (FORMAT parquet, COMPRESSION gzip, PARTITION_BY (part))`,
    );
    // The one parameter is the list of staged files, bound as VARCHAR[] (an untyped JS array binds as ANY).
    await connection.run(query.text, [listValue(query.params[0] as string[])], [LIST(VARCHAR)]);
    for (const p of items) {
      const folder = join(out, `part=${p.part}`);
      const [file, ...more] = await readdir(folder);
      if (file === undefined || more.length > 0)
        throw new Error(`aws-parquet-writer: expected one Parquet file in ${folder}, found ${1 + more.length}`);
      const dir = dirname(p.outPath);
      if (!madeDirs.has(dir)) await mkdir(dir, { recursive: true });
      madeDirs.add(dir);
      await move(join(folder, file), p.outPath);
      p.resolve((await stat(p.outPath)).size);
    }
    await Promise.all(items.map((p) => rm(p.staged, { force: true })));
    await rm(out, { recursive: true, force: true });
  };

  const flush = (): Promise<void> => {
    if (batch.length === 0) return queue;
    const [fields, items] = [batchFields, batch];
    batch = [];
    batchBytes = 0;
    const done = queue.then(() => convert(fields, items));
    done.catch((err: unknown) => items.forEach((p) => p.reject(err)));
    queue = done.catch(() => undefined);
    return done;
  };

  return {
    write(fields, lines, outPath) {
      if (!SAFE_PATH.test(outPath)) {
        const err = new Error(`aws-parquet-writer: unexpected characters in output path ${outPath}`);
        return { staged: Promise.reject(err), written: Promise.reject(err) };
      }
      if (batch.length > 0 && fields !== batchFields) void flush();
      batchFields = fields;
      const part = `p${n++}`;
      const staged = join(staging, `${part}.txt`);
      const ready = writeFile(staged, lines);
      let resolve!: (size: number) => void;
      let reject!: (err: unknown) => void;
      const written = new Promise<number>((ok, fail) => ([resolve, reject] = [ok, fail]));
      batch.push({ staged, part, outPath, ready, resolve, reject });
      batchBytes += lines.length;
      if (batch.length >= BATCH || batchBytes >= BATCH_BYTES) void flush();
      return { staged: ready, written };
    },
    flush,
    async close() {
      await flush().catch(() => undefined);
      connection.closeSync();
      instance.closeSync();
      await rm(staging, { recursive: true, force: true });
    },
  };
}

/** Moves a file, copying when the staging folder is on another file system. */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to);
  }
}
