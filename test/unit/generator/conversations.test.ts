import { describe, expect, it } from 'vitest';
import { blankRecord, FORMAT_FIELDS, type FlowRecord } from '../../../src/generator/flow-log-formats.ts';
import { createPrng } from '../../../src/generator/prng.ts';
import { RecordLogger } from '../../../src/generator/record-logger.ts';
import { datagramExchange, lonelySyn, tcpConnection } from '../../../src/generator/tcp-conversation.ts';
import { natConversation } from '../../../src/generator/edge-conversations.ts';
import { TruthRecorder } from '../../../src/generator/truth-recorder.ts';
import { emptyTotals } from '../../../src/generator/ground-truth.ts';
import type { FlowLogDef, Iface, Instance, Vpc } from '../../../src/generator/topology.ts';

const flowLog: FlowLogDef = {
  id: 'fl-00000001',
  accountId: '012345678901',
  region: 'us-east-1',
  vpcId: 'vpc-1',
  formatName: 'v5-full',
  fields: FORMAT_FIELDS['v5-full'],
  version: 5,
  fileFormat: 'text',
  layout: 'default',
};
const iface = (name: string, ip: string, kind: Iface['kind'] = 'instance'): Iface => ({
  interfaceId: `eni-${name}`,
  ip,
  recordAccountId: '012345678901',
  region: 'us-east-1',
  vpcId: 'vpc-1',
  subnetId: 'subnet-1',
  azId: 'use1-az1',
  instanceId: kind === 'instance' ? `i-${name}` : '-',
  kind,
  flowLog,
});
const A = iface('a', '10.0.1.5');
const B = iface('b', '10.0.2.9');
const NAT = iface('nat', '10.0.0.220', 'nat');

/** Collects records as [interface, record copy]. */
function collect() {
  const out: { at: string; r: FlowRecord }[] = [];
  const logger = new RecordLogger({ emit: (i, r) => out.push({ at: i.interfaceId, r: { ...r } }) });
  return { out, ctx: { rng: createPrng(42), logger, truth: new TruthRecorder() } };
}

const MINUTE = 1_725_494_400; // 2024-09-05T00:00:00Z
const run = (conv: { windows: number; step(k: number, t: number): void }) => {
  for (let k = 0; k < conv.windows; k++) conv.step(k, MINUTE + k * 60);
};
// [interface, direction, srcaddr, dstaddr, tcp-flags, action] of each record, in logging order.
const shape = (out: { at: string; r: FlowRecord }[]) =>
  out.map(({ at, r }) => [at, r['flow-direction'], r.srcaddr, r.dstaddr, r['tcp-flags'], r.action].join(' '));

describe('tcpConnection between two monitored instances', () => {
  it('logs 4 records a window with flags 2/18, 0/0, 1/1 and counts bytes once', () => {
    const { out, ctx } = collect();
    const totals = emptyTotals();
    const conv = tcpConnection(
      ctx,
      { client: A, server: B, path: 1 },
      5432,
      { windows: 3, reset: false, straddle: false },
      totals,
    );
    expect(conv.records).toBe(12);
    run(conv);
    expect(out).toHaveLength(12);
    expect(shape(out).slice(0, 4)).toEqual([
      'eni-a egress 10.0.1.5 10.0.2.9 2 ACCEPT',
      'eni-b ingress 10.0.1.5 10.0.2.9 2 ACCEPT',
      'eni-b egress 10.0.2.9 10.0.1.5 18 ACCEPT',
      'eni-a ingress 10.0.2.9 10.0.1.5 18 ACCEPT',
    ]);
    expect(out.map((o) => o.r['tcp-flags'])).toEqual([2, 2, 18, 18, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(out.map((o) => o.r['traffic-path'])).toEqual([1, '-', 1, '-', 1, '-', 1, '-', 1, '-', 1, '-']);
    const sent = (src: string) =>
      out
        .filter((o) => o.r['flow-direction'] === 'egress' && o.r.srcaddr === src)
        .reduce((a, o) => a + Number(o.r.bytes), 0);
    expect(totals.bytesToServer).toBe(sent('10.0.1.5'));
    expect(totals.bytesToClient).toBe(sent('10.0.2.9'));
    expect(totals.naiveBytes).toBe(2 * (totals.bytesToServer + totals.bytesToClient));
    expect(totals.records).toBe(12);
    expect(totals.connections).toBe(1);
    expect(ctx.truth.tcp.handshakes).toBe(1);
  });

  it('writes 3 and 19 for a connection opened and closed in one window, and 22 for a reset', () => {
    const short = collect();
    run(
      tcpConnection(
        short.ctx,
        { client: A, server: B, path: 1 },
        22,
        { windows: 1, reset: false, straddle: false },
        emptyTotals(),
      ),
    );
    expect(short.out.map((o) => o.r['tcp-flags'])).toEqual([3, 3, 19, 19]);
    const reset = collect();
    const totals = emptyTotals();
    run(
      tcpConnection(
        reset.ctx,
        { client: A, server: B, path: 1 },
        22,
        { windows: 1, reset: true, straddle: false },
        totals,
      ),
    );
    expect(reset.out.map((o) => o.r['tcp-flags'])).toEqual([2, 2, 22, 22]);
    expect([totals.connections, totals.resets]).toEqual([1, 1]);
  });

  it('puts the SYN alone at the end of window 0 and the SYN-ACK in window 1 when straddling', () => {
    const { out, ctx } = collect();
    const seen: number[][] = [];
    const conv = tcpConnection(
      ctx,
      { client: A, server: B, path: 1 },
      8080,
      { windows: 2, reset: false, straddle: true },
      emptyTotals(),
      (s, a) => seen.push([s, a]),
    );
    expect(conv.records).toBe(6);
    run(conv);
    expect(out.map((o) => o.r['tcp-flags'])).toEqual([2, 2, 1, 1, 19, 19]);
    expect(out[0]!.r.start).toBeGreaterThanOrEqual(MINUTE + 55);
    expect(out[4]!.r.start).toBeGreaterThanOrEqual(MINUTE + 60);
    expect(seen).toEqual([[out[0]!.r.start, out[4]!.r.start]]);
  });
});

describe('SYNs without reply, UDP and ICMP', () => {
  it('logs a rejected SYN as ACCEPT at the client and REJECT at the server, no reply', () => {
    const { out, ctx } = collect();
    const totals = emptyTotals();
    run(lonelySyn(ctx, { client: A, server: B, path: 1 }, 3389, true, totals));
    expect(shape(out)).toEqual(['eni-a egress 10.0.1.5 10.0.2.9 2 ACCEPT', 'eni-b ingress 10.0.1.5 10.0.2.9 2 REJECT']);
    expect([totals.rejectedSyns, totals.unansweredSyns, totals.connections, totals.bytesToClient]).toEqual([
      1, 0, 0, 0,
    ]);
    expect(totals.naiveBytes).toBe(2 * totals.bytesToServer);
  });

  it('logs an ICMP echo with ports 0 and flags -', () => {
    const { out, ctx } = collect();
    run(datagramExchange(ctx, { client: A, server: B, path: 1 }, 1, 0, emptyTotals()));
    expect(out.map((o) => [o.r.protocol, o.r.srcport, o.r.dstport, o.r['tcp-flags']].join(' '))).toEqual(
      Array(4).fill('1 0 0 -'),
    );
  });
});

describe('natConversation', () => {
  it('logs what the instance ENI and the NAT ENI record (flow-logs.md §4.11) and attributes bytes once', () => {
    const { out, ctx } = collect();
    const vpc = { nat: NAT } as unknown as Vpc;
    const inst = { id: 'i-a', iface: A, vpc } as unknown as Instance;
    run(natConversation(ctx, inst, '203.0.113.5', 6, 443, 1));
    // [interface, srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr]
    expect(out.map(({ at, r }) => [at, r.srcaddr, r.dstaddr, r['pkt-srcaddr'], r['pkt-dstaddr']].join(' '))).toEqual([
      'eni-a 10.0.1.5 203.0.113.5 10.0.1.5 203.0.113.5',
      'eni-nat 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5',
      'eni-nat 10.0.0.220 203.0.113.5 10.0.0.220 203.0.113.5',
      'eni-nat 203.0.113.5 10.0.0.220 203.0.113.5 10.0.0.220',
      'eni-nat 10.0.0.220 10.0.1.5 203.0.113.5 10.0.1.5',
      'eni-a 203.0.113.5 10.0.1.5 203.0.113.5 10.0.1.5',
    ]);
    const [entry] = [...ctx.truth.nat.values()];
    expect(entry).toMatchObject({ instanceId: 'i-a', externalIp: '203.0.113.5', natIp: '10.0.0.220', connections: 1 });
    expect(entry!.bytesOut).toBe(out[0]!.r.bytes);
    expect(entry!.bytesIn).toBe(out[5]!.r.bytes);
    expect(entry!.naiveBytes).toBe(3 * (entry!.bytesOut + entry!.bytesIn));
  });
});

describe('RecordLogger.status', () => {
  it('writes NODATA with metadata only and every packet field -', () => {
    const out: FlowRecord[] = [];
    new RecordLogger({ emit: (_i, r) => out.push({ ...r }) }).status(A, 'NODATA', MINUTE, MINUTE + 59);
    expect(out[0]).toEqual({
      ...blankRecord(),
      'account-id': '012345678901',
      'interface-id': 'eni-a',
      start: MINUTE,
      end: MINUTE + 59,
      'log-status': 'NODATA',
      'vpc-id': 'vpc-1',
      'subnet-id': 'subnet-1',
      'instance-id': 'i-a',
      region: 'us-east-1',
      'az-id': 'use1-az1',
    });
  });
});
