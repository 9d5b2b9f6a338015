/**
 * BI datasets over a real loopback port, tenant A's key, fixture test/helpers/tenant-fixture.ts (expected values are
 * computed there by hand). Checks each dataset's CSV byte for byte where it is short, quoting, types, JSON's exact
 * integers, Parquet read back by DuckDB, download headers, and argument errors naming the URL parameter.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { DATASET_FLOW_COLUMNS } from '../../src/store/queries/dataset-flows-query.ts';
import { KEY_A, serveTenantFixture } from '../helpers/tenant-fixture.ts';

let root: string;
let server: RunningServer;
const DAY = 'from=2024-05-01&to=2024-05-02';

serveTenantFixture((f) => ({ root, server } = f));

/** RFC 4180 fields of each line (quotes, doubled quotes, commas inside quotes); enough for these small files. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"') quoted = !quoted;
    else if (quoted || (ch !== ',' && ch !== '\n')) field += ch;
    else {
      row.push(field);
      field = '';
      if (ch === '\n') {
        rows.push(row);
        row = [];
      }
    }
  }
  return rows;
}

/** Rows of a CSV as objects by header name. */
function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}

async function get(path: string, key = KEY_A) {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('GET /datasets/<name>.csv', () => {
  it('flows: header of every column, rows oldest first, RFC 4180 quoting, ISO UTC times, download headers', async () => {
    const r = await get(`/datasets/flows.csv?${DAY}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe(
      'attachment; filename="flowql-flows-20240501T000000Z-20240502T000000Z.csv"',
    );
    expect(r.headers.get('x-flowql-rows')).toBe('4');
    expect(r.headers.get('x-flowql-limit-reached')).toBe('false');
    expect(Number(r.headers.get('content-length'))).toBe(Buffer.byteLength(r.text));
    const lines = r.text.trimEnd().split('\n');
    expect(lines[0]).toBe(DATASET_FLOW_COLUMNS.join(','));
    expect(lines).toHaveLength(5);
    const rows = csvObjects(r.text);
    expect(rows.map((o) => [o.flow_id, o.start_time])).toEqual([
      ['1', '2024-05-01T10:00:00Z'],
      ['6', '2024-05-01T10:00:01Z'],
      ['2', '2024-05-01T10:00:30Z'],
      ['3', '2024-05-01T11:00:00Z'],
    ]);
    expect(rows[3]!.vpc_id).toBe('vpc-"a",b');
    expect(
      lines[1]!.startsWith(
        '111111111111,us-east-1,2024-05-01,2,eni-0a0a0a0a0a0a0a0a1,10.0.0.1,10.0.0.2,50000,443,6,10,1000,2024-05-01T10:00:00Z,2024-05-01T10:01:00Z,ACCEPT,OK,vpc-0a0a0a0a,,i-0a0a0a0a0a0a0a0a1,2,',
      ),
    ).toBe(true);
    expect(lines[4]).toContain(',REJECT,OK,"vpc-""a"",b",,i-0a0a0a0a0a0a0a0a1,2,');
  });

  it('summary, time series, top-N and breakdown: exact values under the metric names', async () => {
    expect((await get(`/datasets/summary.csv?${DAY}`)).text).toBe(
      'records,bytes,packets,accepted_records,rejected_records,nodata_records,skipdata_records,distinct_src_addrs,distinct_dst_addrs,distinct_interfaces,first_seen,last_seen\n' +
        '4,6500,45,3,1,0,0,3,2,1,2024-05-01T10:00:00Z,2024-05-01T11:01:00Z\n',
    );
    expect((await get(`/datasets/timeseries.csv?${DAY}&interval=hour`)).text).toBe(
      'bucket,records,bytes,packets\n2024-05-01T10:00:00Z,3,6000,40\n2024-05-01T11:00:00Z,1,500,5\n',
    );
    const top = await get(`/datasets/topn.csv?${DAY}&by=dst_port&metric=BYTES&limit=2`);
    expect(top.text).toBe('dstport,records,bytes,packets\n443,2,4000,30\n50000,1,2000,10\n');
    expect(top.headers.get('x-flowql-limit-reached')).toBe('true');
    expect((await get(`/datasets/breakdown.csv?${DAY}&by=ACTION,DST_PORT&values=RECORDS`)).text).toBe(
      'action,dstport,records,bytes\nACCEPT,443,2,4000\nACCEPT,50000,1,2000\nREJECT,22,1,500\n',
    );
    expect((await get(`/datasets/topn.csv?${DAY}&by=src_addr&port=22`)).text).toBe(
      'srcaddr,records,bytes,packets\n10.0.0.3,1,500,5\n',
    );
  });

  it('handshakes and edges: one row per handshake / edge, lists as space-separated text', async () => {
    const pick = (o: Record<string, string>, names: string[]) => names.map((n) => o[n]);
    const hs = csvObjects((await get(`/datasets/handshakes.csv?${DAY}`)).text);
    expect(
      hs.map((o) => pick(o, ['client_addr', 'client_port', 'server_addr', 'server_port', 'state', 'start_time'])),
    ).toEqual([
      ['10.0.0.1', '50000', '10.0.0.2', '443', 'ESTABLISHED', '2024-05-01T10:00:00Z'],
      ['10.0.0.3', '40000', '10.0.0.2', '22', 'REJECTED', '2024-05-01T11:00:00Z'],
    ]);
    const edges = csvObjects((await get(`/datasets/edges.csv?${DAY}&level=instance&orderBy=bytes`)).text);
    expect(
      edges.map((o) =>
        pick(o, [
          'client_id',
          'server_id',
          'server_port',
          'bytes_to_server',
          'bytes_to_client',
          'records',
          'observed_interfaces',
        ]),
      ),
    ).toEqual([
      ['10.0.0.1', 'i-0a0a0a0a0a0a0a0a1', '443', '4000', '2000', '3', 'eni-0a0a0a0a0a0a0a0a1'],
      ['10.0.0.3', 'i-0a0a0a0a0a0a0a0a1', '22', '500', '0', '1', 'eni-0a0a0a0a0a0a0a0a1'],
    ]);
  });
});

describe('GET /datasets/<name>.json and .parquet', () => {
  it('JSON: an array of objects, 64-bit integers as strings of digits, times in ISO UTC', async () => {
    const r = await get(`/datasets/flows.json?${DAY}&limit=1&instanceId=i-0a0a0a0a0a0a0a0a1`);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const rows = JSON.parse(r.text) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect([rows[0]!.flow_id, rows[0]!.bytes, rows[0]!.packets, rows[0]!.srcport, rows[0]!.start_time]).toEqual([
      '1',
      '1000',
      '10',
      50000,
      '2024-05-01T10:00:00Z',
    ]);
    expect(r.headers.get('x-flowql-limit-reached')).toBe('true');
  });

  it('Parquet: native types, read back by DuckDB', async () => {
    const res = await fetch(`${server.url}/datasets/topn.parquet?${DAY}&by=DST_PORT`, {
      headers: { 'x-api-key': KEY_A },
    });
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    const file = join(root, 'top.parquet');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (await c.runAndReadAll(`SELECT dstport, bytes, typeof(bytes) AS t FROM '${file}'`)).getRowObjectsJS();
    expect(rows).toEqual([
      { dstport: 443, bytes: 4000n, t: 'BIGINT' },
      { dstport: 50000, bytes: 2000n, t: 'BIGINT' },
      { dstport: 22, bytes: 500n, t: 'BIGINT' },
    ]);
    c.closeSync();
    db.closeSync();
  });
});

describe('dataset request errors', () => {
  it('names the URL parameter and what was expected, before any SQL runs', async () => {
    const cases: [string, number, string][] = [
      [
        `/datasets/flows.csv?${DAY}&port=http`,
        400,
        'Invalid port: expected a port or port range such as 443 or 1024-65535, found "http"',
      ],
      [
        `/datasets/flows.csv?from=2024-05-02&to=2024-05-01`,
        400,
        'Invalid from: expected from before to, found "from 2024-05-02T00:00:00.000Z, to 2024-05-01T00:00:00.000Z"',
      ],
      [
        `/datasets/flows.csv?from=yesterday`,
        400,
        'Invalid from: expected an ISO-8601 date-time such as 2024-05-01T12:00:00Z (UTC when no offset is given), found "yesterday"',
      ],
      [`/datasets/flows.csv?${DAY}&cidr=10.0.0.0/33`, 400, 'Invalid cidr: expected '],
      [`/datasets/topn.csv?${DAY}&by=COLOUR`, 400, 'Invalid by: expected one of ADDRESS_PAIR, SRC_ADDR'],
      [`/datasets/topn.csv?${DAY}&limit=5000`, 400, 'Invalid limit: expected an integer from 1 to 1000, found 5000'],
      [
        `/datasets/timeseries.csv?from=2024-04-01&to=2024-05-01&interval=MINUTE`,
        400,
        'Invalid interval: expected at most 10000 buckets over the time range (MINUTE gives 43200; use FIVE_MINUTES or a shorter range)',
      ],
      [`/datasets/breakdown.csv?${DAY}`, 400, 'Invalid by: expected 1 to 4 dimensions of SRC_ADDR'],
      [
        `/datasets/flows.csv?${DAY}&colour=red`,
        400,
        'Invalid colour: expected one of the flows parameters from, to, last, latestDay, accountId',
      ],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(path);
      const body = JSON.parse(r.text) as { error: { code: string; message: string } };
      expect([path, r.status, body.error.code]).toEqual([path, status, 'BAD_USER_INPUT']);
      expect(body.error.message.startsWith(message), `${path}: ${body.error.message}`).toBe(true);
    }
  });

  it('404 for unknown datasets or formats, 405 for anything but GET/HEAD', async () => {
    const unknown = await get('/datasets/packets.csv');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toEqual({
      error: {
        code: 'NOT_FOUND',
        message:
          'No dataset at /datasets/packets.csv: expected /datasets/<flows|summary|timeseries|topn|breakdown|handshakes|edges|cost>.<csv|json|parquet>',
      },
    });
    expect((await get('/datasets/flows.xlsx')).status).toBe(404);
    const post = await fetch(`${server.url}/datasets/flows.csv`, { method: 'POST', headers: { 'x-api-key': KEY_A } });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });
});
