// recordCommit writes a whole commit through appender-filled memory tables: every row must land exactly once, a
// loaded source must clear the failed attempt of the same uri, and nothing of the staging tables may remain.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIngestEngine, type IngestEngine } from '../../../src/ingest/ingest-engine.ts';
import { recordCommit, type CommitPlan, type SourceOutcome } from '../../../src/ingest/ledger.ts';

let engine: IngestEngine;
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flowql-ledger-'));
  engine = await openIngestEngine(join(dir, 'ledger.duckdb'), dir, { threads: 1 });
});
afterAll(() => engine.close());

const rows = async (text: string) => (await engine.main.runAndReadAll(text)).getRowObjectsJson();

const source = (sourceId: number, uri: string, state: 'loaded' | 'failed', records: number): SourceOutcome => ({
  sourceId,
  uri,
  version: `v${sourceId}`,
  size: 100 * sourceId,
  format: state === 'loaded' ? 'gzip-text' : null,
  keyAccountId: '111122223333',
  keyRegion: 'eu-west-1',
  keyDate: '2024-09-05',
  state,
  records,
  rejects: state === 'loaded' ? 1 : 0,
  error: state === 'failed' ? `${uri}: broken` : null,
});

const file = (path: string, sources: { sourceId: number; rows: number }[]) => ({
  path,
  stagedPath: `/staging/${path}`,
  accountId: '111122223333',
  region: 'eu-west-1',
  date: '2024-09-05',
  rows: sources.reduce((a, s) => a + s.rows, 0),
  bytes: 1234,
  sources,
});

describe('recordCommit', () => {
  it('stores sources, rejects, files and file_sources of two commits, the second clearing a failed attempt', async () => {
    const first: CommitPlan = {
      commitId: 1,
      kind: 'ingest',
      superseded: [],
      retired: [],
      sources: [source(1, 'a.log.gz', 'loaded', 3), source(2, 'b.log.gz', 'failed', 0)],
      rejects: [{ sourceId: 1, line: 4, field: 'srcport', reason: 'expected a port', text: 'x y z' }],
      added: [file('flows/f1.parquet', [{ sourceId: 1, rows: 3 }])],
    };
    await recordCommit(engine.main, first);
    const second: CommitPlan = {
      commitId: 2,
      kind: 'ingest',
      superseded: [],
      retired: ['flows/f1.parquet'],
      sources: [source(3, 'b.log.gz', 'loaded', 2), source(4, 'c.log.gz', 'loaded', 5)],
      rejects: [],
      added: [
        file('flows/f2.parquet', [
          { sourceId: 1, rows: 3 },
          { sourceId: 3, rows: 2 },
        ]),
        file('flows/f3.parquet', [{ sourceId: 4, rows: 5 }]),
      ],
    };
    await recordCommit(engine.main, second);
    expect(
      await rows(
        'SELECT source_id, uri, version, size, state, records, rejects, error, commit_id, CAST(key_date AS VARCHAR) AS d FROM sources ORDER BY source_id',
      ),
    ).toEqual([
      {
        source_id: 1,
        uri: 'a.log.gz',
        version: 'v1',
        size: '100',
        state: 'loaded',
        records: '3',
        rejects: '1',
        error: null,
        commit_id: 1,
        d: '2024-09-05',
      },
      {
        source_id: 3,
        uri: 'b.log.gz',
        version: 'v3',
        size: '300',
        state: 'loaded',
        records: '2',
        rejects: '1',
        error: null,
        commit_id: 2,
        d: '2024-09-05',
      },
      {
        source_id: 4,
        uri: 'c.log.gz',
        version: 'v4',
        size: '400',
        state: 'loaded',
        records: '5',
        rejects: '1',
        error: null,
        commit_id: 2,
        d: '2024-09-05',
      },
    ]);
    expect(await rows('SELECT source_id, line, field, reason FROM rejects')).toEqual([
      { source_id: 1, line: '4', field: 'srcport', reason: 'expected a port' },
    ]);
    expect(
      await rows('SELECT path, state, commit_id, retired_commit_id, rows, staged_path FROM files ORDER BY path'),
    ).toEqual([
      {
        path: 'flows/f1.parquet',
        state: 'retired',
        commit_id: 1,
        retired_commit_id: 2,
        rows: '3',
        staged_path: '/staging/flows/f1.parquet',
      },
      {
        path: 'flows/f2.parquet',
        state: 'live',
        commit_id: 2,
        retired_commit_id: null,
        rows: '5',
        staged_path: '/staging/flows/f2.parquet',
      },
      {
        path: 'flows/f3.parquet',
        state: 'live',
        commit_id: 2,
        retired_commit_id: null,
        rows: '5',
        staged_path: '/staging/flows/f3.parquet',
      },
    ]);
    expect(await rows('SELECT path, source_id, rows FROM file_sources ORDER BY path, source_id')).toEqual([
      { path: 'flows/f1.parquet', source_id: 1, rows: '3' },
      { path: 'flows/f2.parquet', source_id: 1, rows: '3' },
      { path: 'flows/f2.parquet', source_id: 3, rows: '2' },
      { path: 'flows/f3.parquet', source_id: 4, rows: '5' },
    ]);
    expect(
      await rows(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' AND table_name LIKE 'commit_%'",
      ),
    ).toEqual([]);
  });
});
