/**
 * Names of addresses from the reference tables (src/domain/reference-tables.ts), looked up at query time in the
 * snapshots the request's manifest lists, so a new snapshot renames history. The ends a response shows are collected
 * while GraphQL resolves them and looked up in one statement per batch (reference.lookup): a question that shows no
 * name, and every question when no snapshot is loaded, runs nothing.
 */
import { join } from 'node:path';
import { ADDRESS_REFERENCE_KINDS, type AddressReferenceKind } from '../domain/reference-tables.ts';
import { manifestReference, type Manifest } from '../store/layout.ts';
import { referenceLookupQuery } from '../store/queries/reference-lookup-query.ts';
import { runQuery, type QueryContext } from '../store/query-runner.ts';
import type { WarehouseReader } from '../store/warehouse-reader.ts';

/** The AWS range that names an address. */
export interface AwsRange {
  readonly service: string;
  readonly region: string;
  readonly networkBorderGroup: string;
  readonly prefix: string;
}

/** Your own network that holds an address. */
export interface OwnNetwork {
  readonly name: string;
  readonly prefix: string;
  readonly attributes: readonly { readonly key: string; readonly value: string }[];
}

/** What the reference tables say about one address. */
export interface AddressNames {
  readonly awsRange: AwsRange | null;
  readonly network: OwnNetwork | null;
}

const NOTHING: AddressNames = { awsRange: null, network: null };

/** Absolute paths of the live snapshots in `manifest`, for validateFlowFilter's `referenceTables`. */
export function referenceTablePaths(
  warehouse: Pick<WarehouseReader, 'root'>,
  manifest: Manifest,
): Partial<Record<AddressReferenceKind, string>> {
  const out: Partial<Record<AddressReferenceKind, string>> = {};
  for (const kind of ADDRESS_REFERENCE_KINDS) {
    const ref = manifestReference(manifest, kind);
    if (ref) out[kind] = join(warehouse.root, ...ref.path.split('/'));
  }
  return out;
}

/**
 * referenceTablePaths of the request's manifest, with the snapshots of `kinds` made readable for the request first:
 * an S3 replica fetches committed files on demand (src/store/scan-files.ts), and a snapshot is one (a few hundred KB).
 * Only the kinds a request reads: a question that names no AWS service or network fetches nothing.
 */
export async function readyReferenceTables(
  warehouse: Pick<WarehouseReader, 'root' | 'manifest' | 'prepare'>,
  kinds: readonly AddressReferenceKind[] = ADDRESS_REFERENCE_KINDS,
): Promise<Partial<Record<AddressReferenceKind, string>>> {
  const manifest = await warehouse.manifest();
  const live = kinds.flatMap((kind) => manifestReference(manifest, kind) ?? []);
  if (live.length > 0) await warehouse.prepare(live);
  return referenceTablePaths(warehouse, manifest);
}

/** The reference kinds a raw filter input reads: `awsServices` the ip-ranges, `networks` the networks. */
export function referenceKindsOf(input: unknown): AddressReferenceKind[] {
  const given = (key: string) =>
    typeof input === 'object' && input !== null && (input as Record<string, unknown>)[key] != null;
  return [
    ...(given('awsServices') ? (['ip_ranges'] as const) : []),
    ...(given('networks') ? (['networks'] as const) : []),
  ];
}

type Lookup = (addr: string | null | undefined) => Promise<AddressNames>;
const lookups = new WeakMap<QueryContext, Lookup>();

/** The request's batched lookup (one per QueryContext): addresses asked in one tick share a statement. */
export function addressNames(ctx: QueryContext): Lookup {
  let lookup = lookups.get(ctx);
  if (lookup) return lookup;
  const known = new Map<string, Promise<AddressNames>>();
  let pending = new Map<string, (v: AddressNames) => void>();
  let failures: ((err: unknown) => void)[] = [];
  const flush = async () => {
    const batch = pending;
    const fail = failures;
    pending = new Map();
    failures = [];
    try {
      const paths = await readyReferenceTables(ctx.warehouse);
      const found = new Map<string, AddressNames>();
      if (paths.ip_ranges || paths.networks) {
        const query = referenceLookupQuery({
          addresses: [...batch.keys()],
          ipRanges: paths.ip_ranges ?? null,
          networks: paths.networks ?? null,
        });
        for (const row of await runQuery(ctx, query)) {
          const aws = row.aws as Record<string, string> | null;
          const network = row.network as OwnNetwork | null;
          found.set(String(row.addr), {
            awsRange: aws
              ? {
                  service: aws.service!,
                  region: aws.region!,
                  networkBorderGroup: aws.network_border_group!,
                  prefix: aws.prefix!,
                }
              : null,
            network: network ? { name: network.name, prefix: network.prefix, attributes: network.attributes } : null,
          });
        }
      }
      for (const [addr, resolve] of batch) resolve(found.get(addr) ?? NOTHING);
    } catch (err) {
      for (const reject of fail) reject(err);
    }
  };
  lookup = (addr) => {
    if (!addr) return Promise.resolve(NOTHING);
    let answer = known.get(addr);
    if (!answer) {
      answer = new Promise<AddressNames>((resolve, reject) => {
        if (pending.size === 0) setImmediate(() => void flush());
        pending.set(addr, resolve);
        failures.push(reject);
      });
      known.set(addr, answer);
    }
    return answer;
  };
  lookups.set(ctx, lookup);
  return lookup;
}
