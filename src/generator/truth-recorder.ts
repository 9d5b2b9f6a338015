/**
 * Accumulates the ground truth while traffic is generated: one mutable entry per instance pair, NAT path, AWS
 * service and endpoint pair, created on first use, plus the TCP and scan counters. `finish` freezes it into the
 * GroundTruth document.
 */
import { FORMAT_FIELDS } from './flow-log-formats.ts';
import { NAT_HOST_SERVICES } from './internet-hosts.ts';
import {
  emptyTotals,
  type AwsServiceTruth,
  type CrossAccountPairTruth,
  type CrossAccountViewTruth,
  type EdgeEndTruth,
  type InstancePairTruth,
  type InterfacePairTruth,
  type NatTruth,
  type PairTotals,
  type StraddleTruth,
} from './ground-truth.ts';
import type { CrossAccountCall, Iface, Instance } from './topology.ts';

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/**
 * Entries found by two keys (objects or interned strings) and a number, so the hot path skips building the entry's
 * string key (a concatenation and a hash of a fresh string per conversation); that key is built once, on a miss.
 */
class EntryIndex<T> {
  private readonly byFirst = new Map<unknown, Map<unknown, Map<number, T>>>();

  get(a: unknown, b: unknown, n: number): T | undefined {
    return this.byFirst.get(a)?.get(b)?.get(n);
  }

  /** Remembers `entry` under (a, b, n) and returns it. */
  set(a: unknown, b: unknown, n: number, entry: T): T {
    let second = this.byFirst.get(a);
    if (second === undefined) this.byFirst.set(a, (second = new Map()));
    let third = second.get(b);
    if (third === undefined) second.set(b, (third = new Map()));
    third.set(n, entry);
    return entry;
  }
}

/** Mutable ground-truth state of one generation run. */
export class TruthRecorder {
  readonly pairs = new Map<string, InstancePairTruth>();
  readonly crossAccount = new Map<string, CrossAccountPairTruth>();
  readonly interfacePairs = new Map<string, InterfacePairTruth>();
  readonly nat = new Map<string, NatTruth>();
  readonly awsServices = new Map<string, AwsServiceTruth>();
  readonly tcp = { handshakes: 0, rejectedSyns: 0, unansweredSyns: 0, resets: 0, straddlingHandshakes: 0 };
  readonly acrossMidnight: StraddleTruth[] = [];
  readonly scan = {
    probes: 0,
    records: 0,
    ports: new Set<number>(),
    hosts: new Set<string>(),
    from: Infinity,
    to: -Infinity,
  };
  private readonly pairIndex = new EntryIndex<InstancePairTruth>();
  private readonly interfacePairIndex = new EntryIndex<InterfacePairTruth>();
  private readonly natIndex = new EntryIndex<NatTruth>();
  private readonly awsServiceIndex = new EntryIndex<AwsServiceTruth>();

  /** The entry for traffic opened by `client` to `server` on protocol/port. */
  pair(client: Instance, server: Instance, protocol: number, serverPort: number): InstancePairTruth {
    const found = this.pairIndex.get(client, server, protocol * 65536 + serverPort);
    if (found !== undefined) return found;
    const key = `${client.id}|${server.id}|${protocol}|${serverPort}`;
    let entry = this.pairs.get(key);
    if (entry === undefined) {
      entry = {
        clientInstanceId: client.id,
        serverInstanceId: server.id,
        clientIp: client.iface.ip,
        serverIp: server.iface.ip,
        protocol,
        serverPort,
        crossAz: client.iface.azId !== server.iface.azId,
        crossVpc: client.vpc !== server.vpc,
        ...emptyTotals(),
      };
      this.pairs.set(key, entry);
    }
    return this.pairIndex.set(client, server, protocol * 65536 + serverPort, entry);
  }

  /** The entry for a call between accounts (few calls, called rarely: a plain map lookup is enough). */
  crossAccountPair(call: CrossAccountCall): CrossAccountPairTruth {
    const { client, server } = call;
    const key = `${client.id}|${server.id}|${call.protocol}|${call.port}`;
    let entry = this.crossAccount.get(key);
    if (entry === undefined) {
      entry = {
        clientInstanceId: client.id,
        serverInstanceId: server.id,
        clientIp: client.iface.ip,
        serverIp: server.iface.ip,
        protocol: call.protocol,
        serverPort: call.port,
        crossAz: client.iface.azId !== server.iface.azId,
        crossVpc: true,
        link: call.link,
        region: client.vpc.region,
        serverRegion: server.vpc.region,
        clientAccountId: client.vpc.accountId,
        serverAccountId: server.vpc.accountId,
        clientInterfaceId: client.iface.interfaceId,
        serverInterfaceId: server.iface.interfaceId,
        clientAzId: client.iface.azId,
        serverAzId: server.iface.azId,
        clientFormat: client.iface.flowLog.formatName,
        serverFormat: server.iface.flowLog.formatName,
        ...emptyTotals(),
      };
      this.crossAccount.set(key, entry);
    }
    return entry;
  }

  /** The entry for traffic opened by `client` to a requester-managed interface. */
  interfacePair(client: Instance, server: Iface, protocol: number, serverPort: number): InterfacePairTruth {
    const found = this.interfacePairIndex.get(client, server, protocol * 65536 + serverPort);
    if (found !== undefined) return found;
    const key = `${client.id}|${server.interfaceId}|${protocol}|${serverPort}`;
    let entry = this.interfacePairs.get(key);
    if (entry === undefined) {
      entry = {
        clientInstanceId: client.id,
        serverInterfaceId: server.interfaceId,
        serverIp: server.ip,
        protocol,
        serverPort,
        ...emptyTotals(),
      };
      this.interfacePairs.set(key, entry);
    }
    return this.interfacePairIndex.set(client, server, protocol * 65536 + serverPort, entry);
  }

  /** The entry for an instance's connections through a NAT gateway to one external host and port. */
  natPath(inst: Instance, natIface: Iface, externalIp: string, protocol: number, port: number): NatTruth {
    const found = this.natIndex.get(inst, externalIp, protocol * 65536 + port);
    if (found !== undefined) return found;
    const key = `${inst.id}|${externalIp}|${protocol}|${port}`;
    let entry = this.nat.get(key);
    if (entry === undefined) {
      entry = {
        instanceId: inst.id,
        insideIp: inst.iface.ip,
        natInterfaceId: natIface.interfaceId,
        natIp: natIface.ip,
        externalIp,
        awsService: NAT_HOST_SERVICES[externalIp] ?? null,
        protocol,
        port,
        connections: 0,
        bytesOut: 0,
        bytesIn: 0,
        packetsOut: 0,
        packetsIn: 0,
        naiveBytes: 0,
      };
      this.nat.set(key, entry);
    }
    return this.natIndex.set(inst, externalIp, protocol * 65536 + port, entry);
  }

  /** The entry for an account/region's traffic to an AWS service over one traffic path. */
  awsService(inst: Instance, service: string, trafficPath: number): AwsServiceTruth {
    const found = this.awsServiceIndex.get(inst.vpc, service, trafficPath);
    if (found !== undefined) return found;
    const key = `${inst.vpc.accountId}|${inst.vpc.region}|${service}|${trafficPath}`;
    let entry = this.awsServices.get(key);
    if (entry === undefined) {
      entry = {
        accountId: inst.vpc.accountId,
        region: inst.vpc.region,
        service,
        trafficPath,
        flows: 0,
        bytesOut: 0,
        bytesIn: 0,
      };
      this.awsServices.set(key, entry);
    }
    return this.awsServiceIndex.set(inst.vpc, service, trafficPath, entry);
  }

  /** Notes a handshake whose SYN-ACK lands in the window after its SYN. */
  straddle(client: Instance, server: Instance, port: number, synStart: number, synAckStart: number): void {
    this.tcp.straddlingHandshakes++;
    if (Math.floor(synStart / 86_400) !== Math.floor(synAckStart / 86_400)) {
      this.acrossMidnight.push({
        clientInstanceId: client.id,
        serverInstanceId: server.id,
        serverPort: port,
        synStart: iso(synStart),
        synAckStart: iso(synAckStart),
      });
    }
  }

  /** Notes one scan probe. */
  probe(target: Instance, port: number, start: number, end: number): void {
    this.scan.probes++;
    this.scan.records += 2;
    this.scan.ports.add(port);
    this.scan.hosts.add(target.id);
    this.scan.from = Math.min(this.scan.from, start);
    this.scan.to = Math.max(this.scan.to, end);
  }

  /** Sorted lists for the ground-truth document (stable order: by key). */
  sorted<T>(map: Map<string, T>): T[] {
    return [...map.keys()].sort().map((k) => map.get(k)!);
  }
}

/** Whether a format's records carry a field. */
const logs = (format: CrossAccountPairTruth['clientFormat'], field: 'instance-id' | 'az-id' | 'tcp-flags'): boolean =>
  FORMAT_FIELDS[format].includes(field);

/**
 * The edges a question should find for a cross-account pair (CrossAccountViewTruth): organisation-wide, then from
 * each account's records alone. An end is resolved from its own interface's records, so what it shows is what its
 * format carries; the other account's end, read from one account's records only, is just the address they name.
 */
export function crossAccountViews(p: CrossAccountPairTruth): CrossAccountViewTruth[] {
  const end = (side: 'client' | 'server', seenBy: readonly string[]): EdgeEndTruth => {
    const [account, format, instanceId, interfaceId, ip, azId] =
      side === 'client'
        ? [p.clientAccountId, p.clientFormat, p.clientInstanceId, p.clientInterfaceId, p.clientIp, p.clientAzId]
        : [p.serverAccountId, p.serverFormat, p.serverInstanceId, p.serverInterfaceId, p.serverIp, p.serverAzId];
    if (!seenBy.includes(account)) return { kind: 'EXTERNAL', id: ip, azId: null, accountId: null };
    const known = logs(format, 'instance-id');
    return {
      kind: known ? 'INSTANCE' : 'INTERFACE',
      id: known ? instanceId : interfaceId,
      azId: logs(format, 'az-id') ? azId : null,
      accountId: account,
    };
  };
  const view = (accountIds: string[]): CrossAccountViewTruth => {
    const client = end('client', accountIds);
    const server = end('server', accountIds);
    // A handshake needs tcp-flags at one interface whose records are read (SYN and SYN-ACK both pass it).
    const flagged =
      (accountIds.includes(p.clientAccountId) && logs(p.clientFormat, 'tcp-flags')) ||
      (accountIds.includes(p.serverAccountId) && logs(p.serverFormat, 'tcp-flags'));
    const bytes = p.bytesToServer + p.bytesToClient;
    return {
      accountIds,
      clientInstanceId: p.clientInstanceId,
      serverInstanceId: p.serverInstanceId,
      protocol: p.protocol,
      serverPort: p.serverPort,
      client,
      server,
      bytesToServer: p.bytesToServer,
      bytesToClient: p.bytesToClient,
      connections: flagged ? p.connections : 0,
      crossAzBytes: client.azId !== null && server.azId !== null && client.azId !== server.azId ? bytes : 0,
      crossRegionBytes:
        p.region !== p.serverRegion && client.accountId !== null && server.accountId !== null ? bytes : 0,
    };
  };
  // Two regions of one account: its records alone hold both ends, so the account's view is the organisation's.
  if (p.clientAccountId === p.serverAccountId) return [view([p.clientAccountId])];
  return [view([p.clientAccountId, p.serverAccountId].sort()), view([p.clientAccountId]), view([p.serverAccountId])];
}

/** Adds one window of a two-way conversation to the once-counted totals. */
export function addOnce(
  t: PairTotals,
  toServer: { packets: number; bytes: number },
  toClient: { packets: number; bytes: number } | null,
): void {
  t.bytesToServer += toServer.bytes;
  t.packetsToServer += toServer.packets;
  if (toClient !== null) {
    t.bytesToClient += toClient.bytes;
    t.packetsToClient += toClient.packets;
  }
}
