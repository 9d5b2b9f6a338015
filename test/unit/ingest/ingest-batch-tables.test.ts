// The batch's uncompressed head: loads that announce their rows take uncompressed tables while the batch's plain
// budget (PLAIN_BATCH_ROWS) holds them, reserved before any await so loaders side by side never exceed it together;
// loads that do not announce rows, and rows past the budget, take the compressed tables; a flush resets the budget.
// Before a flush, a batch that has both moves its uncompressed rows into the compressed table of the same columns.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchTables, PLAIN_BATCH_ROWS } from '../../../src/ingest/ingest-batch-tables.ts';
import { openIngestEngine, type IngestEngine } from '../../../src/ingest/ingest-engine.ts';

let engine: IngestEngine;
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flowql-batch-tables-'));
  engine = await openIngestEngine(join(dir, 'ledger.duckdb'), dir, { threads: 1 });
});
afterAll(() => engine.close());

const V2 = ['version', 'account_id', 'srcaddr'];

describe('createBatchTables', () => {
  it('gives announced rows an uncompressed table until the plain budget is spent, then the compressed one', async () => {
    const batches = createBatchTables();
    const c = engine.main;
    // Side by side: 3/4 of the budget, then another 3/4 (past it), then 1/4 (fits what is left).
    const [a, b, d] = await Promise.all([
      batches.tableFor(c, V2, (PLAIN_BATCH_ROWS * 3) / 4),
      batches.tableFor(c, V2, (PLAIN_BATCH_ROWS * 3) / 4),
      batches.tableFor(c, V2, PLAIN_BATCH_ROWS / 4),
    ]);
    expect([a.name, b.name, d.name]).toEqual([
      'ingest_batch_plain.main.batch_1',
      'ingest_batch.main.batch_2',
      'ingest_batch_plain.main.batch_1',
    ]);
    // Spent: even one more row goes to the compressed table, as does a load that does not say how many rows it has.
    expect((await batches.tableFor(c, V2, 1)).name).toBe('ingest_batch.main.batch_2');
    expect((await batches.tableFor(c, V2)).name).toBe('ingest_batch.main.batch_2');
    expect((await batches.tables()).map((t) => t.name)).toEqual([
      'ingest_batch_plain.main.batch_1',
      'ingest_batch.main.batch_2',
    ]);
    const perDatabase = await c.runAndReadAll(
      `SELECT database_name, count(*) FROM duckdb_tables() WHERE database_name LIKE 'ingest_batch%' GROUP BY ALL ORDER BY 1`,
    );
    expect(perDatabase.getRows()).toEqual([
      ['ingest_batch', 1n],
      ['ingest_batch_plain', 1n],
    ]);
    // A flush drops the tables and gives the next batch the whole budget again.
    await batches.clear(c);
    expect(await batches.tables()).toEqual([]);
    expect((await batches.tableFor(c, V2, PLAIN_BATCH_ROWS)).name).toBe('ingest_batch_plain.main.batch_3');
    await batches.clear(c);
  });

  it('creates the first tables of several layouts side by side on two connections (one ATTACH per database)', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = await mkdtemp(join(tmpdir(), 'flowql-batch-attach-'));
      const fresh = await openIngestEngine(join(dir, 'ledger.duckdb'), dir, { threads: 2 });
      try {
        const batches = createBatchTables();
        const [l0, l1] = fresh.loaders as [IngestEngine['main'], IngestEngine['main']];
        const made = await Promise.all([
          batches.tableFor(l0, V2, 10),
          batches.tableFor(l1, ['version', 'account_id', 'dstaddr'], 10),
          batches.tableFor(l0, ['version', 'srcaddr']),
          batches.tableFor(l1, ['version', 'dstaddr']),
        ]);
        expect(made.map((t) => t.name.split('.')[0])).toEqual([
          'ingest_batch_plain',
          'ingest_batch_plain',
          'ingest_batch',
          'ingest_batch',
        ]);
      } finally {
        fresh.close();
      }
    }
  });

  it('consolidates an uncompressed table into the compressed one of the same columns, and leaves other layouts alone', async () => {
    const batches = createBatchTables();
    const c = engine.main;
    const V5ISH = ['version', 'account_id', 'dstaddr'];
    const plain = await batches.tableFor(c, V2, PLAIN_BATCH_ROWS);
    const compressed = await batches.tableFor(c, V2, 10);
    const alone = await batches.tableFor(c, V5ISH);
    const insert = (t: string, col: string, n: number, from: number) =>
      c.run(`INSERT INTO ${t} (version, account_id, ${col}, region, date)
             SELECT 2, '123456789012', '10.0.0.' || i, 'eu-west-1', DATE '2024-09-05' FROM range(${from}, ${from + n}) t(i)`);
    await insert(plain.name, 'srcaddr', 3, 0);
    await insert(compressed.name, 'srcaddr', 2, 3);
    await insert(alone.name, 'dstaddr', 4, 0);
    await batches.consolidate(c);
    expect((await batches.tables()).map((t) => t.name)).toEqual([compressed.name, alone.name]);
    const rows = async (t: string) =>
      (await c.runAndReadAll(`SELECT count(*), count(DISTINCT srcaddr) FROM ${t}`)).getRows();
    expect(await rows(compressed.name)).toEqual([[5n, 5n]]);
    const gone = await c.runAndReadAll(
      `SELECT count(*) FROM duckdb_tables() WHERE database_name = 'ingest_batch_plain'`,
    );
    expect(gone.getRows()).toEqual([[0n]]);
    // Only uncompressed: nothing to move into (a small batch stays as it is).
    await batches.clear(c);
    const small = await batches.tableFor(c, V2, 5);
    await batches.consolidate(c);
    expect((await batches.tables()).map((t) => t.name)).toEqual([small.name]);
    await batches.clear(c);
  });
});
