/**
 * Counting once and telling who is who when records lack flow-direction (own-address-query.ts, edge-rows-query.ts):
 * hand-built v2/v3 records of single-peer exchanges, each case with its expected numbers worked out next to it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { edgeRowsFromFlowsQuery } from '../../../src/analytics/edge-rows-query.ts';
import { handshakesFromFlowsQuery } from '../../../src/analytics/handshake-query.ts';
import type { Row } from '../../../src/store/query-runner.ts';
import { openAnalyticsDb, rec, t, writeFlowFiles, type FixtureRecord } from '../../helpers/analytics-fixture.ts';

let db: Awaited<ReturnType<typeof openAnalyticsDb>>;
beforeAll(async () => {
  db = await openAnalyticsDb();
});

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const side = (e: Row, s: 'client' | 'server') =>
  `${e[`${s}_kind`]}:${e[`${s}_instance_id`] ?? e[`${s}_interface_id`] ?? e[`${s}_addr`]}`;
async function edgesOf(records: FixtureRecord[]) {
  const { files } = await writeFlowFiles(records);
  const rows = await db.run(edgeRowsFromFlowsQuery({ files }));
  return rows.map((e) => ({
    client: side(e, 'client'),
    server: side(e, 'server'),
    port: n(e.server_port),
    toServer: n(e.bytes_to_server),
    toClient: n(e.bytes_to_client),
    packets: `${n(e.packets_to_server)}/${n(e.packets_to_client)}`,
    records: n(e.records),
    rejected: n(e.rejected_records),
    observed: e.observed_interfaces,
  }));
}

const W = t('2024-03-01T10:00:00');
const x = { version: 2, interface_id: 'eni-x' };
const y = { version: 2, interface_id: 'eni-y' };
const c2s = { srcaddr: '10.0.1.10', dstaddr: '10.0.2.20', srcport: 51000, dstport: 8080 };
const s2c = { srcaddr: '10.0.2.20', dstaddr: '10.0.1.10', srcport: 8080, dstport: 51000 };
/** One v2 exchange between two monitored interfaces, nothing else: each logs both tuples, identically. */
const mirror = (a: object, b: object): FixtureRecord[] => [
  rec({ ...a, ...c2s, bytes: 700, packets: 7, start: W }),
  rec({ ...a, ...s2c, bytes: 3000, packets: 9, start: W }),
  rec({ ...b, ...c2s, bytes: 700, packets: 7, start: W }),
  rec({ ...b, ...s2c, bytes: 3000, packets: 9, start: W }),
];

describe('exact edges without flow-direction', () => {
  it('v2 single-peer exchange logged identically at both ends: bytes once, both ends UNRESOLVED (no signal)', async () => {
    // Naive sum 2 x (700 + 3000) = 7400; once: 700 to the server, 3000 back. Which interface holds 10.0.1.10 cannot be
    // read from these records, so the ends stay addresses, with both interfaces as observation points.
    expect(await edgesOf(mirror(x, y))).toEqual([
      {
        client: 'UNRESOLVED:10.0.1.10',
        server: 'UNRESOLVED:10.0.2.20',
        port: 8080,
        toServer: 700,
        toClient: 3000,
        packets: '7/9',
        records: 4,
        rejected: 0,
        observed: ['eni-x', 'eni-y'],
      },
    ]);
  });

  it('v3: the subnet tells them apart (a third interface in subnet-a holds 10.0.1.50)', async () => {
    const x3 = { version: 3, interface_id: 'eni-x', instance_id: 'i-x', subnet_id: 'subnet-a' };
    const y3 = { version: 3, interface_id: 'eni-y', instance_id: 'i-y', subnet_id: 'subnet-b' };
    const z3 = { version: 3, interface_id: 'eni-z', instance_id: 'i-z', subnet_id: 'subnet-a' };
    // z talks to the internet twice, so 10.0.1.50 is surely z's: 10.0.1.10 shares 26 leading bits with it, 10.0.2.20
    // only 22, so 10.0.1.10 is x's; then 10.0.2.20 is y's (10.0.1.10 is taken).
    const z = [
      rec({ ...z3, srcaddr: '10.0.1.50', dstaddr: '198.51.100.1', srcport: 40000, dstport: 443, bytes: 10, start: W }),
      rec({ ...z3, srcaddr: '198.51.100.1', dstaddr: '10.0.1.50', srcport: 443, dstport: 40000, bytes: 20, start: W }),
    ];
    const edges = await edgesOf([...mirror(x3, y3), ...z]);
    expect(edges.filter((e) => e.port === 8080)).toEqual([
      {
        client: 'INSTANCE:i-x',
        server: 'INSTANCE:i-y',
        port: 8080,
        toServer: 700,
        toClient: 3000,
        packets: '7/9',
        records: 4,
        rejected: 0,
        observed: ['eni-x', 'eni-y'],
      },
    ]);
  });

  it('v3 with both ends in one subnet: the prefix says nothing, the ends stay UNRESOLVED', async () => {
    const x3 = { version: 3, interface_id: 'eni-x', instance_id: 'i-x', subnet_id: 'subnet-a' };
    const y3 = { version: 3, interface_id: 'eni-y', instance_id: 'i-y', subnet_id: 'subnet-a' };
    const z = [
      rec({
        version: 3,
        interface_id: 'eni-z',
        subnet_id: 'subnet-a',
        srcaddr: '10.0.1.50',
        dstaddr: '198.51.100.1',
        srcport: 40000,
        dstport: 443,
        start: W,
      }),
    ];
    const edges = await edgesOf([...mirror(x3, y3), ...z]);
    expect(edges.filter((e) => e.port === 8080).map((e) => [e.client, e.server, e.toServer, e.toClient])).toEqual([
      ['UNRESOLVED:10.0.1.10', 'UNRESOLVED:10.0.2.20', 700, 3000],
    ]);
  });

  it('v2 SYN rejected at one end and accepted at the other: the rejecting interface is the receiver', async () => {
    // A packet dropped on its way out never reaches a second interface, so eni-y (REJECT) owns 10.0.2.20, and eni-x
    // the other address. 2 records, 120 bytes once (not 240).
    const syn = {
      srcaddr: '10.0.1.10',
      dstaddr: '10.0.2.20',
      srcport: 51000,
      dstport: 445,
      bytes: 120,
      packets: 2,
      start: W,
    };
    const edges = await edgesOf([rec({ ...x, ...syn }), rec({ ...y, ...syn, action: 'REJECT' })]);
    expect(edges).toEqual([
      {
        client: 'INTERFACE:eni-x',
        server: 'INTERFACE:eni-y',
        port: 445,
        toServer: 120,
        toClient: null,
        packets: '2/null',
        records: 2,
        rejected: 1,
        observed: ['eni-x', 'eni-y'],
      },
    ]);
  });

  it("a stretch only the receiver saw still counts: the sender's interface was monitored from the second window", async () => {
    // Receiver y (v5) logs windows 1 and 2 (ingress 500 and 800); sender x's egress record exists for window 2 only
    // (800). Once: 500 (y, nothing better covers window 1) + 800 (x) = 1300; the per-day "best observer" rule would
    // have said 800.
    const xv = { interface_id: 'eni-x', instance_id: 'i-x', flow_direction: 'egress' };
    const yv = { interface_id: 'eni-y', instance_id: 'i-y', flow_direction: 'ingress' };
    const edges = await edgesOf([
      rec({ ...yv, ...c2s, bytes: 500, packets: 5, start: W }),
      rec({ ...yv, ...c2s, bytes: 800, packets: 8, start: W + 600 }),
      rec({ ...xv, ...c2s, bytes: 800, packets: 8, start: W + 590 }),
    ]);
    expect(edges.map((e) => [e.client, e.server, e.toServer, e.packets, e.records])).toEqual([
      ['INSTANCE:i-x', 'INSTANCE:i-y', 1300, '13/null', 3],
    ]);
  });

  it('handshakes of an unresolved pair: one ESTABLISHED handshake at both interfaces, ends UNRESOLVED', async () => {
    const x3 = { version: 3, interface_id: 'eni-x', instance_id: 'i-x', subnet_id: 'subnet-a' };
    const y3 = { version: 3, interface_id: 'eni-y', instance_id: 'i-y', subnet_id: 'subnet-a' };
    const records = mirror(x3, y3).map((r) => ({ ...r, tcp_flags: r.srcport === 51000 ? 2 : 18 }));
    const { files } = await writeFlowFiles(records);
    const hs = await db.run(handshakesFromFlowsQuery({ files }));
    expect(
      hs.map((h) => [h.client_addr, h.server_addr, h.state, h.client_kind, h.server_kind, h.observed_interfaces]),
    ).toEqual([['10.0.1.10', '10.0.2.20', 'ESTABLISHED', 'UNRESOLVED', 'UNRESOLVED', ['eni-x', 'eni-y']]]);
  });
});
