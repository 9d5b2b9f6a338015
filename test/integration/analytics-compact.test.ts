// `flowql compact` merges flows files (src/ingest/ingest-compact.ts) and the derived tables' hour files of closed days
// (src/ingest/derived-compact.ts): derived files must stay listed and valid, and answers must not change. Fixture: AWS's TCP flag sequence example
// (test/fixtures/aws/tcp-flag-sequence.log) split into two objects ingested in two runs, so 2019-08-26 holds 2 flows
// files before compaction:
//   object 1: lines 1-4 (43416 SYN / SYN-ACK, 43418 SYN / SYN-ACK, 2019-08-26)
//   object 2: lines 5-8 (43418 FIN both ways on 2019-08-26; 43638 SYN+FIN / SYN-ACK+FIN on 2019-08-27)
// Expected on 2019-08-26: 2 ESTABLISHED handshakes (43418 closed), one edge 52.213.180.42 -> i-01234567890123456:5001
// with 568 + 100701 + 23294588 = 23395857 bytes to the server and 376 + 632 + 63388 = 64396 back.
import { access, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { connectionSource } from '../../src/analytics/connection-source.ts';
import { derivedFileHours } from '../../src/analytics/derived-hours.ts';
import { validateFlowFilter } from '../../src/domain/flow-filter.ts';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { OPTIONAL_TABLES, type Manifest } from '../../src/store/layout.ts';
import { readEdges } from '../../src/questions/edge-reader.ts';
import { readHandshakes } from '../../src/questions/handshake-reader.ts';
import { testQueryContext } from '../helpers/query-context.ts';

const FIXTURE = join(import.meta.dirname, '../fixtures/aws/tcp-flag-sequence.log');
const DIR = 'AWSLogs/123456789010/vpcflowlogs/us-east-1/2019/08/26';
const aug26 = validateFlowFilter({ timeRange: { from: '2019-08-26T00:00:00Z', to: '2019-08-27T00:00:00Z' } });

const manifestOf = async (data: string) =>
  JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
const listing = (m: Manifest) => m.files.map((f) => `${f.table} ${f.date} ${f.rows}`).sort();
// Derived at ingest (flows_daily is written by compact and retired by ingest: checked apart).
const derivedPaths = (m: Manifest) =>
  m.files
    .filter((f) => f.table !== 'flows' && !OPTIONAL_TABLES.includes(f.table))
    .map((f) => f.path)
    .sort();
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

async function answers(data: string) {
  const ctx = await testQueryContext(data);
  const hs = await readHandshakes(ctx, { filter: aug26, states: null, first: 10, after: null });
  const edges = await readEdges(ctx, { filter: aug26, level: 'INSTANCE', orderBy: 'BYTES', first: 10, offset: 0 });
  const m = await manifestOf(data);
  return {
    derived: connectionSource(m.files, aug26, 'edges', (f) => join(data, f.path)).derived,
    handshakes: hs.rows.map((r) => `${r.clientPort} ${r.state} closed=${r.closed} ${r.server.instanceId}`),
    edges: edges.rows.map(
      (e) =>
        `${e.client.id} -> ${e.server.id}:${e.serverPort} ${e.bytesToServer}/${e.bytesToClient} conn=${e.connections}`,
    ),
  };
}

describe('compact keeps the derived tables consistent', () => {
  it('merges the flows files of a day and leaves its derived files listed, present and answering the same', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-analytics-compact-'));
    const src = join(root, 'src');
    const data = join(root, 'data');
    await mkdir(join(src, DIR), { recursive: true });
    const [header, ...lines] = (await readFile(FIXTURE, 'utf8')).trimEnd().split('\n');
    const object = (n: number, part: string[]) =>
      writeFile(
        join(src, DIR, `123456789010_vpcflowlogs_us-east-1_fl-1_20190826T19${n}5Z_hash${n}.log`),
        `${[header, ...part].join('\n')}\n`,
      );
    const ingest = async () =>
      runIngest({ sources: [src], storage: await createLocalWarehouseStorage(data), derive: true, threads: 1 });

    await object(1, lines.slice(0, 4));
    await ingest();
    await object(2, lines.slice(4));
    await ingest();
    const before = await manifestOf(data);
    expect(listing(before)).toEqual([
      'edges 2019-08-26 1',
      'edges 2019-08-27 1',
      'flows 2019-08-26 2',
      'flows 2019-08-26 4',
      'flows 2019-08-27 2',
      'flows_hourly 2019-08-26 3',
      'flows_hourly 2019-08-27 2',
      'handshakes 2019-08-26 2',
      'handshakes 2019-08-27 1',
    ]);
    const expected = {
      derived: true,
      handshakes: [
        '43416 ESTABLISHED closed=false i-01234567890123456',
        '43418 ESTABLISHED closed=true i-01234567890123456',
      ],
      edges: ['52.213.180.42 -> i-01234567890123456:5001 23395857/64396 conn=2'],
    };
    expect(await answers(data)).toEqual(expected);

    const summary = await runCompact({ storage: await createLocalWarehouseStorage(data) });
    // 3 flows and 6 derived files (one hour each: nothing to merge) before; the two flows files of the 26th merged.
    expect([summary.partitionsCompacted, summary.filesBefore, summary.filesAfter, summary.rows]).toEqual([1, 9, 8, 6]);
    const after = await manifestOf(data);
    expect(listing(after)).toEqual([
      'edges 2019-08-26 1',
      'edges 2019-08-27 1',
      'edges_daily 2019-08-26 1',
      'edges_daily 2019-08-27 1',
      'flows 2019-08-26 6',
      'flows 2019-08-27 2',
      'flows_daily 2019-08-26 3',
      'flows_daily 2019-08-27 2',
      'flows_hourly 2019-08-26 3',
      'flows_hourly 2019-08-27 2',
      'handshakes 2019-08-26 2',
      'handshakes 2019-08-27 1',
    ]);
    // The very same derived files: compaction does not change a record, so there is nothing to re-derive.
    expect(derivedPaths(after)).toEqual(derivedPaths(before));
    for (const f of after.files) expect(await exists(join(data, f.path)), f.path).toBe(true);
    expect(await answers(data)).toEqual(expected);

    // A later object for the compacted day re-derives it from the merged file plus the new one: 43416's FIN arrives.
    await object(3, [
      '3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 40 1 1566848990 1566849050 ACCEPT 1 OK',
    ]);
    await ingest();
    const third = await manifestOf(data);
    // The day's edge rows changed: its edges_daily file is retired until the next compaction.
    const hourlyTables = (m: Manifest) =>
      listing(m).filter((l) => !l.startsWith('flows') && !l.startsWith('edges_daily'));
    expect(hourlyTables(third)).toEqual(hourlyTables(after));
    expect(listing(third)).not.toContain('edges_daily 2019-08-26 1');
    // Only the changed hour (19:00 on the 26th) was re-derived: the 27th's files, hours away, are the same files.
    const ofDay = (paths: string[], date: string) => paths.filter((p) => p.includes(`date=${date}`));
    expect(ofDay(derivedPaths(third), '2019-08-26').some((p) => derivedPaths(after).includes(p))).toBe(false);
    expect(ofDay(derivedPaths(third), '2019-08-27')).toEqual(ofDay(derivedPaths(after), '2019-08-27'));
    // The changed day's daily file is retired with nothing in its place; the 27th keeps its own.
    expect(third.files.filter((f) => f.table === 'flows_daily').map((f) => f.date)).toEqual(['2019-08-27']);
    expect(await answers(data)).toEqual({
      derived: true,
      handshakes: [
        '43416 ESTABLISHED closed=true i-01234567890123456',
        '43418 ESTABLISHED closed=true i-01234567890123456',
      ],
      edges: ['52.213.180.42 -> i-01234567890123456:5001 23395897/64396 conn=2'],
    });
  }, 120_000);

  it("merges a closed day's derived hour files into one per table; a later change to one of its hours re-derives that hour and carries the others' rows over, as from scratch", async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-analytics-compact-hours-'));
    const [header, ...lines] = (await readFile(FIXTURE, 'utf8')).trimEnd().split('\n');
    // The 26th's six lines (19:07-19:49) again two hours later, so the day has derived rows in hours 19 and 21.
    const shifted = (line: string, by: number) =>
      line
        .split(' ')
        .map((v, i) => (i === 16 || i === 17 ? String(Number(v) + by) : v))
        .join(' ');
    const day = [...lines.slice(0, 6), ...lines.slice(0, 6).map((l) => shifted(l, 7200))];
    const late = shifted(
      '3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 40 1 1566848990 1566849050 ACCEPT 1 OK',
      7200,
    );
    const write = async (src: string, n: number, part: string[]) => {
      await mkdir(join(src, DIR), { recursive: true });
      await writeFile(
        join(src, DIR, `123456789010_vpcflowlogs_us-east-1_fl-1_20190826T19${n}5Z_hash${n}.log`),
        `${[header, ...part].join('\n')}\n`,
      );
    };
    const ingest = async (src: string, data: string) =>
      runIngest({ sources: [src], storage: await createLocalWarehouseStorage(data), derive: true, threads: 1 });
    const [src, data] = [join(root, 'src'), join(root, 'data')];
    await write(src, 1, day);
    await ingest(src, data);
    const hoursOf = (m: Manifest) =>
      m.files
        .filter((f) => f.table !== 'flows')
        .map((f) => `${f.table} ${f.path.split('/').pop()!.slice(0, 'part-derived-h00'.length)} ${f.rows}`)
        .sort();
    expect(hoursOf(await manifestOf(data))).toEqual([
      'edges part-derived-h19 1',
      'edges part-derived-h21 1',
      'flows_hourly part-derived-h19 3',
      'flows_hourly part-derived-h21 3',
      'handshakes part-derived-h19 2',
      'handshakes part-derived-h21 2',
    ]);
    const split = await answers(data);
    expect(split.handshakes).toHaveLength(4);

    await runCompact({ storage: await createLocalWarehouseStorage(data) });
    const merged = await manifestOf(data);
    // Hours 19 and 21 hold the same exchanges: the day's daily file sums their 6 hourly rows into 3.
    expect(merged.files.filter((f) => f.table === 'flows_daily').map((f) => f.rows)).toEqual([3]);
    const names = merged.files
      .filter((f) => f.table !== 'flows' && !OPTIONAL_TABLES.includes(f.table))
      .map((f) => `${f.table} ${f.path.split('/').pop()!.slice(0, 'part-derived-h19-h21'.length)} ${f.rows}`)
      .sort();
    expect(names).toEqual([
      'edges part-derived-h19-h21 2',
      'flows_hourly part-derived-h19-h21 6',
      'handshakes part-derived-h19-h21 4',
    ]);
    expect(await answers(data)).toEqual(split);

    // A FIN of the shifted 43416 in hour 21: hours 20-22 are re-derived (21 with rows), and the merged files'
    // rows of hour 19 are carried into a file of their own.
    await write(src, 2, [late]);
    await ingest(src, data);
    const after = await manifestOf(data);
    expect(
      after.files
        .filter((f) => f.table !== 'flows')
        .map((f) => f.path.split('/').pop()!.slice(0, 'part-derived-h00'.length))
        .sort(),
    ).toEqual([
      'part-derived-h19',
      'part-derived-h19',
      'part-derived-h19',
      'part-derived-h21',
      'part-derived-h21',
      'part-derived-h21',
    ]);
    const [scratchSrc, scratch] = [join(root, 'scratch-src'), join(root, 'scratch')];
    await write(scratchSrc, 1, day);
    await write(scratchSrc, 2, [late]);
    await ingest(scratchSrc, scratch);
    const got = await answers(data);
    expect(got).toEqual(await answers(scratch));
    expect(got.handshakes.filter((h) => h.startsWith('43416'))).toEqual([
      '43416 ESTABLISHED closed=false i-01234567890123456',
      '43416 ESTABLISHED closed=true i-01234567890123456',
    ]);
  }, 120_000);

  it("a change at 00:10 on the 27th re-derives the 26th's last hour and carries the rest of its merged file; every row as from scratch", async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-analytics-compact-reach-'));
    const [header, ...lines] = (await readFile(FIXTURE, 'utf8')).trimEnd().split('\n');
    const at = (line: string, start: string) => {
      const v = line.split(' ');
      const by = Date.parse(start) / 1000 - Number(v[16]);
      return v.map((x, i) => (i === 16 || i === 17 ? String(Number(x) + by) : x)).join(' ');
    };
    // 43418's handshake at 23:55 on the 25th; its FIN records at 00:05 on the 26th take their direction method from
    // it (HANDSHAKE) only if the 26th's hour 0 reads the 25th's last half hour. 43416 at 23:00 on the 26th gives the
    // 26th a second hour, so compact merges its files (h00-h23); 43638 on the 27th.
    const first = [
      at(lines[2]!, '2019-08-25T23:55:00Z'),
      at(lines[3]!, '2019-08-25T23:55:00Z'),
      at(lines[4]!, '2019-08-26T00:05:00Z'),
      at(lines[5]!, '2019-08-26T00:05:00Z'),
      at(lines[0]!, '2019-08-26T23:00:00Z'),
      at(lines[1]!, '2019-08-26T23:00:00Z'),
      lines[6]!,
      lines[7]!,
    ];
    const late = [at(lines[0]!, '2019-08-27T00:10:00Z'), at(lines[1]!, '2019-08-27T00:10:00Z')];
    const write = async (src: string, n: number, part: string[]) => {
      await mkdir(join(src, DIR), { recursive: true });
      await writeFile(
        join(src, DIR, `123456789010_vpcflowlogs_us-east-1_fl-1_20190826T19${n}5Z_hash${n}.log`),
        `${[header, ...part].join('\n')}\n`,
      );
    };
    const ingest = async (src: string, data: string) =>
      runIngest({ sources: [src], storage: await createLocalWarehouseStorage(data), derive: true, threads: 1 });
    const [src, data, scratchSrc, scratch] = ['src', 'data', 'scratch-src', 'scratch'].map((d) => join(root, d)) as [
      string,
      string,
      string,
      string,
    ];
    await write(src, 1, first);
    await ingest(src, data);
    await runCompact({ storage: await createLocalWarehouseStorage(data) });
    const merged = (await manifestOf(data)).files.filter((f) => f.table === 'edges' && f.date === '2019-08-26');
    expect(merged.map((f) => f.path.split('/').pop()!.slice(0, 'part-derived-h00-h23'.length))).toEqual([
      'part-derived-h00-h23',
    ]);
    await write(src, 2, late);
    await ingest(src, data);
    // The late records' widened span reaches 23:40 on the 26th: its hour 23 is re-derived, hours 0-22 carried as they
    // were (before, the merged file was re-derived whole, and its hour 0 read the 25th).
    const split = (await manifestOf(data)).files.filter((f) => f.table === 'edges' && f.date === '2019-08-26');
    expect(split.map((f) => derivedFileHours(f.path)).sort((a, b) => a[0] - b[0])).toEqual([
      [0, 22],
      [23, 23],
    ]);
    await write(scratchSrc, 1, first);
    await write(scratchSrc, 2, late);
    await ingest(scratchSrc, scratch);

    const rowsOf = async (root: string) => {
      const m = await manifestOf(root);
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const out: string[] = [];
      // flows_daily: written by compact (only `data` was compacted), so compared apart.
      const derived = m.files.filter((x) => x.table !== 'flows' && !OPTIONAL_TABLES.includes(x.table));
      for (const f of derived.sort((a, b) => a.path.localeCompare(b.path))) {
        const rows = (
          await c.runAndReadAll(`SELECT * FROM read_parquet('${join(root, f.path)}', hive_partitioning = false)`)
        ).getRowObjectsJson();
        out.push(...rows.map((r) => `${f.table} ${f.date} ${JSON.stringify(r)}`));
      }
      c.closeSync();
      db.closeSync();
      return out.sort();
    };
    const got = await rowsOf(data);
    expect(got).toEqual(await rowsOf(scratch));
    // The late records changed the 27th only: its daily file is retired, the 25th's and 26th's stay.
    const daily = (await manifestOf(data)).files.filter((f) => f.table === 'flows_daily').map((f) => f.date);
    expect(daily.sort()).toEqual(['2019-08-25', '2019-08-26']);
    const edges26 = got
      .filter((r) => r.startsWith('edges 2019-08-26'))
      .map((r) => JSON.parse(r.slice(r.indexOf('{'))) as { bucket: string; method: string });
    expect(edges26.map((e) => `${e.bucket} ${e.method}`).sort()).toEqual([
      '2019-08-26 00:00:00 HANDSHAKE',
      '2019-08-26 23:00:00 HANDSHAKE',
    ]);
  }, 120_000);
});
