import { createReadStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFlowFile, type FlowItem } from '../../../src/ingest/flow-file-reader.ts';

// Four rows in AWS's Parquet layout (flow-logs.md §5.4): INT32 version/ports/protocol/tcp_flags, INT64
// packets/bytes/start/end, STRING the rest, plus a column of a future version (`quantum_path`).
// Expected: row 1 the SSH example; row 2 NODATA with NULLs and '-' strings; row 3 'None' strings and start in ms;
// row 4 rejected (dstport 70000).
const ROWS = `
  (2, '123456789010', 'eni-1235b8ca123456789', '172.31.16.139', '172.31.16.21', 20641, 22, 6, 20::BIGINT, 4249::BIGINT, 1418530010::BIGINT, 1418530070::BIGINT, 'ACCEPT', 'OK', 18, 'q1'),
  (2, '123456789010', 'eni-1235b8ca123456789', '-', '-', NULL, NULL, NULL, NULL, NULL, 1431280876, 1431280934, '-', 'NODATA', NULL, '-'),
  (2, '123456789010', 'eni-1235b8ca123456789', 'None', 'None', 0, 0, 1, 4, 336, 1432917027000, 1432917142000, 'ACCEPT', 'OK', NULL, NULL),
  (2, '123456789010', 'eni-1235b8ca123456789', '172.31.9.69', '172.31.9.12', 49761, 70000, 6, 20, 4249, 1418530010, 1418530070, 'REJECT', 'OK', 2, NULL)`;

let path = '';

beforeAll(async () => {
  path = join(mkdtempSync(join(tmpdir(), 'flowql-parquet-in-')), 'aws.log.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (
    SELECT version::INTEGER AS version, account_id, interface_id, srcaddr, dstaddr, srcport::INTEGER AS srcport,
      dstport::INTEGER AS dstport, protocol::INTEGER AS protocol, packets::BIGINT AS packets, bytes::BIGINT AS bytes,
      "start"::BIGINT AS "start", "end"::BIGINT AS "end", action, log_status, tcp_flags::INTEGER AS tcp_flags, quantum_path
    FROM (VALUES ${ROWS}) t(version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets,
      bytes, "start", "end", action, log_status, tcp_flags, quantum_path)
  ) TO '${path}' (FORMAT parquet, COMPRESSION gzip)`);
  c.closeSync();
  db.closeSync();
});

async function readAll(withPath: boolean): Promise<FlowItem[]> {
  const items: FlowItem[] = [];
  const input = { name: 'aws.log.parquet', ...(withPath ? { path } : {}), open: async () => createReadStream(path) };
  for await (const i of readFlowFile(input)) items.push(i);
  return items;
}

describe('Parquet input', () => {
  it('reads AWS column names and types, nulls `-`/None, converts ms and keeps unknown columns in extra', async () => {
    for (const withPath of [true, false]) {
      const items = await readAll(withPath);
      expect(items.map((i) => [i.kind, i.line])).toEqual([
        ['record', 1],
        ['record', 2],
        ['record', 3],
        ['reject', 4],
      ]);
      const [a, b, c] = items.map((i) => (i.kind === 'record' ? i.record : undefined));
      expect(a).toEqual({
        version: 2,
        account_id: '123456789010',
        interface_id: 'eni-1235b8ca123456789',
        srcaddr: '172.31.16.139',
        dstaddr: '172.31.16.21',
        srcport: 20641,
        dstport: 22,
        protocol: 6,
        packets: 20,
        bytes: 4249,
        start_time: 1418530010,
        end_time: 1418530070,
        action: 'ACCEPT',
        log_status: 'OK',
        tcp_flags: 18,
        extra: { quantum_path: 'q1' },
      });
      expect([b!.srcaddr, b!.srcport, b!.bytes, b!.action, b!.log_status, b!.extra]).toEqual([
        null,
        null,
        null,
        null,
        'NODATA',
        undefined,
      ]);
      expect([c!.srcaddr, c!.protocol, c!.start_time, c!.end_time]).toEqual([null, 1, 1432917027, 1432917142]);
      expect(items[3]).toMatchObject({
        kind: 'reject',
        field: 'dstport',
        reason: "dstport: expected an integer 0-65535, found '70000'",
      });
    }
  });
});
