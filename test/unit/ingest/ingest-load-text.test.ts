// The fast path (DuckDB's CSV reader + the TS parser for its rejects) against the TS parser alone, on
// test/fixtures/ingest/mixed.log (expected outcome in mixed.expected.md).
import { createReadStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FORMAT_STRING } from '../../../src/domain/fields.ts';
import { openIngestEngine, type IngestEngine } from '../../../src/ingest/ingest-engine.ts';
import { layoutFromFirstLine, loadTextObject, readFirstLine } from '../../../src/ingest/ingest-load-text.ts';
import { readFlowFile } from '../../../src/ingest/flow-file-reader.ts';

const FIXTURE = join(import.meta.dirname, '../../fixtures/ingest/mixed.log');
const CTX = { sourceId: 7, keyAccountId: '111122223333', keyRegion: 'eu-west-1', keyDate: '2023-11-14' };

let engine: IngestEngine;
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flowql-load-'));
  engine = await openIngestEngine(join(dir, 'ledger.duckdb'), dir, { threads: 1 });
});
afterAll(() => engine.close());

async function batchRows(sourceId: number) {
  const r = await engine.main.runAndReadAll(
    `SELECT source_line, account_id, region, CAST(date AS VARCHAR) AS date, interface_id, srcaddr, dstaddr, srcport,
            dstport, protocol, packets, bytes, epoch(start_time)::BIGINT AS s, epoch(end_time)::BIGINT AS e, action,
            log_status, source_account_id
     FROM memory.main.batch WHERE source_id = ${sourceId} ORDER BY source_line`,
  );
  return r.getRowObjectsJson();
}

describe('loadTextObject', () => {
  for (const gzip of [true, false]) {
    it(`keeps 7 records and names 3 rejects with their lines (${gzip ? 'gzip' : 'plain'})`, async () => {
      const path = gzip ? `${FIXTURE}.gz` : FIXTURE;
      const first = await readFirstLine(path, gzip);
      const { layout, header } = layoutFromFirstLine(first!, DEFAULT_FORMAT_STRING);
      expect(header).toBe(true);
      const ctx = { ...CTX, sourceId: gzip ? 7 : 8 };
      const result = await loadTextObject(engine.loaders[0]!, path, gzip, layout, header, ctx);
      expect(result.records).toBe(7);
      expect(result.rejects.map((r) => [r.line, r.field])).toEqual([
        [6, null],
        [7, 'srcport'],
        [11, 'packets'],
      ]);
      expect(result.rejects[0]).toEqual({
        line: 6,
        field: null,
        reason: 'expected 14 fields, found 6',
        text: 'this is not a flow record',
      });
      const rows = await batchRows(ctx.sourceId);
      expect(rows.map((r) => [r.source_line, r.account_id, r.date])).toEqual([
        [2, '123456789010', '2023-11-14'],
        [3, '123456789010', '2023-11-14'],
        [4, '123456789010', '2023-11-14'],
        [5, '123456789010', '2023-11-15'],
        [9, '123456789010', '2023-11-15'],
        [10, '111122223333', '2023-11-14'],
        [12, '999999999999', '2023-11-14'],
      ]);
      expect(rows[2]).toMatchObject({ srcaddr: null, packets: null, action: null, log_status: 'NODATA' });
      expect(rows[3]).toMatchObject({ s: '1700086400', e: '1700086460', srcport: 53, protocol: 17 });
      expect(rows[4]).toMatchObject({ srcaddr: '10.0.0.4', log_status: 'OK', source_account_id: '111122223333' });
    });
  }

  it('agrees with the TS parser record for record on the same file', async () => {
    const items = [];
    for await (const item of readFlowFile({ name: 'mixed.log', path: FIXTURE, open: async () => createReadStream(FIXTURE) })) {
      items.push(item);
    }
    const parsed = items.filter((i) => i.kind === 'record');
    const rejected = items.filter((i) => i.kind === 'reject');
    expect(rejected.map((r) => [r.line, r.reason])).toEqual([
      [6, 'expected 14 fields, found 6'],
      [7, expect.stringMatching(/^srcport: /)],
      [11, expect.stringMatching(/^packets: /)],
    ]);
    const rows = await batchRows(8);
    expect(rows.length).toBe(parsed.length);
    parsed.forEach((p, i) => {
      const rec = p.record;
      const row = rows[i]!;
      expect([row.source_line, row.interface_id, row.srcaddr, row.dstaddr, row.srcport, row.dstport, row.packets, row.bytes, row.s, row.e, row.action, row.log_status]).toEqual([
        p.line,
        rec.interface_id,
        rec.srcaddr,
        rec.dstaddr,
        rec.srcport,
        rec.dstport,
        rec.packets === null ? null : String(rec.packets),
        rec.bytes === null ? null : String(rec.bytes),
        String(rec.start_time),
        String(rec.end_time),
        rec.action,
        rec.log_status,
      ]);
    });
  });
});
