/**
 * The simulated estate: accounts, regions, VPCs, subnets (in AZ ids), instances with their interfaces, NAT gateways,
 * interface endpoints, one flow log per VPC (its format, file format and S3 key layout), and the few addresses that
 * a second instance reuses later. Everything is drawn from the seed; nothing here does I/O.
 */
import type { Prng } from './prng.ts';
import { FORMAT_FIELDS, FORMAT_VERSION, type FormatName, type GeneratedField } from './flow-log-formats.ts';

/** How a flow log's objects are keyed in S3 (flow-logs.md §5.1). */
export type KeyLayout = 'default' | 'hive' | 'hive-hourly';

/** One flow log: a VPC's records, in one format, delivered as text (gzip) or Parquet objects. */
export interface FlowLogDef {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly formatName: FormatName;
  readonly fields: readonly GeneratedField[];
  readonly version: number;
  readonly fileFormat: 'text' | 'parquet';
  readonly layout: KeyLayout;
}

/** What sits behind an interface. Requester-managed interfaces (NAT, endpoint) have no instance id. */
export type InterfaceKind = 'instance' | 'nat' | 'endpoint';

/** A monitored network interface. */
export interface Iface {
  readonly interfaceId: string;
  readonly ip: string;
  /** The `account-id` the records show: the owner, or `unknown` for an AWS-created endpoint interface. */
  readonly recordAccountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly azId: string;
  /** `-` for requester-managed interfaces. */
  readonly instanceId: string;
  readonly kind: InterfaceKind;
  readonly flowLog: FlowLogDef;
}

/** What an instance does; it decides which services it calls and serves. */
export type Role = 'web' | 'app' | 'db' | 'cache' | 'batch' | 'dns' | 'bastion';

/** A service call an instance makes repeatedly (a fixed peer, so instance pairs stay few). */
export interface Call {
  readonly server: Instance;
  readonly protocol: 6 | 17 | 1;
  readonly port: number;
}

/** An EC2 instance with its one interface and lifetime (Unix seconds, end exclusive). */
export interface Instance {
  readonly id: string;
  readonly role: Role;
  readonly iface: Iface;
  readonly nitro: boolean;
  readonly vpc: Vpc;
  aliveFrom: number;
  aliveTo: number;
  calls: Call[];
}

/** A VPC with its subnets, instances and middleboxes. */
export interface Vpc {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  readonly flowLog: FlowLogDef;
  readonly instances: Instance[];
  readonly byRole: Map<Role, Instance[]>;
  readonly nat: Iface;
  readonly endpoint: Iface;
  /** Another VPC of the same account and region, reached through peering (traffic-path 4). */
  peer: Vpc | null;
}

/** An address used by one instance and, after it was terminated, by another. */
export interface AddressReuse {
  readonly ip: string;
  readonly first: Instance;
  readonly second: Instance;
}

/**
 * How two VPCs of different accounts or regions reach each other: `peering`, a VPC peering connection used both ways;
 * `shared-services`, a VPC of one account whose services the other account's instances call (through a peering
 * connection too: same region, so both log traffic-path 4 where their format has it); `inter-region-peering`, a
 * peering connection between regions (traffic-path 5), between two accounts or within one.
 */
export type CrossAccountLink = 'peering' | 'shared-services' | 'inter-region-peering';

/**
 * A service call from an instance of one account to an instance of another, or of another region of its account
 * (each end logs its own records, in its own account's and region's partition).
 */
export interface CrossAccountCall {
  readonly link: CrossAccountLink;
  readonly client: Instance;
  readonly server: Instance;
  readonly protocol: 6;
  readonly port: number;
}

/** The whole estate. */
export interface Topology {
  readonly vpcs: readonly Vpc[];
  readonly flowLogs: readonly FlowLogDef[];
  readonly instances: readonly Instance[];
  readonly interfaces: readonly Iface[];
  readonly reuses: readonly AddressReuse[];
  /** The instance that runs the port scan. */
  readonly scanner: Instance;
  /** Calls between accounts (none in `single-v5`); scheduled apart from the random mix (generate-dataset.ts). */
  readonly crossAccount: readonly CrossAccountCall[];
}

interface VpcPlan {
  readonly account: number;
  readonly region: string;
  readonly format: FormatName;
  readonly fileFormat: 'text' | 'parquet';
  readonly layout: KeyLayout;
  readonly instances: number;
}

/** The three accounts; the first has a leading zero, which must survive every step (it is a string). */
export const ACCOUNTS = ['012345678901', '123456789012', '210987654321'] as const;

const AZ_IDS: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['use1-az1', 'use1-az2', 'use1-az4'],
  'eu-west-1': ['euw1-az1', 'euw1-az2', 'euw1-az3'],
  'us-west-2': ['usw2-az1', 'usw2-az2', 'usw2-az3'],
};

// Account 0: default layout, default format; account 1: Hive prefixes (hourly in us-west-2), alphabetical v3;
// account 2: full v5 as text, plus a small VPC delivering Parquet.
const PLANS: readonly VpcPlan[] = [
  { account: 0, region: 'us-east-1', format: 'v2-default', fileFormat: 'text', layout: 'default', instances: 130 },
  { account: 0, region: 'us-east-1', format: 'v2-default', fileFormat: 'text', layout: 'default', instances: 60 },
  { account: 0, region: 'eu-west-1', format: 'v2-default', fileFormat: 'text', layout: 'default', instances: 70 },
  { account: 1, region: 'us-east-1', format: 'v3-alphabetical', fileFormat: 'text', layout: 'hive', instances: 150 },
  {
    account: 1,
    region: 'us-west-2',
    format: 'v3-alphabetical',
    fileFormat: 'text',
    layout: 'hive-hourly',
    instances: 80,
  },
  { account: 2, region: 'eu-west-1', format: 'v5-full', fileFormat: 'text', layout: 'default', instances: 180 },
  { account: 2, region: 'eu-west-1', format: 'v5-full', fileFormat: 'parquet', layout: 'default', instances: 40 },
];

const ROLE_SHARES: readonly (readonly [Role, number])[] = [
  ['web', 0.25],
  ['app', 0.3],
  ['db', 0.06],
  ['cache', 0.05],
  ['batch', 0.3],
];

/**
 * Which flow logs the estate has: `mixed`, every plan above (3 accounts, 3 regions, v2/v3/v5 text and Parquet);
 * `single-v5`, only account 2's v5 text flow log in eu-west-1 (AWS's default key layout), the shape of a user with one
 * flow log that the ingest benchmark feeds; `accounts-v5`, every text VPC above (3 accounts, 3 regions) with its flow
 * log in v5 text and AWS's default key layout, the shape of an organisation that standardised on v5 (the scale
 * benchmark).
 */
export type EstateShape = 'mixed' | 'single-v5' | 'accounts-v5';

function estatePlans(shape: EstateShape): readonly VpcPlan[] {
  if (shape === 'mixed') return PLANS;
  if (shape === 'single-v5') return PLANS.filter((p) => p.format === 'v5-full' && p.fileFormat === 'text');
  return PLANS.filter((p) => p.fileFormat === 'text').map((p) => ({ ...p, format: 'v5-full', layout: 'default' }));
}

/** Builds the estate for a time range [from, to) in Unix seconds. */
export function buildTopology(rng: Prng, from: number, to: number, shape: EstateShape = 'mixed'): Topology {
  const vpcs: Vpc[] = [];
  const interfaces: Iface[] = [];
  const instances: Instance[] = [];
  const reuses: AddressReuse[] = [];
  const flowLogs: FlowLogDef[] = [];

  const plans = estatePlans(shape);
  plans.forEach((plan, v) => {
    const accountId = ACCOUNTS[plan.account] as string;
    const azs = AZ_IDS[plan.region] as readonly string[];
    const flowLog: FlowLogDef = {
      id: `fl-${rng.hex(8)}`,
      accountId,
      region: plan.region,
      vpcId: `vpc-${rng.hex(17)}`,
      formatName: plan.format,
      fields: FORMAT_FIELDS[plan.format],
      version: FORMAT_VERSION[plan.format],
      fileFormat: plan.fileFormat,
      layout: plan.layout,
    };
    flowLogs.push(flowLog);
    // Subnets: one public and one private per AZ; addresses 10.<v+10>.<subnet>.<host>.
    const subnets = azs.flatMap((azId, a) =>
      [0, 1].map((p) => ({ id: `subnet-${rng.hex(17)}`, azId, octet: a * 2 + p, next: 10 })),
    );
    const iface = (subnet: (typeof subnets)[number], kind: InterfaceKind, instanceId: string, ip?: string): Iface => {
      const made: Iface = {
        interfaceId: `eni-${rng.hex(17)}`,
        ip: ip ?? `10.${v + 10}.${subnet.octet}.${subnet.next++}`,
        recordAccountId: kind === 'endpoint' ? 'unknown' : accountId,
        region: plan.region,
        vpcId: flowLog.vpcId,
        subnetId: subnet.id,
        azId: subnet.azId,
        instanceId,
        kind,
        flowLog,
      };
      interfaces.push(made);
      return made;
    };
    const publicSubnets = subnets.filter((s) => s.octet % 2 === 0);
    const privateSubnets = subnets.filter((s) => s.octet % 2 === 1);
    const vpc: Vpc = {
      id: flowLog.vpcId,
      accountId,
      region: plan.region,
      flowLog,
      instances: [],
      byRole: new Map(),
      nat: iface(rng.pick(publicSubnets), 'nat', '-'),
      endpoint: iface(rng.pick(privateSubnets), 'endpoint', '-'),
      peer: null,
    };
    const addInstance = (role: Role, subnet: (typeof subnets)[number], ip?: string): Instance => {
      const id = `i-${rng.hex(17)}`;
      const inst: Instance = {
        id,
        role,
        iface: iface(subnet, 'instance', id, ip),
        nitro: rng.chance(0.8),
        vpc,
        aliveFrom: from,
        aliveTo: to,
        calls: [],
      };
      vpc.instances.push(inst);
      instances.push(inst);
      const list = vpc.byRole.get(role) ?? [];
      list.push(inst);
      vpc.byRole.set(role, list);
      return inst;
    };
    addInstance('dns', privateSubnets[0]!);
    addInstance('dns', privateSubnets[1]!);
    addInstance('bastion', publicSubnets[0]!);
    for (const [role, share] of ROLE_SHARES) {
      const count = Math.max(1, Math.round((plan.instances - 3) * share));
      for (let i = 0; i < count; i++)
        addInstance(role, role === 'web' ? rng.pick(publicSubnets) : rng.pick(privateSubnets));
    }
    // Address reuse: in each account's first VPC, two batch instances are terminated and their addresses handed to
    // new instances later, on another day when the range has more than one.
    if (vpcs.every((other) => other.accountId !== accountId)) {
      const handover = to - from > 86_400 ? from + 86_400 + 6 * 3600 : from + Math.floor((to - from) / 2);
      for (const first of (vpc.byRole.get('batch') ?? []).slice(0, 2)) {
        first.aliveTo = handover - 3600;
        const subnet = subnets.find((s) => s.id === first.iface.subnetId)!;
        const second = addInstance('batch', subnet, first.iface.ip);
        second.aliveFrom = handover;
        reuses.push({ ip: first.iface.ip, first, second });
      }
    }
    vpcs.push(vpc);
  });

  for (const vpc of vpcs) {
    vpc.peer =
      vpcs.find(
        (o) =>
          o !== vpc &&
          o.accountId === vpc.accountId &&
          o.region === vpc.region &&
          o.flowLog.fileFormat === vpc.flowLog.fileFormat,
      ) ?? null;
  }
  for (const vpc of vpcs) planCalls(rng, vpc);
  // The scanner lives for the whole range (not one of the instances whose address is reused).
  const scanner = (vpcs[0]!.byRole.get('batch') ?? []).findLast((i) => i.aliveFrom === from && i.aliveTo === to)!;
  // Drawn after everything above, so adding the links left every earlier id, address and call as it was.
  const crossAccount = planCrossAccount(rng, vpcs, (i) => i !== scanner && i.aliveFrom === from && i.aliveTo === to);
  return { vpcs, flowLogs, instances, interfaces, reuses, scanner, crossAccount };
}

/**
 * The links between accounts the estate allows (two accounts must log in one region): in us-east-1 a peering
 * connection between account 0's first VPC (v2) and account 1's (v3), used both ways; in eu-west-1 account 0's VPC
 * (v2) calling services in account 2's text VPC (v5), the shared-services VPC. Each end of a call in account 0 talks to
 * two peers: v2 records have no flow-direction, and an interface whose records of a day name a single peer cannot be
 * told from it when only its own account's records are read (docs/semantics.md §2), which is not what these calls
 * are meant to show. Ends are instances that live the whole range (no reused address) and are not the scanner.
 */
function planCrossAccount(rng: Prng, vpcs: readonly Vpc[], steady: (i: Instance) => boolean): CrossAccountCall[] {
  const vpcOf = (account: number, region: string, fileFormat = 'text'): Vpc | undefined =>
    vpcs.find((v) => v.accountId === ACCOUNTS[account] && v.region === region && v.flowLog.fileFormat === fileFormat);
  const two = (vpc: Vpc, role: Role): [Instance, Instance] => {
    const list = (vpc.byRole.get(role) ?? []).filter(steady);
    const i = rng.int(list.length);
    return [list[i]!, list[(i + 1) % list.length]!];
  };
  const calls: CrossAccountCall[] = [];
  const call = (link: CrossAccountLink, client: Instance, server: Instance, port: number) =>
    calls.push({ link, client, server, protocol: 6, port });
  const east0 = vpcOf(0, 'us-east-1');
  const east1 = vpcOf(1, 'us-east-1');
  if (east0 !== undefined && east1 !== undefined) {
    const [app0] = two(east0, 'app');
    const [db0] = two(east0, 'db');
    const [db1] = two(east1, 'db');
    const [cache1] = two(east1, 'cache');
    const [app1] = two(east1, 'app');
    const [batch1] = two(east1, 'batch');
    call('peering', app0, db1, 5432);
    call('peering', app0, cache1, 6379);
    call('peering', app1, db0, 5432);
    call('peering', batch1, db0, 5432);
  }
  const west0 = vpcOf(0, 'eu-west-1');
  const shared = vpcOf(2, 'eu-west-1');
  if (west0 !== undefined && shared !== undefined) {
    const [app0] = two(west0, 'app');
    const [batch0] = two(west0, 'batch');
    // Two services of the shared VPC: an internal HTTPS API and a directory (LDAPS).
    const [api, directory] = two(shared, 'app');
    for (const client of [app0, batch0]) {
      call('shared-services', client, api, 443);
      call('shared-services', client, directory, 636);
    }
    // Between regions (docs/semantics.md §10): account 1's us-west-2 VPC calls the shared services in eu-west-1, and
    // its own databases in us-east-1. Drawn last, so the calls above keep their ends.
    const oregon1 = vpcOf(1, 'us-west-2');
    if (oregon1 !== undefined && east1 !== undefined) {
      const [appA, appB] = two(oregon1, 'app');
      const [db1] = two(east1, 'db');
      call('inter-region-peering', appA, api, 443);
      call('inter-region-peering', appA, db1, 5432);
      call('inter-region-peering', appB, db1, 5432);
    }
  }
  return calls;
}

function planCalls(rng: Prng, vpc: Vpc): void {
  const role = (r: Role): Instance[] => vpc.byRole.get(r) ?? [];
  const peerDbs = vpc.peer?.byRole.get('db') ?? [];
  for (const inst of vpc.instances) {
    const calls: Call[] = [{ server: rng.pick(role('dns')), protocol: 17, port: 53 }];
    if (inst.role === 'web')
      for (let i = 0; i < 2; i++) calls.push({ server: rng.pick(role('app')), protocol: 6, port: 8080 });
    if (inst.role === 'app') {
      calls.push(
        { server: rng.pick(role('db')), protocol: 6, port: 5432 },
        { server: rng.pick(role('cache')), protocol: 6, port: 6379 },
      );
      if (peerDbs.length > 0 && rng.chance(0.3)) calls.push({ server: rng.pick(peerDbs), protocol: 6, port: 5432 });
    }
    if (inst.role === 'batch') calls.push({ server: rng.pick(role('db')), protocol: 6, port: 5432 });
    if (inst.role === 'db' && role('db').length > 1) calls.push({ server: role('db')[0]!, protocol: 6, port: 5432 });
    if (inst.role === 'bastion') {
      for (let i = 0; i < 12; i++) calls.push({ server: rng.pick(vpc.instances), protocol: 6, port: 22 });
      for (let i = 0; i < 6; i++) calls.push({ server: rng.pick(vpc.instances), protocol: 1, port: 0 });
    }
    inst.calls = calls.filter((c) => c.server !== inst);
  }
}
