/** scans, edgeDiff and the node graph, over real Parquet: hand-counted expectations next to each fixture. */
import { beforeAll, describe, expect, it } from 'vitest';
import { edgeDiffQuery } from '../../../src/analytics/edge-diff-query.ts';
import { edgeGraphFromRows } from '../../../src/analytics/edge-graph.ts';
import { edgeQuery } from '../../../src/analytics/edge-query.ts';
import { edgeRowsFromFlowsSql } from '../../../src/analytics/edge-rows-query.ts';
import { handshakesFromFlowsSql } from '../../../src/analytics/handshake-query.ts';
import { scanQuery } from '../../../src/analytics/scan-query.ts';
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

  it('lists the scanning source with its counts', async () => {
    const { files } = await writeFlowFiles([...probes, ...C.SSH]);
    const rows = await db.run(
      scanQuery({ rows: sql`(${handshakesFromFlowsSql({ files })})`, minPorts: 3, minHosts: 3, limit: 10 }),
    );
    expect(
      rows.map((r) => [r.source_addr, r.syns, r.failed, r.rejected, r.unanswered, r.failed_ports, r.failed_hosts]),
    ).toEqual([['10.0.0.99', 6n, 4n, 1n, 3n, 4n, 1n]]);
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
