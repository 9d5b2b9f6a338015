// The fast path (DuckDB's CSV reader + the TS parser for its rejects) against the TS parser alone, on
// test/fixtures/ingest/mixed.log (expected outcome in mixed.expected.md).
import { createReadStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIngestEngine, type IngestEngine } from '../../../src/ingest/ingest-engine.ts';
import { loadTextObject } from '../../../src/ingest/ingest-load-text.ts';
import { lineShape } from '../../../src/ingest/text-line-shape.ts';
import { readFlowFile } from '../../../src/ingest/flow-file-reader.ts';
import { layoutOfObject } from '../../helpers/text-layout.ts';

const FIXTURE = join(import.meta.dirname, '../../fixtures/ingest/mixed.log');
const HEADER_LINE =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const CTX = { sourceId: 7, keyAccountId: '111122223333', keyRegion: 'eu-west-1', keyDate: '2023-11-14' };

let engine: IngestEngine;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowql-load-'));
  engine = await openIngestEngine(join(dir, 'ledger.duckdb'), dir, { threads: 1 });
});
afterAll(() => engine.close());

async function batchRows(sourceId: number) {
  const tables = await engine.batches.tables();
  expect(tables.map((t) => t.name)).toEqual(['ingest_batch.main.batch_1']); // all objects here have the default v2 layout
  const r = await engine.main.runAndReadAll(
    `SELECT source_line, account_id, region, CAST(date AS VARCHAR) AS date, interface_id, srcaddr, dstaddr, srcport,
            dstport, protocol, packets, bytes, epoch(start_time)::BIGINT AS s, epoch(end_time)::BIGINT AS e, action,
            log_status, source_account_id
     FROM ingest_batch.main.batch_1 WHERE source_id = ${sourceId} ORDER BY source_line`,
  );
  return r.getRowObjectsJson();
}

describe('loadTextObject', () => {
  for (const gzip of [true, false]) {
    it(`keeps 7 records and names 3 rejects with their lines (${gzip ? 'gzip' : 'plain'})`, async () => {
      const path = gzip ? `${FIXTURE}.gz` : FIXTURE;
      const { layout, header } = await layoutOfObject(path, gzip);
      expect(header).toBe(true);
      const ctx = { ...CTX, sourceId: gzip ? 7 : 8 };
      const result = await loadTextObject(engine.loaders[0]!, path, gzip, layout, header, ctx, engine.batches);
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
    for await (const item of readFlowFile({
      name: 'mixed.log',
      path: FIXTURE,
      open: async () => createReadStream(FIXTURE),
    })) {
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
      expect([
        row.source_line,
        row.interface_id,
        row.srcaddr,
        row.dstaddr,
        row.srcport,
        row.dstport,
        row.packets,
        row.bytes,
        row.s,
        row.e,
        row.action,
        row.log_status,
      ]).toEqual([
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

  // DuckDB's CSV reader skips empty lines without a trace; a record's line (and so its flow_id) must still be its own.
  // Each record's bytes value is 100 x its line number, so the expected lines can be read off the text.
  const rec = (line: number, extra = '') =>
    `2 111122223333 eni-e${line} 10.0.0.1${extra} 10.0.0.2 443 50000 6 1 ${line * 100} 1700000000 1700000060 ACCEPT OK`;
  const BLANKS_ONLY = [HEADER_LINE, rec(2), '', rec(4), '', '', rec(7), rec(8), ''].join('\n'); // lines 2, 4, 7, 8
  const BLANKS_AND_REJECTS =
    [
      HEADER_LINE, // 1
      '', // 2: empty
      rec(3), // 3
      rec(4, ' '), // 4: double space -> rescued by the parser
      '', // 5: empty
      '   ', // 6: spaces only -> neither record nor reject
      rec(7).replace('443', '70000'), // 7: reject srcport
      '', // 8: empty
      rec(9), // 9
      '', // 10: empty
      rec(11), // 11
    ].join('\n') + '\n';

  const cases = [
    { title: 'empty lines only', text: BLANKS_ONLY, lines: [2, 4, 7, 8], rejects: [] as number[][] },
    {
      title: 'empty lines, a rescued line and a reject',
      text: BLANKS_AND_REJECTS,
      lines: [3, 4, 9, 11],
      rejects: [[7]],
    },
    {
      title: 'CRLF empty lines',
      text: BLANKS_ONLY.replaceAll('\n', '\r\n'),
      lines: [2, 4, 7, 8],
      rejects: [] as number[][],
    },
    {
      // DuckDB's reader refuses this file outright (its state machine stops on line 3); the line parser takes it all.
      title: 'a CRLF empty line in an LF file',
      text: [HEADER_LINE, rec(2), '\r', rec(4), rec(5).replace('443', '70000'), rec(6, ' '), rec(7)].join('\n') + '\n',
      lines: [2, 4, 6, 7],
      rejects: [[5]],
    },
  ];
  let nextId = 20;
  for (const { title, text, lines, rejects } of cases) {
    for (const gzip of [false, true]) {
      it(`numbers records by their own line across ${title} (${gzip ? 'gzip' : 'plain'})`, async () => {
        const path = join(dir, `blank-${nextId}.log${gzip ? '.gz' : ''}`);
        await writeFile(path, gzip ? gzipSync(text) : text);
        const ctx = { ...CTX, sourceId: nextId++ };
        const { layout, header } = await layoutOfObject(path, gzip);
        const result = await loadTextObject(engine.loaders[0]!, path, gzip, layout, header, ctx, engine.batches);
        expect(result.records).toBe(lines.length);
        expect(result.rejects.map((r) => [r.line])).toEqual(rejects);
        const rows = await batchRows(ctx.sourceId);
        expect(rows.map((r) => [r.source_line, Number(r.bytes) / 100])).toEqual(lines.map((l) => [l, l]));
      });
    }
  }

  it('gives an object without rejects none of the rejects of the previous object on the same connection', async () => {
    const conn = engine.loaders[0]!;
    const { layout, header } = await layoutOfObject(FIXTURE, false);
    expect(header).toBe(true);
    const withRejects = await loadTextObject(
      conn,
      FIXTURE,
      false,
      layout,
      header,
      { ...CTX, sourceId: 40 },
      engine.batches,
    );
    expect(withRejects.rejects.map((r) => r.line)).toEqual([6, 7, 11]);
    const path = join(dir, 'clean.log');
    await writeFile(path, `${HEADER_LINE}\n${rec(2)}\n${rec(3)}\n`);
    const clean = await loadTextObject(conn, path, false, layout, header, { ...CTX, sourceId: 41 }, engine.batches);
    expect([clean.records, clean.rejects.length]).toEqual([2, 0]);
    expect((await batchRows(41)).map((r) => r.source_line)).toEqual([2, 3]);
  });
});

// The Node-side line count that decides whether an object has empty lines; a lone carriage return (null here) makes
// the count unsure, and the object goes through the line parser.
describe('lineShape', () => {
  const cases: [string, string, number | null][] = [
    ['empty file', '', 0],
    ['terminated lines', 'a\nb\n', 2],
    ['unterminated last line', 'a\nb', 2],
    ['empty lines count', 'a\n\n\nb\n', 4],
    ['CRLF', 'a\r\n\r\nb\r\n', 3],
    ['a bare carriage return', 'a\rb\n', null],
    ['a carriage return at the end', 'a\nb\r', null],
  ];
  for (const [title, text, expected] of cases) {
    for (const gzip of [false, true]) {
      it(`${title} (${gzip ? 'gzip' : 'plain'}) -> ${expected}`, async () => {
        const path = join(dir, `count-${title.replaceAll(' ', '-')}.txt${gzip ? '.gz' : ''}`);
        await writeFile(path, gzip ? gzipSync(text) : text);
        const shape = await lineShape(path, gzip);
        expect(shape.loneReturn ? null : shape.lines).toBe(expected);
      });
    }
  }
});
