/**
 * Turns "these packets crossed this interface" into a flow record, the way the interface logs it: the interface's
 * metadata (account, VPC, subnet, instance, AZ), ingress/egress, action, tcp-flags, and the packet-level addresses
 * when they differ from srcaddr/dstaddr (NAT, flow-logs.md §4.11). Every record passes through here, so the naive
 * per-record totals of the ground truth are summed here and cannot disagree with the files.
 */
import { blankRecord, type FlowRecord } from './flow-log-formats.ts';
import type { Iface } from './topology.ts';

/** One direction of a conversation within one aggregation window: the packets as sent. */
export interface Leg {
  readonly src: string;
  readonly dst: string;
  readonly sport: number | '-';
  readonly dport: number | '-';
  readonly protocol: number;
  readonly packets: number;
  readonly bytes: number;
  readonly start: number;
  readonly end: number;
  /** OR of the flags in the window (TCP), or `-`. */
  readonly flags: number | '-';
}

/** How a record differs from the packet: substituted interface addresses, AWS services, egress path. */
export interface LogDetails {
  readonly srcaddr?: string;
  readonly dstaddr?: string;
  readonly srcService?: string;
  readonly dstService?: string;
  /** traffic-path, written on egress records only (AWS leaves it `-` on ingress). */
  readonly path?: number;
}

/** Sums of every record logged for some traffic (the naive, double-counting view). */
export interface NaiveTotals {
  naiveBytes: number;
  naivePackets?: number;
  records?: number;
}

/** Where records go: the dataset writer, or a collecting array in tests. */
export interface RecordSink {
  /** Takes the record at once (the logger reuses the object). */
  emit(iface: Iface, r: FlowRecord): void;
}

const NONE: LogDetails = {};

/** Writes records for interfaces, reusing one record object (the writer renders it at once). */
export class RecordLogger {
  private readonly r: FlowRecord = blankRecord();
  private readonly writer: RecordSink;

  constructor(writer: RecordSink) {
    this.writer = writer;
    this.r.type = 'IPv4';
  }

  /** Logs `leg` at `iface` as an `ingress` or `egress` record with `action`. */
  log(
    iface: Iface,
    direction: 'ingress' | 'egress',
    leg: Leg,
    action: 'ACCEPT' | 'REJECT',
    totals: NaiveTotals | null,
    details: LogDetails = NONE,
  ): void {
    const r = this.setInterface(iface);
    r.srcaddr = details.srcaddr ?? leg.src;
    r.dstaddr = details.dstaddr ?? leg.dst;
    r.srcport = leg.sport;
    r.dstport = leg.dport;
    r.protocol = leg.protocol;
    r.packets = leg.packets;
    r.bytes = leg.bytes;
    r.start = leg.start;
    r.end = leg.end;
    r.action = action;
    r['log-status'] = 'OK';
    r['tcp-flags'] = leg.flags;
    r.type = 'IPv4';
    r['pkt-srcaddr'] = leg.src;
    r['pkt-dstaddr'] = leg.dst;
    r['pkt-src-aws-service'] = details.srcService ?? '-';
    r['pkt-dst-aws-service'] = details.dstService ?? '-';
    r['flow-direction'] = direction;
    r['traffic-path'] = direction === 'egress' && details.path !== undefined ? details.path : '-';
    this.writer.emit(iface, r);
    if (totals !== null) {
      totals.naiveBytes += leg.bytes;
      if (totals.naivePackets !== undefined) totals.naivePackets += leg.packets;
      if (totals.records !== undefined) totals.records++;
    }
  }

  /** Logs a NODATA or SKIPDATA record: only metadata, window times and the status; packet fields are `-`. */
  status(iface: Iface, status: 'NODATA' | 'SKIPDATA', start: number, end: number): void {
    const r = this.setInterface(iface);
    r.srcaddr = r.dstaddr = r.action = r.type = r['pkt-srcaddr'] = r['pkt-dstaddr'] = '-';
    r['pkt-src-aws-service'] = r['pkt-dst-aws-service'] = r['flow-direction'] = '-';
    r.srcport = r.dstport = r.protocol = r.packets = r.bytes = r['tcp-flags'] = r['traffic-path'] = '-';
    r.start = start;
    r.end = end;
    r['log-status'] = status;
    this.writer.emit(iface, r);
  }

  private setInterface(iface: Iface): FlowRecord {
    const r = this.r;
    r['account-id'] = iface.recordAccountId;
    r['interface-id'] = iface.interfaceId;
    r['vpc-id'] = iface.vpcId;
    r['subnet-id'] = iface.subnetId;
    r['instance-id'] = iface.instanceId;
    r.region = iface.region;
    r['az-id'] = iface.azId;
    return r;
  }
}
