/**
 * A committed file the API cannot read (deleted, truncated, overwritten) is not a bug in a query: it is damage to the
 * warehouse, which an operator repairs with `flowql check --repair`. A statement that fails on such a file becomes a
 * WarehouseDamagedError naming the file and its partition (GraphQL `WAREHOUSE_DAMAGED`, datasets HTTP 503), and the
 * damage is remembered for `/ready`, which stays red while the manifest still lists the file.
 */
import { sep } from 'node:path';
import type { Manifest } from './layout.ts';
import type { WarehouseReader } from './warehouse-reader.ts';

/** A statement read a committed file that is missing or corrupt. */
export class WarehouseDamagedError extends Error {
  override readonly name = 'WarehouseDamagedError';
  /** The file, relative to the warehouse root (null when DuckDB did not say which file). */
  readonly file: string | null;
  /** `account/region/date` of the file, when known. */
  readonly partition: string | null;
  /** DuckDB's reason, without the absolute path. */
  readonly reason: string;
  constructor(file: string | null, partition: string | null, reason: string) {
    super(
      file
        ? `The warehouse is damaged: ${file} (partition ${partition ?? 'unknown'}) cannot be read (${reason}); an operator must run flowql check --repair`
        : `The warehouse is damaged: a committed Parquet file cannot be read (${reason}); an operator must run flowql check --repair`,
    );
    this.file = file;
    this.partition = partition;
    this.reason = reason;
  }
}

/** A damaged file as `/ready` reports it. */
export interface FileDamage {
  readonly file: string | null;
  readonly partition: string | null;
  readonly reason: string;
  /** Manifest generation the damage was seen on (an unnamed file's damage lasts as long as that generation). */
  readonly generation: number;
}

const damageByRoot = new Map<string, Map<string, FileDamage>>();

/** Remembers damage found under `root` (one registry per warehouse root in this process). */
export function reportDamage(root: string, damage: FileDamage): void {
  let found = damageByRoot.get(root);
  if (!found) damageByRoot.set(root, (found = new Map()));
  found.set(damage.file ?? `?${damage.generation}`, damage);
}

/** Damage under `root` that `manifest` still exposes: named files it still lists, unnamed damage of its generation. */
export function currentDamage(root: string, manifest: Manifest): FileDamage[] {
  const found = damageByRoot.get(root);
  if (!found) return [];
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const [key, d] of found) {
    if (d.file ? !listed.has(d.file) : d.generation !== manifest.generation) found.delete(key);
  }
  return [...found.values()];
}

const QUOTED_PARQUET = /["']([^"']+\.parquet)["']/g;
// Thrift/page decoding errors of a corrupt Parquet file that DuckDB reports without its path. Only these: DuckDB's
// generic "Invalid Error" type, or any message with "corrupt" in it, would turn an unrelated failure into damage
// (a 503 and a red /ready).
const CORRUPT_WITHOUT_PATH =
  /TProtocolException|No magic bytes|corrupt(?:ed)? (?:parquet|file|page|footer|metadata)|parquet.*(?:corrupt|truncated)/i;

/**
 * The damage behind a failed statement over `warehouse`, or null when `err` is not about a warehouse file. The
 * file is looked up in the request's (pinned) manifest for its partition.
 */
export async function warehouseDamageOf(
  warehouse: WarehouseReader,
  err: unknown,
): Promise<WarehouseDamagedError | null> {
  if (err instanceof WarehouseDamagedError) return err; // already classified by a nested statement budget
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n')[0] ?? message;
  const prefix = warehouse.root.endsWith(sep) ? warehouse.root : `${warehouse.root}${sep}`;
  const named = [...message.matchAll(QUOTED_PARQUET)].map((m) => m[1]!).find((p) => p.startsWith(prefix));
  if (!named && !CORRUPT_WITHOUT_PATH.test(firstLine)) return null;
  const manifest = await warehouse.manifest().catch(() => null);
  const file = named ? named.slice(prefix.length).split(sep).join('/') : null;
  const listed = file ? manifest?.files.find((f) => f.path === file) : undefined;
  const partition = listed
    ? `${listed.accountId}/${listed.region}/${listed.date}`
    : file
      ? partitionOfPath(file)
      : null;
  const reason = (named ? firstLine.replaceAll(named, file!) : firstLine).replaceAll(prefix, '');
  const damage = new WarehouseDamagedError(file, partition, reason);
  reportDamage(warehouse.root, { file, partition, reason, generation: manifest?.generation ?? 0 });
  return damage;
}

/** `account/region/date` from a Hive path (`flows/account_id=…/region=…/date=…/part-….parquet`), or null. */
function partitionOfPath(path: string): string | null {
  const m = /account_id=([^/]+)\/region=([^/]+)\/date=([^/]+)\//.exec(path);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : null;
}
