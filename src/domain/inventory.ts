/**
 * The `inventory` reference table: EC2 instances and network interfaces as the AWS CLI prints them, reduced to what
 * names an endpoint (its Name tag, its tags, the account that owns it, and for an interface the instance it is
 * attached to). Pure: this module checks parsed documents and turns them into rows; reading files and writing Parquet
 * is ingest's (src/ingest/reference-import.ts).
 *
 * Shapes (as documented for `aws ec2 describe-instances` and `aws ec2 describe-network-interfaces`):
 * - `{ Reservations: [{ OwnerId, Instances: [{ InstanceId, InstanceType, LaunchTime, Tags: [{Key, Value}],
 *   SecurityGroups: [{ GroupId, GroupName }], NetworkInterfaces: [{ NetworkInterfaceId, Groups, Attachment:
 *   { AttachTime }, PrivateIpAddress, PrivateIpAddresses: [{ PrivateIpAddress }], Ipv6Addresses: [{ Ipv6Address }] }],
 *   ... }] }] }`
 * - `{ NetworkInterfaces: [{ NetworkInterfaceId, OwnerId, Attachment: { InstanceId, AttachTime }, TagSet: [{Key,
 *   Value}], Groups: [{ GroupId, GroupName }], PrivateIpAddress, PrivateIpAddresses, Ipv6Addresses, ... }] }`
 * - `aws ec2 describe-subnets` / `describe-vpcs`: `{ Subnets: [{ SubnetId, OwnerId, Tags }] }`, `{ Vpcs: [{ VpcId,
 *   OwnerId, Tags }] }` (the names of an end's subnet and VPC)
 */
import { parseAddressBlock } from './cidr.ts';
import { ReferenceFileError, type NetworkAttribute } from './reference-tables.ts';

/** One instance or interface of a snapshot. */
export interface InventoryRow {
  /** The account that owns the resource (the reservation's or the interface's OwnerId): the tenancy key. */
  readonly accountId: string;
  readonly resourceId: string;
  readonly resourceType: 'instance' | 'interface' | 'subnet' | 'vpc';
  /** An interface: the instance it is attached to in this snapshot; an instance: null. */
  readonly instanceId: string | null;
  /** The Name tag, if any. */
  readonly name: string | null;
  /** Every tag, sorted by key. */
  readonly tags: readonly NetworkAttribute[];
  /** An instance: its type (`InstanceType`, e.g. t3.medium); otherwise null. */
  readonly instanceType: string | null;
  /** An instance's or interface's security groups (id and name), sorted by id; empty for subnets and VPCs. */
  readonly securityGroups: readonly SecurityGroupRow[];
  /** An interface: its private IPv4 and its IPv6 addresses (canonical text, sorted); otherwise empty. */
  readonly privateAddresses: readonly string[];
  /** An instance: its `LaunchTime` (ISO 8601 UTC), if listed; otherwise null. */
  readonly launchTime: string | null;
  /** An interface: its `Attachment.AttachTime` (ISO 8601 UTC), if listed; otherwise null. */
  readonly attachTime: string | null;
}

/** A security group as describe-instances (`SecurityGroups`) and describe-network-interfaces (`Groups`) list it. */
export interface SecurityGroupRow {
  readonly id: string;
  readonly name: string;
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const INTERFACE_ID = /^eni-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const ACCOUNT_ID = /^\d{12}$/;

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ReferenceFileError(`${where}: expected an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ReferenceFileError(`${where}: expected a list`);
  return v;
}

function id(v: unknown, pattern: RegExp, where: string): string {
  if (typeof v !== 'string' || !pattern.test(v)) {
    throw new ReferenceFileError(`${where}: expected an id like ${pattern.source}, found ${JSON.stringify(v)}`);
  }
  return v;
}

/** AWS tags: `[{ Key, Value }]` (Value may be empty, never absent); sorted by key, a key twice refused. */
function tags(v: unknown, where: string): NetworkAttribute[] {
  const out = list(v, where).map((t, i) => {
    const tag = obj(t, `${where}[${i}]`);
    if (typeof tag.Key !== 'string' || tag.Key === '' || tag.Key.length > 128 || typeof tag.Value !== 'string') {
      throw new ReferenceFileError(`${where}[${i}]: expected { Key, Value } strings, found ${JSON.stringify(t)}`);
    }
    return { key: tag.Key, value: tag.Value };
  });
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const twice = out.find((t, i) => i > 0 && out[i - 1]!.key === t.key);
  if (twice) throw new ReferenceFileError(`${where}: tag ${JSON.stringify(twice.key)} is listed twice`);
  return out;
}

const nameOf = (t: readonly NetworkAttribute[]): string | null => t.find((x) => x.key === 'Name')?.value || null;

const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;

/** `[{ GroupId, GroupName }]`, sorted by id. */
function securityGroups(v: unknown, where: string): SecurityGroupRow[] {
  const out = list(v, where).map((g, i) => {
    const group = obj(g, `${where}[${i}]`);
    const name = group.GroupName;
    if (typeof name !== 'string') throw new ReferenceFileError(`${where}[${i}].GroupName: expected a string`);
    return { id: id(group.GroupId, SECURITY_GROUP_ID, `${where}[${i}].GroupId`), name };
  });
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** An instance type as AWS names it (`t3.medium`, `m7g.2xlarge`); absent in some outputs. */
function instanceType(v: unknown, where: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !/^[a-z0-9-]+\.[a-z0-9-]+$/.test(v))
    throw new ReferenceFileError(`${where}: expected an instance type like t3.medium, found ${JSON.stringify(v)}`);
  return v;
}

/**
 * A time as describe-* prints it (`2024-09-05T08:00:00+00:00`, `...000Z`), or the Date the SDK gives (`inventory
 * fetch`); absent: null. As ISO 8601 UTC.
 */
function awsTime(v: unknown, where: string): string | null {
  if (v === undefined || v === null) return null;
  const t = v instanceof Date ? v : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? new Date(v) : null;
  if (!t || Number.isNaN(t.getTime()))
    throw new ReferenceFileError(
      `${where}: expected a time like 2024-09-05T08:00:00+00:00, found ${JSON.stringify(v)}`,
    );
  return t.toISOString();
}

function address(v: unknown, where: string): string {
  const block = typeof v === 'string' ? parseAddressBlock(v) : null;
  if (!block || block.text.includes('/'))
    throw new ReferenceFileError(`${where}: expected an IP address, found ${JSON.stringify(v)}`);
  return block.text;
}

/** An interface's addresses: `PrivateIpAddress`, every `PrivateIpAddresses[].PrivateIpAddress` and `Ipv6Addresses[]`. */
function interfaceAddresses(eni: Record<string, unknown>, where: string): string[] {
  const out = new Set<string>();
  if (eni.PrivateIpAddress !== undefined && eni.PrivateIpAddress !== null)
    out.add(address(eni.PrivateIpAddress, `${where}.PrivateIpAddress`));
  list(eni.PrivateIpAddresses, `${where}.PrivateIpAddresses`).forEach((a, i) => {
    const at = `${where}.PrivateIpAddresses[${i}]`;
    out.add(address(obj(a, at).PrivateIpAddress, `${at}.PrivateIpAddress`));
  });
  list(eni.Ipv6Addresses, `${where}.Ipv6Addresses`).forEach((a, i) => {
    const at = `${where}.Ipv6Addresses[${i}]`;
    out.add(address(obj(a, at).Ipv6Address, `${at}.Ipv6Address`));
  });
  return [...out].sort();
}

/** An interface's `Attachment.AttachTime`. */
function attachTime(eni: Record<string, unknown>, where: string): string | null {
  if (eni.Attachment === undefined || eni.Attachment === null) return null;
  return awsTime(obj(eni.Attachment, `${where}.Attachment`).AttachTime, `${where}.Attachment.AttachTime`);
}

/**
 * Checks one parsed describe-instances or describe-network-interfaces document; `source` names the file in errors.
 * describe-instances also yields an interface row per attached interface (no tags: that output has none for them),
 * so an interface is named by its instance even without the interfaces file.
 */
export function parseEc2Document(doc: unknown, source: string): InventoryRow[] {
  const d = obj(doc, source);
  const rows: InventoryRow[] = [];
  if ('Reservations' in d) {
    list(d.Reservations, `${source}: Reservations`).forEach((r, ri) => {
      const where = `${source}: Reservations[${ri}]`;
      const reservation = obj(r, where);
      const accountId = id(reservation.OwnerId, ACCOUNT_ID, `${where}.OwnerId`);
      list(reservation.Instances, `${where}.Instances`).forEach((e, ii) => {
        const at = `${where}.Instances[${ii}]`;
        const instance = obj(e, at);
        const instanceId = id(instance.InstanceId, INSTANCE_ID, `${at}.InstanceId`);
        const t = tags(instance.Tags, `${at}.Tags`);
        rows.push({
          accountId,
          resourceId: instanceId,
          resourceType: 'instance',
          instanceId: null,
          name: nameOf(t),
          tags: t,
          instanceType: instanceType(instance.InstanceType, `${at}.InstanceType`),
          securityGroups: securityGroups(instance.SecurityGroups, `${at}.SecurityGroups`),
          privateAddresses: [],
          launchTime: awsTime(instance.LaunchTime, `${at}.LaunchTime`),
          attachTime: null,
        });
        list(instance.NetworkInterfaces, `${at}.NetworkInterfaces`).forEach((n, ni) => {
          const nw = `${at}.NetworkInterfaces[${ni}]`;
          const embedded = obj(n, nw);
          const eni = id(embedded.NetworkInterfaceId, INTERFACE_ID, `${nw}.NetworkInterfaceId`);
          rows.push({
            accountId,
            resourceId: eni,
            resourceType: 'interface',
            instanceId,
            name: null,
            tags: [],
            instanceType: null,
            securityGroups: securityGroups(embedded.Groups, `${nw}.Groups`),
            privateAddresses: interfaceAddresses(embedded, nw),
            launchTime: null,
            attachTime: attachTime(embedded, nw),
          });
        });
      });
    });
  } else if ('NetworkInterfaces' in d) {
    list(d.NetworkInterfaces, `${source}: NetworkInterfaces`).forEach((n, i) => {
      const where = `${source}: NetworkInterfaces[${i}]`;
      const eni = obj(n, where);
      const attachment = eni.Attachment === undefined ? {} : obj(eni.Attachment, `${where}.Attachment`);
      const t = tags(eni.TagSet, `${where}.TagSet`);
      rows.push({
        accountId: id(eni.OwnerId, ACCOUNT_ID, `${where}.OwnerId`),
        resourceId: id(eni.NetworkInterfaceId, INTERFACE_ID, `${where}.NetworkInterfaceId`),
        resourceType: 'interface',
        // Requester-managed interfaces (NAT gateways, endpoints) have an attachment without an instance.
        instanceId:
          attachment.InstanceId === undefined
            ? null
            : id(attachment.InstanceId, INSTANCE_ID, `${where}.Attachment.InstanceId`),
        name: nameOf(t),
        tags: t,
        instanceType: null,
        securityGroups: securityGroups(eni.Groups, `${where}.Groups`),
        privateAddresses: interfaceAddresses(eni, where),
        launchTime: null,
        attachTime: attachTime(eni, where),
      });
    });
  } else if ('Subnets' in d || 'Vpcs' in d) {
    // describe-subnets / describe-vpcs: only their names and tags, which name the subnet and VPC of an end.
    const subnets = 'Subnets' in d;
    const [key, idKey, pattern, resourceType] = subnets
      ? (['Subnets', 'SubnetId', SUBNET_ID, 'subnet'] as const)
      : (['Vpcs', 'VpcId', VPC_ID, 'vpc'] as const);
    list(d[key], `${source}: ${key}`).forEach((e, i) => {
      const where = `${source}: ${key}[${i}]`;
      const resource = obj(e, where);
      const t = tags(resource.Tags, `${where}.Tags`);
      rows.push({
        accountId: id(resource.OwnerId, ACCOUNT_ID, `${where}.OwnerId`),
        resourceId: id(resource[idKey], pattern, `${where}.${idKey}`),
        resourceType,
        instanceId: null,
        name: nameOf(t),
        tags: t,
        instanceType: null,
        securityGroups: [],
        privateAddresses: [],
        launchTime: null,
        attachTime: null,
      });
    });
  } else {
    throw new ReferenceFileError(
      `${source}: expected the output of aws ec2 describe-instances ({ Reservations }), describe-network-interfaces ({ NetworkInterfaces }), describe-subnets ({ Subnets }) or describe-vpcs ({ Vpcs })`,
    );
  }
  return rows;
}

/**
 * One snapshot from several documents: an interface listed by both outputs is merged (tags from the interfaces
 * output, the attachment from either); a resource that the documents disagree on (another owner, another instance,
 * an instance listed twice) refuses the snapshot, since either answer would be a guess.
 */
export function mergeInventory(parts: readonly { source: string; rows: readonly InventoryRow[] }[]): InventoryRow[] {
  const byId = new Map<string, { row: InventoryRow; source: string }>();
  for (const { source, rows } of parts) {
    for (const row of rows) {
      const seen = byId.get(row.resourceId);
      if (!seen) {
        byId.set(row.resourceId, { row, source });
        continue;
      }
      const a = seen.row;
      const clash =
        row.resourceType !== 'interface' ||
        a.accountId !== row.accountId ||
        (a.instanceId !== null && row.instanceId !== null && a.instanceId !== row.instanceId) ||
        (a.tags.length > 0 && row.tags.length > 0 && JSON.stringify(a.tags) !== JSON.stringify(row.tags)) ||
        (a.securityGroups.length > 0 &&
          row.securityGroups.length > 0 &&
          JSON.stringify(a.securityGroups) !== JSON.stringify(row.securityGroups));
      if (clash) {
        throw new ReferenceFileError(
          `${source}: ${row.resourceId} is also in ${seen.source} with another owner, attachment, tags or security groups`,
        );
      }
      const tagged = row.tags.length > 0 ? row : a;
      byId.set(row.resourceId, {
        row: {
          ...a,
          instanceId: a.instanceId ?? row.instanceId,
          name: tagged.name,
          tags: tagged.tags,
          securityGroups: a.securityGroups.length > 0 ? a.securityGroups : row.securityGroups,
          privateAddresses: [...new Set([...a.privateAddresses, ...row.privateAddresses])].sort(),
          attachTime: a.attachTime ?? row.attachTime,
        },
        source: seen.source,
      });
    }
  }
  const rows = [...byId.values()].map((v) => v.row);
  if (rows.length === 0)
    throw new ReferenceFileError(`${parts.map((p) => p.source).join(', ')}: no instances or interfaces`);
  return rows.sort((a, b) => (a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : 0));
}
