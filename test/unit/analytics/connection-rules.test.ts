/**
 * docs/semantics.md §7: every case, run through the real builders on real Parquet with DuckDB. The records are in
 * connection-cases.ts; each expected number below is worked out in the comment next to it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { edgeRowsFromFlowsQuery } from '../../../src/analytics/edge-rows-query.ts';
import { handshakesFromFlowsQuery } from '../../../src/analytics/handshake-query.ts';
import type { Row } from '../../../src/store/query-runner.ts';
import { openAnalyticsDb, writeFlowFiles, type FixtureRecord } from '../../helpers/analytics-fixture.ts';
import * as C from './connection-cases.ts';

let db: Awaited<ReturnType<typeof openAnalyticsDb>>;
beforeAll(async () => {
  db = await openAnalyticsDb();
});

async function analyse(records: FixtureRecord[]): Promise<{ hs: Row[]; edges: Row[] }> {
  const { files } = await writeFlowFiles(records);
  return {
    hs: await db.run(handshakesFromFlowsQuery({ files })),
    edges: await db.run(edgeRowsFromFlowsQuery({ files })),
  };
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const hsSummary = (h: Row) => ({
  client: `${h.client_addr}:${h.client_port}`,
  server: `${h.server_addr}:${h.server_port}`,
  state: h.state,
  closed: h.closed,
  observed: h.observed_interfaces,
});
const edgeSummary = (e: Row) => ({
  client: e.client_instance_id ?? e.client_interface_id ?? e.client_addr,
  server: e.server_instance_id ?? e.server_interface_id ?? e.server_addr,
  port: e.server_port,
  method: e.method,
  toServer: n(e.bytes_to_server),
  toClient: n(e.bytes_to_client),
  connections: n(e.connections),
  records: n(e.records),
  rejected: n(e.rejected_records),
});
const naiveSum = (records: FixtureRecord[]) => records.reduce((s, r) => s + Number(r.bytes), 0);

describe('semantics.md §7', () => {
  it('SSH example: 62897 -> 22 with flags 2 and 22 -> 62897 with flags 18 at the instance: the laptop is the client', async () => {
    const { hs, edges } = await analyse(C.SSH);
    expect(hs.map(hsSummary)).toEqual([
      {
        client: '198.51.100.7:62897',
        server: '10.0.0.5:22',
        state: 'ESTABLISHED',
        closed: false,
        observed: ['eni-srv'],
      },
    ]);
    expect([hs[0]?.client_kind, hs[0]?.server_kind, hs[0]?.server_instance_id]).toEqual([
      'EXTERNAL',
      'INSTANCE',
      'i-srv',
    ]);
    // The laptop is not monitored: its bytes come from the instance's ingress record (4000), the reply from the
    // instance's egress record (8000).
    expect(edges.map(edgeSummary)).toEqual([
      {
        client: '198.51.100.7',
        server: 'i-srv',
        port: 22,
        method: 'HANDSHAKE',
        toServer: 4000,
        toClient: 8000,
        connections: 1,
        records: 2,
        rejected: 0,
      },
    ]);
  });

  it('AWS flag sequence 2, 18, (0), 1 and 3, 19 without flow-direction: two established, closed connections', async () => {
    const { hs, edges } = await analyse(C.FLAG_SEQUENCE);
    expect(hs.map(hsSummary)).toEqual([
      {
        client: '52.213.180.42:43416',
        server: '10.0.0.62:5001',
        state: 'ESTABLISHED',
        closed: true,
        observed: ['eni-62'],
      },
      {
        client: '52.213.180.42:43418',
        server: '10.0.0.62:5001',
        state: 'ESTABLISHED',
        closed: true,
        observed: ['eni-62'],
      },
    ]);
    // Direction was inferred (v3 has no flow-direction): the instance's private address 10.0.0.62 is its own, so the
    // public client stays EXTERNAL. To server: 568 + 100701 + 52 + 300 = 101621; to client: 376 + 869 + 40 + 200 = 1485.
    expect(hs[0]?.client_kind).toBe('EXTERNAL');
    expect(edges.map(edgeSummary)).toEqual([
      {
        client: '52.213.180.42',
        server: 'i-62',
        port: 5001,
        method: 'HANDSHAKE',
        toServer: 101621,
        toClient: 1485,
        connections: 2,
        records: 8,
        rejected: 0,
      },
    ]);
  });

  it('instance to instance logged at both interfaces: one handshake, bytes counted once', async () => {
    const { hs, edges } = await analyse(C.INSTANCE_TO_INSTANCE);
    expect(hs.map(hsSummary)).toEqual([
      {
        client: '10.0.1.10:51000',
        server: '10.0.2.20:5432',
        state: 'ESTABLISHED',
        closed: false,
        observed: ['eni-a', 'eni-b'],
      },
    ]);
    expect([hs[0]?.client_instance_id, hs[0]?.server_instance_id]).toEqual(['i-a', 'i-b']);
    // Sender's egress only: A's 60 + 10000 to the server, B's 60 + 50000 back; the naive sum over all 8 records is
    // twice that (120240).
    expect(edges.map(edgeSummary)).toEqual([
      {
        client: 'i-a',
        server: 'i-b',
        port: 5432,
        method: 'HANDSHAKE',
        toServer: 10060,
        toClient: 50060,
        connections: 1,
        records: 8,
        rejected: 0,
      },
    ]);
    expect(naiveSum(C.INSTANCE_TO_INSTANCE)).toBe(2 * (10060 + 50060));
    expect([edges[0]?.client_az_id, edges[0]?.server_az_id]).toEqual(['use1-az1', 'use1-az2']);
  });

  it('NAT gateway path: attributed to the inside instance, the NAT legs add no bytes and no edge', async () => {
    const { hs, edges } = await analyse(C.NAT_PATH);
    expect(hs.map(hsSummary)).toEqual([
      {
        client: '10.0.1.5:40001',
        server: '203.0.113.5:443',
        state: 'ESTABLISHED',
        closed: false,
        observed: ['eni-app', 'eni-nat'],
      },
    ]);
    // Only the instance's records count: 1000 out, 5000 back. The six records sum to 18000.
    expect(edges.map(edgeSummary)).toEqual([
      {
        client: 'i-app',
        server: '203.0.113.5',
        port: 443,
        method: 'HANDSHAKE',
        toServer: 1000,
        toClient: 5000,
        connections: 1,
        records: 4,
        rejected: 0,
      },
    ]);
    expect(naiveSum(C.NAT_PATH)).toBe(18000);
    // Cost lens: through the NAT gateway, and the 1000 bytes out to an external address leave to the internet.
    expect([edges[0]?.via_nat, n(edges[0]?.internet_bytes), edges[0]?.server_kind]).toEqual([true, 1000, 'EXTERNAL']);
  });

  it('SYN with REJECT: a rejected handshake and one rejected record', async () => {
    const { hs, edges } = await analyse(C.SYN_REJECTED);
    expect(hs.map(hsSummary)).toEqual([
      { client: '203.0.113.9:50000', server: '10.0.0.5:3389', state: 'REJECTED', closed: false, observed: ['eni-srv'] },
    ]);
    expect(edges.map(edgeSummary)).toEqual([
      {
        client: '203.0.113.9',
        server: 'i-srv',
        port: 3389,
        method: 'HANDSHAKE',
        toServer: 40,
        toClient: null,
        connections: 1,
        records: 1,
        rejected: 1,
      },
    ]);
  });

  it('SYN with no reply: unanswered, the instance is the client', async () => {
    const { hs } = await analyse(C.SYN_UNANSWERED);
    expect(hs.map(hsSummary)).toEqual([
      { client: '10.0.0.5:45000', server: '192.0.2.1:8443', state: 'UNANSWERED', closed: false, observed: ['eni-srv'] },
    ]);
    expect([hs[0]?.client_instance_id, hs[0]?.server_kind, hs[0]?.syn_ack_seen]).toEqual(['i-srv', 'EXTERNAL', false]);
  });

  it('handshake split across midnight (and across partition files): one established handshake dated by its SYN', async () => {
    const { files } = await writeFlowFiles(C.MIDNIGHT);
    expect(files).toHaveLength(2);
    const hs = await db.run(handshakesFromFlowsQuery({ files }));
    expect(hs.map(hsSummary)).toEqual([
      {
        client: '198.51.100.8:60000',
        server: '10.0.0.5:443',
        state: 'ESTABLISHED',
        closed: false,
        observed: ['eni-srv'],
      },
    ]);
    expect((hs[0]?.day as Date).toISOString().slice(0, 10)).toBe('2024-03-01');
    // Each day's partition alone cannot see the answer: the SYN's day alone gives UNANSWERED. Derivation therefore
    // reads half an hour into the neighbouring day (the late-files test of analytics-derived-tables.test.ts).
    const firstDayOnly = await db.run(
      handshakesFromFlowsQuery({ files: files.filter((f) => f.includes('2024-03-01')) }),
    );
    expect(firstDayOnly.map((h) => h.state)).toEqual(['UNANSWERED']);
  });

  it('address reused by a second instance later: mapped to each owner only while it owned it', async () => {
    const { edges } = await analyse(C.ADDRESS_REUSE);
    const calls = edges
      .filter((e) => e.client_instance_id === 'i-c')
      .map((e) => [
        (e.bucket as Date).toISOString().slice(11, 16),
        e.server_kind,
        e.server_instance_id ?? e.server_addr,
        n(e.bytes_to_server),
      ]);
    expect(calls).toEqual([
      ['08:00', 'INSTANCE', 'i-old', 111],
      ['11:00', 'EXTERNAL', '10.0.3.7', 222],
      ['14:00', 'INSTANCE', 'i-new', 333],
    ]);
    // No handshakes in the records: direction by port (41000 ephemeral -> 80).
    expect(new Set(edges.map((e) => e.method))).toEqual(new Set(['PORT']));
  });
});
