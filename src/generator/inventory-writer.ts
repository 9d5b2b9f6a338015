/**
 * The estate's inventory as the AWS CLI prints it: `describe-instances.json` (every instance the flow logs name, with
 * its Name/team/app tags and primary interface), `describe-network-interfaces.json` (the requester-managed
 * interfaces, NAT gateways and interface endpoints, which no instance owns), and `describe-subnets.json` /
 * `describe-vpcs.json` (the names of their subnets and VPCs). Written beside the flow logs, under
 * `<out>/inventory/`, so `flowql inventory import` can name what the records only know by id.
 *
 * Derived from the topology alone, never from the PRNG: drawing here would shift every record drawn after it, and the
 * flow records and ground truth must stay what they were without the inventory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Iface, Instance, Role, Topology, Vpc } from './topology.ts';

/** The folder, under the generator's output, that holds the inventory (outside AWSLogs/, which ingest reads). */
export const INVENTORY_DIR = 'inventory';

/** A team per VPC, in topology order: the names read like an estate run by several teams. */
const TEAMS = ['storefront', 'payments', 'search', 'orders', 'ledger', 'identity', 'reporting'] as const;

/** What each role's instances are called (with the team, when the role belongs to one) and run on. */
const ROLE_NAMES: Readonly<Record<Role, { readonly app: (team: string) => string; readonly type: string }>> = {
  web: { app: (team) => `${team}-web`, type: 'c6i.large' },
  app: { app: (team) => `${team}-api`, type: 'm6i.large' },
  db: { app: (team) => `${team}-postgres`, type: 'r6i.xlarge' },
  cache: { app: (team) => `${team}-redis`, type: 'r6g.large' },
  batch: { app: (team) => `${team}-worker`, type: 'c6i.xlarge' },
  dns: { app: () => 'dns-resolver', type: 't3.small' },
  bastion: { app: () => 'bastion', type: 't3.micro' },
};

/** Older (Xen) instances run on previous-generation types. */
const XEN_TYPE = 'm4.large';

/** The team of a VPC, stable for a seed: its position in the estate. */
function teamOf(topo: Topology, vpc: Vpc): string {
  return TEAMS[topo.vpcs.indexOf(vpc) % TEAMS.length]!;
}

/** `use1-az2` -> `us-east-1b`: AZ names are per account in AWS; the demo maps them in id order for every account. */
function azName(region: string, azId: string): string {
  const n = Number(/az(\d+)$/.exec(azId)?.[1] ?? 1);
  return `${region}${String.fromCharCode(96 + n)}`;
}

const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString().replace('.000Z', '+00:00');
const tag = (Key: string, Value: string) => ({ Key, Value });
/** Resource ids that AWS would have assigned alongside the interface's, derived from it so they stay stable. */
const suffix = (i: Iface): string => i.interfaceId.slice('eni-'.length);

/** The Name of each instance: `<app>-<n>`, numbered per VPC and app in topology order; a lone bastion is unnumbered. */
export function instanceNames(topo: Topology): Map<string, string> {
  const names = new Map<string, string>();
  for (const vpc of topo.vpcs) {
    const team = teamOf(topo, vpc);
    const counts = new Map<string, number>();
    const prefix = (inst: Instance): string => {
      const app = ROLE_NAMES[inst.role].app(team);
      // dns and bastion are the platform's, in every VPC: the VPC's team tells them apart.
      return inst.role === 'dns' || inst.role === 'bastion' ? `${app}-${team}` : app;
    };
    for (const inst of vpc.instances) {
      const p = prefix(inst);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const seen = new Map<string, number>();
    for (const inst of vpc.instances) {
      const p = prefix(inst);
      const n = (seen.get(p) ?? 0) + 1;
      seen.set(p, n);
      names.set(inst.id, counts.get(p) === 1 ? p : `${p}-${n}`);
    }
  }
  return names;
}

/**
 * The `aws ec2 describe-instances` output of the estate: one reservation per instance, as separate launches make.
 * With `at` (epoch seconds), only the instances running then, as a describe call at that time lists them.
 */
export function describeInstances(topo: Topology, at?: number): object {
  const names = instanceNames(topo);
  const running = at === undefined ? topo.instances : topo.instances.filter((i) => i.aliveFrom <= at && at < i.aliveTo);
  return {
    Reservations: running.map((inst) => {
      const team = teamOf(topo, inst.vpc);
      const i = inst.iface;
      return {
        Groups: [],
        Instances: [
          {
            InstanceId: inst.id,
            InstanceType: inst.nitro ? ROLE_NAMES[inst.role].type : XEN_TYPE,
            LaunchTime: iso(inst.aliveFrom),
            Placement: { AvailabilityZone: azName(i.region, i.azId), GroupName: '', Tenancy: 'default' },
            PrivateIpAddress: i.ip,
            State: { Code: 16, Name: 'running' },
            SubnetId: i.subnetId,
            VpcId: i.vpcId,
            NetworkInterfaces: [
              {
                Attachment: { DeviceIndex: 0, Status: 'attached' },
                Description: '',
                InterfaceType: 'interface',
                NetworkInterfaceId: i.interfaceId,
                OwnerId: inst.vpc.accountId,
                PrivateIpAddress: i.ip,
                SubnetId: i.subnetId,
                VpcId: i.vpcId,
              },
            ],
            Tags: [
              tag('Name', names.get(inst.id)!),
              tag('app', ROLE_NAMES[inst.role].app(team)),
              tag('team', inst.role === 'dns' || inst.role === 'bastion' ? 'platform' : team),
            ],
          },
        ],
        OwnerId: inst.vpc.accountId,
        ReservationId: `r-${inst.id.slice('i-'.length)}`,
      };
    }),
  };
}

/** The `aws ec2 describe-network-interfaces` output of the interfaces no instance owns (NAT gateways, endpoints). */
export function describeNetworkInterfaces(topo: Topology): object {
  return {
    NetworkInterfaces: topo.vpcs.flatMap((vpc) => {
      const team = teamOf(topo, vpc);
      return [vpc.nat, vpc.endpoint].map((i) => {
        const nat = i.kind === 'nat';
        const owner = nat ? `nat-${suffix(i)}` : `vpce-${suffix(i)}`;
        const name = nat ? `nat-${team}-${azName(i.region, i.azId).slice(-1)}` : `vpce-s3-${team}`;
        return {
          // Requester-managed: attached, but to no instance.
          Attachment: { DeviceIndex: 1, InstanceOwnerId: 'amazon-aws', Status: 'attached' },
          AvailabilityZone: azName(i.region, i.azId),
          Description: nat ? `Interface for NAT Gateway ${owner}` : `VPC Endpoint Interface ${owner}`,
          InterfaceType: nat ? 'nat_gateway' : 'vpc_endpoint',
          NetworkInterfaceId: i.interfaceId,
          // An endpoint interface's records say `unknown`, but the interface belongs to the VPC's account.
          OwnerId: vpc.accountId,
          PrivateIpAddress: i.ip,
          RequesterId: nat ? 'AIDAEXAMPLENATGATEWAY' : 'AROAEXAMPLEVPCENDPOINT',
          RequesterManaged: true,
          Status: 'in-use',
          SubnetId: i.subnetId,
          TagSet: [tag('Name', name), tag('team', 'platform')],
          VpcId: i.vpcId,
        };
      });
    }),
  };
}

/** The `aws ec2 describe-vpcs` output of the estate: each VPC named after its team. */
export function describeVpcs(topo: Topology): object {
  return {
    Vpcs: topo.vpcs.map((vpc) => ({
      CidrBlock: '10.0.0.0/16',
      IsDefault: false,
      OwnerId: vpc.accountId,
      State: 'available',
      Tags: [tag('Name', `${teamOf(topo, vpc)}-vpc`), tag('team', teamOf(topo, vpc))],
      VpcId: vpc.id,
    })),
  };
}

/** The `aws ec2 describe-subnets` output: every subnet an interface sits in, `<team>-<az>-<n>` in topology order. */
export function describeSubnets(topo: Topology): object {
  const subnets = new Map<string, { vpc: Vpc; iface: Iface }>();
  for (const vpc of topo.vpcs)
    for (const iface of [...vpc.instances.map((i) => i.iface), vpc.nat, vpc.endpoint])
      if (!subnets.has(iface.subnetId)) subnets.set(iface.subnetId, { vpc, iface });
  const counts = new Map<string, number>();
  return {
    Subnets: [...subnets].map(([subnetId, { vpc, iface }]) => {
      const az = azName(iface.region, iface.azId);
      const prefix = `${teamOf(topo, vpc)}-${az.slice(-1)}`;
      const n = (counts.get(prefix) ?? 0) + 1;
      counts.set(prefix, n);
      return {
        AvailabilityZone: az,
        AvailabilityZoneId: iface.azId,
        OwnerId: vpc.accountId,
        State: 'available',
        SubnetId: subnetId,
        Tags: [tag('Name', `${prefix}-${n}`), tag('team', teamOf(topo, vpc))],
        VpcId: vpc.id,
      };
    }),
  };
}

/** Writes the documents under `<outDir>/inventory/`; returns their paths (instances first). */
export async function writeInventory(outDir: string, topo: Topology, at?: number): Promise<string[]> {
  const dir = at === undefined ? join(outDir, INVENTORY_DIR) : join(outDir, INVENTORY_DIR, snapshotFolder(at));
  await mkdir(dir, { recursive: true });
  const files: [string, object][] = [
    ['describe-instances.json', describeInstances(topo, at)],
    ['describe-network-interfaces.json', describeNetworkInterfaces(topo)],
    ['describe-subnets.json', describeSubnets(topo)],
    ['describe-vpcs.json', describeVpcs(topo)],
  ];
  const paths: string[] = [];
  for (const [name, doc] of files) {
    const path = join(dir, name);
    // The AWS CLI's own indentation, so the files read like a pasted `aws ec2 ... --output json`.
    await writeFile(path, `${JSON.stringify(doc, null, 4)}\n`);
    paths.push(path);
  }
  return paths;
}

/** A snapshot's folder under inventory/: its time, as a name every file system takes (`2024-09-05T12-00-00Z`). */
const snapshotFolder = (at: number) =>
  new Date(at * 1000)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');

/** An inventory snapshot as a cron job taking it would have: its time and its describe-* files. */
export interface InventorySnapshot {
  readonly asOf: Date;
  readonly paths: readonly string[];
}

/**
 * Snapshots of the estate over its range, as `flowql inventory fetch` from cron would take them: one at `from`, and
 * one whenever instances were replaced (the estate's address reuse: a terminated instance's address handed to a new
 * one), each listing the instances running then. Written to inventory/<time>/.
 */
export async function writeInventorySnapshots(
  outDir: string,
  topo: Topology,
  from: number,
): Promise<InventorySnapshot[]> {
  const times = [...new Set([from, ...topo.reuses.map((r) => r.second.aliveFrom)])].sort((a, b) => a - b);
  const out: InventorySnapshot[] = [];
  for (const at of times) out.push({ asOf: new Date(at * 1000), paths: await writeInventory(outDir, topo, at) });
  return out;
}
