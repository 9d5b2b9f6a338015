/**
 * The schema of `<out>/ground-truth.json`: the exact answers a reader of the generated files should find, as small
 * aggregates (never one entry per record). Analytics and API tests compare against it.
 *
 * Counting rules (docs/semantics.md §1):
 * - "once" totals count each direction of each window once (the packets as sent), whatever number of interfaces
 *   logged them; `naiveBytes`/`naivePackets` sum every record between the two endpoints at every observation point,
 *   so for two monitored instances naive = 2 x (toServer + toClient).
 * - Times are ISO-8601 UTC strings; byte and packet counts are JSON numbers (they stay far below 2^53).
 */
import type { FormatName } from './flow-log-formats.ts';
import type { CrossAccountLink, KeyLayout } from './topology.ts';

/** The options a dataset was generated with. */
export interface GroundTruthOptions {
  readonly records: number;
  readonly seed: number;
  readonly days: number;
  /** First day, YYYY-MM-DD (UTC). */
  readonly start: string;
}

/** One flow log and what it delivered. */
export interface FlowLogTruth {
  readonly flowLogId: string;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly format: FormatName;
  /** The header line its text objects start with (for Parquet: its column order with `-`). */
  readonly header: string;
  readonly fileFormat: 'text' | 'parquet';
  readonly layout: KeyLayout;
  readonly files: number;
  readonly records: number;
}

/**
 * Records of one flowql partition: account = the record's account-id when it is a 12-digit id, otherwise the key's
 * account; region = the interface's region; date = UTC date of the record's start.
 */
export interface PartitionTruth {
  readonly accountId: string;
  readonly region: string;
  readonly date: string;
  readonly ok: number;
  readonly nodata: number;
  readonly skipdata: number;
  readonly total: number;
}

/** Traffic between two endpoints on one protocol and server port. */
export interface PairTotals {
  /** TCP: handshakes (SYN answered by SYN-ACK). UDP/ICMP: request/response exchanges. */
  connections: number;
  /** TCP attempts whose SYN the server's interface rejected (its record: SYN, REJECT; the client's: SYN, ACCEPT). */
  rejectedSyns: number;
  /** TCP attempts accepted but never answered (SYN records only, ACCEPT at both ends). */
  unansweredSyns: number;
  /** Connections ended by a RST from the server. */
  resets: number;
  bytesToServer: number;
  bytesToClient: number;
  packetsToServer: number;
  packetsToClient: number;
  /** Sum over every record between the two, at every observation point, both directions (double counting). */
  naiveBytes: number;
  naivePackets: number;
  /** Records logged for this traffic, at all observation points. */
  records: number;
}

/** Traffic from one instance to another (the client opened it). Excludes the port scan (see `scan`). */
export interface InstancePairTruth extends PairTotals {
  readonly clientInstanceId: string;
  readonly serverInstanceId: string;
  readonly clientIp: string;
  readonly serverIp: string;
  /** 6 TCP, 17 UDP, 1 ICMP. */
  readonly protocol: number;
  /** 0 for ICMP. */
  readonly serverPort: number;
  readonly crossAz: boolean;
  /** Through VPC peering (egress traffic-path 4). */
  readonly crossVpc: boolean;
}

/**
 * Traffic from an instance of one account to an instance of another (VPC peering, a shared-services VPC), or of
 * another region (inter-region peering, between accounts or within one). Both interfaces log both directions, each in
 * its own account's and region's partition and format, so naive = 2 x once as for an instance pair; `crossAz` is the
 * fact (the two AZ ids differ), whether a question can see it is in the views.
 */
export interface CrossAccountPairTruth extends InstancePairTruth {
  readonly link: CrossAccountLink;
  /** The client's region, and the server's (another one for inter-region peering). */
  readonly region: string;
  readonly serverRegion: string;
  readonly clientAccountId: string;
  readonly serverAccountId: string;
  readonly clientInterfaceId: string;
  readonly serverInterfaceId: string;
  readonly clientAzId: string;
  readonly serverAzId: string;
  readonly clientFormat: FormatName;
  readonly serverFormat: FormatName;
}

/**
 * One end of an INSTANCE-level edge as a question shows it: the instance when the records carry instance-id (v3+),
 * else the interface (v2), else, for an end no selected account logs, its address (EXTERNAL). `azId` is null where
 * the end's records carry no az-id (v2, v3) or no selected account logs it (docs/semantics.md §10).
 */
export interface EdgeEndTruth {
  readonly kind: 'INSTANCE' | 'INTERFACE' | 'EXTERNAL';
  readonly id: string;
  readonly azId: string | null;
  /** The account whose flow log holds the end's interface; null for an end no selected account logs. */
  readonly accountId: string | null;
}

/**
 * What the edge of a cross-account pair is when a question reads the records of `accountIds` (docs/semantics.md §10):
 * both accounts (every account of the region, the same as no account filter) give one edge with both ends resolved;
 * one account gives its own end resolved and the other as the address its records name. Every view counts each byte
 * once (each interface logged both directions); `connections` are the handshakes the records can show (0 from v2
 * records alone: no tcp-flags); `crossAzBytes` counts both directions only when both ends' AZ ids are known.
 */
export interface CrossAccountViewTruth {
  readonly accountIds: readonly string[];
  /** The pair, as in crossAccountPairs. */
  readonly clientInstanceId: string;
  readonly serverInstanceId: string;
  readonly protocol: number;
  readonly serverPort: number;
  readonly client: EdgeEndTruth;
  readonly server: EdgeEndTruth;
  readonly bytesToServer: number;
  readonly bytesToClient: number;
  readonly connections: number;
  readonly crossAzBytes: number;
  /** Both directions when the ends sit in two regions and both are resolved (their regions known). */
  readonly crossRegionBytes: number;
}

/** Traffic from an instance to a requester-managed interface (an interface endpoint, instance-id `-`). */
export interface InterfacePairTruth extends PairTotals {
  readonly clientInstanceId: string;
  readonly serverInterfaceId: string;
  readonly serverIp: string;
  readonly protocol: number;
  readonly serverPort: number;
}

/**
 * Connections from an inside instance through a NAT gateway to an internet host, attributed to the instance.
 * The instance's interface logs 2 records a window, the NAT gateway's interface 4 (inside and outside legs);
 * naiveBytes sums all 6.
 */
export interface NatTruth {
  readonly instanceId: string;
  readonly insideIp: string;
  readonly natInterfaceId: string;
  readonly natIp: string;
  readonly externalIp: string;
  /** The AWS service whose published range holds externalIp (S3, DYNAMODB: NAT traffic to AWS), else null. */
  readonly awsService: string | null;
  readonly protocol: number;
  readonly port: number;
  connections: number;
  bytesOut: number;
  bytesIn: number;
  packetsOut: number;
  packetsIn: number;
  naiveBytes: number;
}

/** Traffic from instances to an AWS service (pkt-dst-aws-service), by the egress traffic-path. */
export interface AwsServiceTruth {
  readonly accountId: string;
  readonly region: string;
  readonly service: string;
  readonly trafficPath: number;
  flows: number;
  bytesOut: number;
  bytesIn: number;
}

/** A monitored interface, what is behind it and its lifetime (the range, unless its address is reused). */
export interface InterfaceTruth {
  readonly interfaceId: string;
  readonly ip: string;
  readonly kind: 'instance' | 'nat' | 'endpoint';
  /** `-` for requester-managed interfaces. */
  readonly instanceId: string;
  readonly accountId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly azId: string;
}

/** One lifetime of an address: the instance that held it, from..to (to exclusive). */
export interface AddressHolderTruth {
  readonly ip: string;
  readonly instanceId: string;
  readonly interfaceId: string;
  readonly from: string;
  readonly to: string;
}

/** A handshake whose SYN and SYN-ACK records fall into different windows (and so different files). */
export interface StraddleTruth {
  readonly clientInstanceId: string;
  readonly serverInstanceId: string;
  readonly serverPort: number;
  readonly synStart: string;
  readonly synAckStart: string;
}

/** The whole ground truth file. */
export interface GroundTruth {
  readonly generator: 'flowql generate';
  readonly formatVersion: 1;
  readonly seed: number;
  readonly options: GroundTruthOptions;
  /** [from, to) of record start times. */
  readonly range: { readonly from: string; readonly to: string };
  readonly files: { readonly total: number; readonly text: number; readonly parquet: number; readonly bytes: number };
  readonly flowLogs: readonly FlowLogTruth[];
  readonly records: {
    readonly total: number;
    readonly ok: number;
    readonly nodata: number;
    readonly skipdata: number;
    readonly byPartition: readonly PartitionTruth[];
  };
  readonly inventory: {
    readonly accounts: readonly string[];
    readonly regions: readonly string[];
    readonly vpcs: number;
    readonly instances: number;
    /** Every interface (instance, NAT gateway, endpoint) with its address: the address-to-endpoint ground truth. */
    readonly interfaces: readonly InterfaceTruth[];
    readonly natGateways: readonly { readonly vpcId: string; readonly interfaceId: string; readonly ip: string }[];
    readonly endpoints: readonly { readonly vpcId: string; readonly interfaceId: string; readonly ip: string }[];
  };
  readonly tcp: {
    readonly handshakes: number;
    readonly rejectedSyns: number;
    readonly unansweredSyns: number;
    readonly resets: number;
    /** Handshakes whose SYN-ACK is in the window after the SYN (different 1-minute windows). */
    readonly straddlingHandshakes: number;
    /** Those whose SYN is before midnight and SYN-ACK after (different dates and files). */
    readonly acrossMidnight: readonly StraddleTruth[];
  };
  /** Pairs within one account; pairs between accounts are in crossAccountPairs. */
  readonly instancePairs: readonly InstancePairTruth[];
  readonly crossAccountPairs: readonly CrossAccountPairTruth[];
  /** Per cross-account pair: the organisation-wide view, then each of its two accounts alone. */
  readonly crossAccountViews: readonly CrossAccountViewTruth[];
  readonly interfacePairs: readonly InterfacePairTruth[];
  readonly nat: readonly NatTruth[];
  readonly awsServices: readonly AwsServiceTruth[];
  /** The port scan: SYN probes from one instance, each rejected at the target (ACCEPT, no reply at the scanner). */
  readonly scan: {
    readonly sourceInstanceId: string;
    readonly sourceInterfaceId: string;
    readonly sourceIp: string;
    readonly probes: number;
    readonly distinctPorts: number;
    readonly distinctHosts: number;
    readonly records: number;
    readonly from: string | null;
    readonly to: string | null;
  };
  readonly addressReuse: readonly AddressHolderTruth[];
}

/** A fresh zeroed PairTotals. */
export function emptyTotals(): PairTotals {
  return {
    connections: 0,
    rejectedSyns: 0,
    unansweredSyns: 0,
    resets: 0,
    bytesToServer: 0,
    bytesToClient: 0,
    packetsToServer: 0,
    packetsToClient: 0,
    naiveBytes: 0,
    naivePackets: 0,
    records: 0,
  };
}

/**
 * Serialises ground truth readably but compactly: two-space indentation for the structure, one line per entry of
 * the long lists, so a diff of two runs shows which pair changed.
 */
export function stringifyGroundTruth(truth: GroundTruth): string {
  const lists = new Set([
    'byPartition',
    'instancePairs',
    'crossAccountPairs',
    'crossAccountViews',
    'interfacePairs',
    'nat',
    'awsServices',
    'acrossMidnight',
    'addressReuse',
    'flowLogs',
  ]);
  const render = (value: unknown, indent: string): string => {
    if (Array.isArray(value))
      return `[${value.map((v) => `\n${indent}  ${JSON.stringify(v)}`).join(',')}${value.length ? `\n${indent}` : ''}]`;
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value).map(([k, v]) => {
        const text =
          Array.isArray(v) && lists.has(k)
            ? render(v, `${indent}  `)
            : typeof v === 'object' && v !== null && !Array.isArray(v)
              ? render(v, `${indent}  `)
              : JSON.stringify(v);
        return `\n${indent}  ${JSON.stringify(k)}: ${text}`;
      });
      return `{${entries.join(',')}\n${indent}}`;
    }
    return JSON.stringify(value);
  };
  return `${render(truth, '')}\n`;
}
