/** scans, edgeDiff and the node graph, over real Parquet: hand-counted expectations next to each fixture. */
import { beforeAll, describe, expect, it } from 'vitest';
import { edgeDiffQuery } from '../../../src/analytics/edge-diff-query.ts';
import { edgeGraphFromRows } from '../../../src/questions/edge-graph.ts';
import { edgeQuery } from '../../../src/analytics/edge-query.ts';
import { edgeRowsFromFlowsSql } from '../../../src/analytics/edge-rows-query.ts';
import { handshakesFromFlowsSql } from '../../../src/analytics/handshake-query.ts';
import { rejectedRecordsSql, scanQuery } from '../../../src/analytics/scan-query.ts';
import { validateFlowFilter } from '../../../src/domain/flow-filter.ts';
import { sql } from '../../../src/store/sql.ts';
import { openAnalyticsDb, rec, t, writeFlowFiles, type FixtureRecord } from '../../helpers/analytics-fixture.ts';
import * as C from './connection-cases.ts';

let db: Awaited<ReturnType<typeof openAnalyticsDb>>;
beforeAll(async () => {
  db = await openAnalyticsDb();
});

const edgeRows = async (records: FixtureRecord[]) =>
  sql`(${edgeRowsFromFlowsSql({ files: (await writeFlowFiles(records)).files })})`;

describe('scans', () => {
  // 10.0.0.99 probes 10.0.0.5 on 21, 22, 23, 25, 80 and 3389: 22 and 80 answer (SYN-ACK), 3389 is rejected, the
  // other three get nothing. Failed: 21, 23, 25 (UNANSWERED) and 3389 (REJECTED) = 4 ports on 1 host.
  const srv = { interface_id: 'eni-srv', instance_id: 'i-srv', subnet_id: 'subnet-a', vpc_id: 'vpc-1' };
  const at = t('2024-03-01T12:00:00');
  const probes: FixtureRecord[] = [21, 22, 23, 25, 80, 3389].flatMap((port, i) => [
    rec({
      ...srv,
      srcaddr: '10.0.0.99',
      dstaddr: '10.0.0.5',
      srcport: 50000 + i,
      dstport: port,
      flow_direction: 'ingress',
      tcp_flags: 2,
      action: port === 3389 ? 'REJECT' : 'ACCEPT',
      start: at + i,
    }),
    ...(port === 22 || port === 80
      ? [
          rec({
            ...srv,
            srcaddr: '10.0.0.5',
            dstaddr: '10.0.0.99',
            srcport: port,
            dstport: 50000 + i,
            flow_direction: 'egress',
            tcp_flags: 18,
            start: at + i,
          }),
        ]
      : []),
  ]);

  const day = validateFlowFilter(
    { timeRange: { from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' } },
    { maxRangeMs: Number.MAX_SAFE_INTEGER },
  );
  const scans = async (records: FixtureRecord[], minPorts: number, minHosts: number) => {
    const { files } = await writeFlowFiles(records);
    return db.run(
      scanQuery({
        rows: sql`(${handshakesFromFlowsSql({ files })})`,
        records: rejectedRecordsSql(files, day),
        minPorts,
        minHosts,
        limit: 10,
      }),
    );
  };

  it('lists the scanning source with its counts', async () => {
    const rows = await scans([...probes, ...C.SSH], 3, 3);
    expect(
      rows.map((r) => [
        r.source_addr,
        r.evidence,
        r.syns,
        r.failed,
        r.rejected,
        r.unanswered,
        r.rejected_records,
        r.failed_ports,
        r.failed_hosts,
      ]),
    ).toEqual([['10.0.0.99', 'FAILED_HANDSHAKES', 6n, 4n, 1n, 3n, null, 4n, 1n]]);
  });

  // The same probes logged in the v2 format (no tcp-flags, no direction): only the rejected records tell. 10.0.0.99
  // probes 10.0.0.5 and 10.0.0.6 on 21, 23, 25 and 3389, all REJECT: 4 ports, 2 hosts, 8 targets, 8 records. Not
  // listed: 10.0.0.5's replies from 443 to 198.51.100.1-4's ephemeral ports, dropped by an ACL (4 hosts, 4 ports,
  // but each source port is below its destination port); an accepted exchange of 10.0.0.7 with 5 ports.
  const v2 = { version: 2, interface_id: 'eni-srv' };
  const v2Probes: FixtureRecord[] = ['10.0.0.5', '10.0.0.6'].flatMap((dst, h) =>
    [21, 23, 25, 3389].map((port, i) =>
      rec({
        ...v2,
        srcaddr: '10.0.0.99',
        dstaddr: dst,
        srcport: 50000,
        dstport: port,
        action: 'REJECT',
        start: at + 4 * h + i,
      }),
    ),
  );
  const replies: FixtureRecord[] = [1, 2, 3, 4].map((n) =>
    rec({
      ...v2,
      srcaddr: '10.0.0.5',
      dstaddr: `198.51.100.${n}`,
      srcport: 443,
      dstport: 40000 + n,
      action: 'REJECT',
      start: at,
    }),
  );
  const accepted: FixtureRecord[] = [80, 443, 8080, 8443, 9000].map((port) =>
    rec({ ...v2, srcaddr: '10.0.0.7', dstaddr: '10.0.0.5', srcport: 50100, dstport: port, start: at }),
  );

  it('lists a source of rejected records without tcp-flags, and neither replies nor accepted records', async () => {
    const rows = await scans([...v2Probes, ...replies, ...accepted], 3, 3);
    expect(
      rows.map((r) => [
        r.source_addr,
        r.evidence,
        r.source_kind,
        r.syns,
        r.rejected_records,
        r.failed_ports,
        r.failed_hosts,
        r.failed_targets,
        r.first_seen,
        r.last_seen,
      ]),
    ).toEqual([
      [
        '10.0.0.99',
        'REJECTED_RECORDS',
        null,
        null,
        8n,
        4n,
        2n,
        8n,
        new Date('2024-03-01T12:00:00Z'),
        new Date('2024-03-01T12:00:07Z'),
      ],
    ]);
  });

  it('lists a source once: on its handshakes when they pass, else on its rejected records', async () => {
    // The handshake probes (4 failed ports) and the v2 ones (4 ports) from the same 10.0.0.99.
    const both = await scans([...probes, ...v2Probes], 3, 3);
    expect(both.map((r) => [r.source_addr, r.evidence, r.failed_ports])).toEqual([
      ['10.0.0.99', 'FAILED_HANDSHAKES', 4n],
    ]);
    // minPorts 5: neither passes on ports; minHosts 2: only the v2 records (2 hosts) pass, the handshakes (1 host) do not.
    const records = await scans([...probes, ...v2Probes], 5, 2);
    expect(records.map((r) => [r.source_addr, r.evidence, r.failed_hosts])).toEqual([
      ['10.0.0.99', 'REJECTED_RECORDS', 2n],
    ]);
  });
});

describe('edgeDiff', () => {
  it('reports the SSH edge as gone and the instance pair as new, biggest change first', async () => {
    const rows = await db.run(
      edgeDiffQuery({
        before: await edgeRows(C.SSH),
        after: await edgeRows(C.INSTANCE_TO_INSTANCE),
        level: 'INSTANCE',
        minFactor: 2,
        limit: 10,
      }),
    );
    expect(rows.map((r) => [r.client_id, r.server_id, r.change, r.before_bytes, r.after_bytes])).toEqual([
      ['i-a', 'i-b', 'APPEARED', 0n, 60120n],
      ['198.51.100.7', 'i-srv', 'DISAPPEARED', 12000n, 0n],
    ]);
  });

  it('keeps an edge whose bytes changed by the factor and drops one that changed less', async () => {
    // The same SSH edge doubled (factor 2) versus +50% (factor 1.5), compared with minFactor 2.
    const doubled = C.SSH.map((r) => ({ ...r, bytes: Number(r.bytes) * 2 }));
    const rows = await db.run(
      edgeDiffQuery({
        before: await edgeRows(C.SSH),
        after: await edgeRows(doubled),
        level: 'INSTANCE',
        minFactor: 2,
        limit: 10,
      }),
    );
    expect(rows.map((r) => [r.change, r.before_bytes, r.after_bytes])).toEqual([['CHANGED', 12000n, 24000n]]);
    const more = C.SSH.map((r) => ({ ...r, bytes: Number(r.bytes) * 1.5 }));
    expect(
      await db.run(
        edgeDiffQuery({
          before: await edgeRows(C.SSH),
          after: await edgeRows(more),
          level: 'INSTANCE',
          minFactor: 2,
          limit: 10,
        }),
      ),
    ).toEqual([]);
  });
});

describe('edge graph', () => {
  it('shapes nodes and edges for the node graph panel and flags truncation', async () => {
    const rows = await db.run(
      edgeQuery({
        rows: await edgeRows([...C.INSTANCE_TO_INSTANCE, ...C.NAT_PATH]),
        level: 'INSTANCE',
        orderBy: 'BYTES',
        limit: 10,
        offset: 0,
      }),
    );
    const graph = edgeGraphFromRows(rows, 10);
    expect(graph.edges.map((e) => [e.source, e.target, e.mainStat])).toEqual([
      ['i-a', 'i-b', '60.1 kB'],
      ['i-app', '203.0.113.5', '6.0 kB'],
    ]);
    expect(graph.nodes.map((n) => [n.id, n.arc__instance, n.arc__external])).toEqual([
      ['i-a', 1, 0],
      ['i-b', 1, 0],
      ['i-app', 1, 0],
      ['203.0.113.5', 0, 1],
    ]);
    expect(graph.truncated).toBe(false);
    expect(edgeGraphFromRows(rows, 1)).toMatchObject({ truncated: true, edges: [{ id: 'i-a->i-b/6/5432' }] });
  });
});

describe('a page of edges with only some columns', () => {
  it('computes the asked measures and the order, reads the rows once and describes no end', async () => {
    const query = edgeQuery({
      rows: await edgeRows([...C.INSTANCE_TO_INSTANCE, ...C.NAT_PATH]),
      level: 'INSTANCE',
      orderBy: 'NAT_BYTES',
      limit: 10,
      offset: 0,
      columns: { measures: ['connections'], described: false },
    });
    // One pass: no CTE to materialize, no second pass over the page's rows.
    expect(query.text).not.toContain('described AS');
    expect(query.text).not.toContain('SEMI JOIN page');
    expect(query.text).not.toContain('sum(packets_to_server)');
    const rows = await db.run(query);
    expect(rows.map((r) => Object.keys(r).sort())).toEqual([
      ['client_id', 'connections', 'nat_bytes', 'protocol', 'server_id', 'server_port'],
      ['client_id', 'connections', 'nat_bytes', 'protocol', 'server_id', 'server_port'],
    ]);
    // The NAT path first (6000 bytes through the gateway), then the instance pair (none).
    expect(rows.map((r) => [r.client_id, r.server_id, String(r.nat_bytes), String(r.connections)])).toEqual([
      ['i-app', '203.0.113.5', '6000', '1'],
      ['i-a', 'i-b', '0', '1'],
    ]);
  });
});
