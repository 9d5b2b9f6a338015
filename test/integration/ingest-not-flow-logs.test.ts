// What a real bucket or folder holds besides flow logs, and wrong paths, through the real `flowql` command:
// objects that are not flow logs are skipped once with their reason (exit 0, never retried unless changed), a
// truncated gzip is a read failure (exit 3, retried), a missing source or warehouse writes nothing, and a line with a
// NUL or an invalid UTF-8 byte is that line's reject while the rest of its object loads.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { runIngest, type IngestSummary } from '../../src/ingest/ingest-run.ts';
import { notAWarehouseReason } from '../../src/store/warehouse-presence.ts';
import { gqlData, testApi } from '../helpers/graphql.ts';
import { startServeProcess } from '../helpers/serve-process.ts';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');
const DIR = 'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const rec = (eni: string, bytes: number) =>
  `2 111122223333 ${eni} 10.1.0.1 10.1.0.2 443 50000 6 1 ${bytes} 1700000000 1700000060 ACCEPT OK`;
const flowLog = (lines: string[]) => gzipSync(`${HEADER}\n${lines.join('\n')}\n`);

async function flowql(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

async function ledger(data: string, query: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(join(data, '_flowql/ledger.duckdb'), { access_mode: 'READ_ONLY' });
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(query)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
const byName = (list: readonly { uri: string; reason: string }[]) =>
  Object.fromEntries(list.map((n) => [basename(n.uri), n.reason]));

describe('objects that are not flow logs', () => {
  it('are skipped once with their reason (exit 0 twice), shown in ingestStatus, and read again only when they change', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-not-flow-logs-'));
    const src = join(root, 'out');
    const data = join(root, 'data');
    await mkdir(join(src, DIR), { recursive: true });
    await mkdir(join(src, 'AWSLogs/111122223333/CloudTrail-Digest'), { recursive: true });
    await writeFile(join(src, DIR, 'a.log.gz'), flowLog([rec('eni-a1', 10), rec('eni-a2', 20)]));
    // What `flowql generate` writes beside the flow logs, and what real buckets hold.
    await writeFile(
      join(src, 'ground-truth.json'),
      JSON.stringify({ seed: 7, records: 2, totals: { bytes: 30 } }, null, 1),
    );
    await writeFile(join(src, DIR, '_SUCCESS'), '');
    await writeFile(
      join(
        src,
        'AWSLogs/111122223333/CloudTrail-Digest/111122223333_CloudTrail-Digest_eu-west-1_20231114T000000Z.json.gz',
      ),
      gzipSync(JSON.stringify({ awsAccountId: '111122223333', digestStartTime: '2023-11-14T00:00:00Z', logFiles: [] })),
    );
    await writeFile(
      join(src, 'README.txt'),
      'Flow logs of the eu-west-1 VPCs.\nAsk the network team before deleting.\n',
    );
    await writeFile(
      join(src, DIR, 'notes.log.gz'),
      gzipSync('hello world\nthis is not a flow log, though it is gzip text\n'),
    );
    await writeFile(
      join(src, 'cw.json'),
      JSON.stringify({
        messageType: 'DATA_MESSAGE',
        owner: '111122223333',
        logGroup: 'g',
        logStream: 's',
        logEvents: [],
      }),
    );

    const first = await flowql(['ingest', src, '--data', data, '--json']);
    expect(first.stderr).not.toMatch(/failed \(will retry/);
    expect(first.code).toBe(0);
    const s1 = JSON.parse(first.stdout) as IngestSummary;
    expect(s1.objects).toEqual({ listed: 7, loaded: 1, skipped: 0, replaced: 0, notFlowLogs: 6, failed: 0 });
    expect([s1.records, s1.rejects, s1.failures]).toEqual([2, 0, []]);
    const reasons = byName(s1.notFlowLogs);
    expect(Object.keys(reasons).sort()).toEqual([
      '111122223333_CloudTrail-Digest_eu-west-1_20231114T000000Z.json.gz',
      'README.txt',
      '_SUCCESS',
      'cw.json',
      'ground-truth.json',
      'notes.log.gz',
    ]);
    expect(reasons['ground-truth.json']).toBe(
      'not a flow log: a JSON document (a digest, manifest or metadata file?), not a flow log',
    );
    expect(reasons['111122223333_CloudTrail-Digest_eu-west-1_20231114T000000Z.json.gz']).toMatch(/a JSON document/);
    expect(reasons['cw.json']).toMatch(/^not a flow log: a CloudWatch Logs subscription payload: .*flowql parse/);
    expect(reasons._SUCCESS).toBe('not a flow log: empty object (no header, no records)');
    expect(reasons['README.txt']).toMatch(
      /^not a flow log: first line 'Flow logs of the eu-west-1 VPCs\.' is neither a header/,
    );
    expect(reasons['notes.log.gz']).toMatch(/^not a flow log: first line 'hello world' is neither a header/);

    // The same command again: nothing read, nothing reported, exit 0; the text summary says what was skipped.
    const second = await flowql(['ingest', src, '--data', data]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(
      /^objects {6}7 listed, 0 loaded \(0 replaced a changed version\), 7 unchanged since last run, 0 not flow logs \(skipped\), 0 failed$/m,
    );
    expect(second.stdout).not.toMatch(/^skipped /m);
    const states = 'SELECT state, count(*)::INTEGER AS n FROM sources GROUP BY 1 ORDER BY 1';
    expect(await ledger(data, states)).toEqual([
      { state: 'loaded', n: 1 },
      { state: 'skipped', n: 6 },
    ]);
    expect(await ledger(data, "SELECT error FROM sources WHERE uri LIKE '%/_SUCCESS'")).toEqual([
      { error: 'not a flow log: empty object (no header, no records)' },
    ]);

    const { yoga, db } = await testApi(data);
    try {
      const status = await gqlData<{ ingestStatus: { objects: number; skippedObjects: number; records: string } }>(
        yoga,
        '{ ingestStatus { objects skippedObjects records } }',
      );
      expect(status.ingestStatus).toEqual({ objects: 1, skippedObjects: 6, records: '2' });
    } finally {
      db.closeSync();
    }

    // A skipped object that changes is read again (still not a flow log: one row for it, the new version).
    const readme = join(src, 'README.txt');
    await writeFile(readme, 'Flow logs of the eu-west-1 VPCs, kept 90 days.\n');
    await utimes(readme, new Date(), new Date(Date.now() + 5000));
    const ingest = async () =>
      runIngest({ sources: [src], storage: await createLocalWarehouseStorage(data), derive: false, threads: 1 });
    const third = await ingest();
    expect(third.objects).toEqual({ listed: 7, loaded: 0, skipped: 6, replaced: 0, notFlowLogs: 1, failed: 0 });
    expect(await ledger(data, "SELECT count(*)::INTEGER AS n FROM sources WHERE uri LIKE '%README.txt'")).toEqual([
      { n: 1 },
    ]);

    // ... and becomes a flow log: loaded, its skipped row gone. The loaded a.log.gz overwritten by junk: its rows go.
    await writeFile(readme, flowLog([rec('eni-r1', 5)]));
    await utimes(readme, new Date(), new Date(Date.now() + 10_000));
    await writeFile(join(src, DIR, 'a.log.gz'), 'overwritten by mistake\n');
    await utimes(join(src, DIR, 'a.log.gz'), new Date(), new Date(Date.now() + 10_000));
    const fourth = await ingest();
    expect(fourth.objects).toEqual({ listed: 7, loaded: 1, skipped: 5, replaced: 0, notFlowLogs: 1, failed: 0 });
    expect(byName(fourth.notFlowLogs)['a.log.gz']).toMatch(/^not a flow log: first line 'overwritten by mistake'/);
    expect(await ledger(data, states)).toEqual([
      { state: 'loaded', n: 1 },
      { state: 'skipped', n: 6 },
      { state: 'superseded', n: 1 },
    ]);
    const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as {
      ingest: Record<string, number>;
    };
    expect(manifest.ingest).toMatchObject({ objects: 1, records: 1, skippedObjects: 6 });
  });

  it('a truncated gzip is a read failure: exit 3, retried on every run, one ledger row', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-truncated-'));
    const src = join(root, 'src', DIR);
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'good.log.gz'), flowLog([rec('eni-g', 1)]));
    const whole = flowLog(Array.from({ length: 400 }, (_, i) => rec(`eni-${i}`, i)));
    await writeFile(join(src, 'broken.log.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    const data = join(root, 'data');
    for (const run of [1, 2]) {
      const r = await flowql(['ingest', join(root, 'src'), '--data', data, '--json']);
      expect(r.code, r.stderr).toBe(3);
      const s = JSON.parse(r.stdout) as IngestSummary;
      expect(s.objects).toMatchObject({
        loaded: run === 1 ? 1 : 0,
        skipped: run === 1 ? 0 : 1,
        notFlowLogs: 0,
        failed: 1,
      });
      expect(s.failures[0]!.uri).toBe(join(src, 'broken.log.gz'));
      expect(s.failures[0]!.error).toMatch(/unexpected end of file|truncated/i);
    }
    expect(
      await ledger(
        data,
        "SELECT state, count(*)::INTEGER AS n FROM sources WHERE uri LIKE '%broken.log.gz' GROUP BY 1",
      ),
    ).toEqual([{ state: 'failed', n: 1 }]);
  });
});

describe('wrong paths write nothing', () => {
  it('ingest of a missing source exits 4 naming it, with and without --watch, and creates no warehouse', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-missing-'));
    await mkdir(join(root, 'logs'));
    const data = join(root, 'data');
    const missing = join(root, 'no-such-folder');
    const [once, watch] = await Promise.all([
      flowql(['ingest', join(root, 'logs'), missing, '--data', data]),
      flowql(['ingest', missing, '--data', data, '--watch', '--interval', '1']),
    ]);
    for (const r of [once, watch]) {
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`flowql ingest: source ${missing}: no such file or folder`);
      expect(r.stderr).toContain(`nothing was written to ${data}`);
    }
    expect(await exists(data)).toBe(false);

    // An existing but empty source makes an initialised, empty warehouse: that is a warehouse.
    expect(await notAWarehouseReason(root)).toMatch(/is not a flowql warehouse \(no _flowql\/ folder\)/);
    const empty = await flowql(['ingest', join(root, 'logs'), '--data', data, '--json']);
    expect(empty.code).toBe(0);
    expect(await exists(join(data, '_flowql/manifest.json'))).toBe(true);
    expect(await notAWarehouseReason(data)).toBeNull();
  });

  it('serve of a missing --data says so at start, /ready explains, and no folder is created', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-serve-missing-'));
    const data = join(root, 'typo');
    const serve = await startServeProcess(['--data', data, '--port', '0', '--no-graphiql']);
    const url = serve.graphqlUrl.replace(/\/graphql$/, '');
    try {
      const warned = serve
        .stdout()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(warned.find((l) => l.level === 40 && l.msg.startsWith(data))?.msg).toBe(
        `${data} does not exist: create it with \`flowql ingest SOURCE --data ${data}\` (or \`flowql serve --demo\` for demo data); serving no data until then (/ready is 503)`,
      );
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: { name: string; ok: boolean; detail: string }[] };
      expect(body.checks.find((c) => c.name === 'manifest')).toEqual({
        name: 'manifest',
        ok: false,
        detail: `${data} does not exist: create it with \`flowql ingest SOURCE --data ${data}\` (or \`flowql serve --demo\` for demo data)`,
      });
    } finally {
      await serve.stop();
    }
    expect(await exists(data)).toBe(false);
  });
});

describe('a damaged line', () => {
  it('a NUL or an invalid UTF-8 byte in the first 4 KB rejects that line only; the other 20 load, once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-damaged-'));
    const src = join(root, 'src', DIR);
    await mkdir(src, { recursive: true });
    const lines: Buffer[] = Array.from({ length: 21 }, (_, i) => Buffer.from(rec(`eni-${i + 1}`, i + 1)));
    const object = (damaged: Buffer, at: number) => {
      const all = [...lines];
      all[at] = damaged;
      return Buffer.concat([Buffer.from(`${HEADER}\n`), ...all.flatMap((l) => [l, Buffer.from('\n')])]);
    };
    const withNul = Buffer.concat([
      Buffer.from('2 111122223333 eni-x'),
      Buffer.from([0]),
      Buffer.from(' 10.1.0.1 10.1.0.2 443 50000 6 1 5 1700000000 1700000060 ACCEPT OK'),
    ]);
    const withFf = Buffer.from(
      '2 111122223333 eni-1 10.1.0.1 10.1.0.2 443 50000 6 1 5 1700000000 1700000060 ACC\xffPT OK',
      'latin1',
    );
    await writeFile(join(src, 'nul.log'), object(withNul, 4)); // line 6 of the object (the header is line 1)
    await writeFile(join(src, 'ff.log.gz'), gzipSync(object(withFf, 7))); // line 9
    const data = join(root, 'data');
    const ingest = async () =>
      runIngest({
        sources: [join(root, 'src')],
        storage: await createLocalWarehouseStorage(data),
        derive: false,
        threads: 1,
      });
    const first = await ingest();
    expect(first.objects).toMatchObject({ loaded: 2, notFlowLogs: 0, failed: 0 });
    expect([first.records, first.rejects]).toEqual([40, 2]);
    expect(
      await ledger(
        data,
        'SELECT s.uri, r.line::INTEGER AS line, r.field, r.reason, r.text FROM rejects r JOIN sources s USING (source_id) ORDER BY line',
      ),
    ).toEqual([
      {
        uri: join(src, 'nul.log'),
        line: 6,
        field: 'interface-id',
        reason: 'interface-id: a NUL byte (byte 21 of the line)',
        text: '2 111122223333 eni-x\\x00 10.1.0.1 10.1.0.2 443 50000 6 1 5 1700000000 1700000060 ACCEPT OK',
      },
      {
        uri: join(src, 'ff.log.gz'),
        line: 9,
        field: 'action',
        reason: 'action: byte 0xff is not valid UTF-8 (byte 81 of the line)',
        text: '2 111122223333 eni-1 10.1.0.1 10.1.0.2 443 50000 6 1 5 1700000000 1700000060 ACC\\xffPT OK',
      },
    ]);
    expect(
      await ledger(data, 'SELECT sum(records)::INTEGER AS records, sum(rejects)::INTEGER AS rejects FROM sources'),
    ).toEqual([{ records: 40, rejects: 2 }]);
    const again = await ingest();
    expect(again.objects).toMatchObject({ loaded: 0, skipped: 2, failed: 0 });
  });
});
