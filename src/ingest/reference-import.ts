/**
 * `flowql ip-ranges import` and `flowql networks import`: a reference file (src/domain/reference-tables.ts) checked
 * whole, written as one Parquet file in staging, and committed with the same protocol as flows files
 * (ingest-commit.ts): the ledger records the file and its snapshot row in one transaction, the file is published, and
 * the manifest lists it under `references`; the snapshot it supersedes is retired (kept for the grace period like any
 * replaced file). A bad file throws before anything is staged, so nothing is half-loaded.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { parse as parseYaml } from 'yaml';
import { mergeInventory, parseEc2Document, type InventoryRow } from '../domain/inventory.ts';
import {
  parseAwsIpRanges,
  parseOwnNetworks,
  ReferenceFileError,
  type AwsRangeRow,
  type NetworkRow,
  type ReferenceKind,
} from '../domain/reference-tables.ts';
import { referenceDir } from '../store/layout.ts';
import { PARQUET_WRITE_OPTIONS } from '../store/parquet-options.ts';
import { build, sql } from '../store/sql.ts';
import { commit, withRecoveredEngine, type StageHook } from './ingest-commit.ts';
import { nextIds, type ReferenceSnapshot } from './ledger.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

/** What an import did. */
export interface ReferenceImportReport {
  readonly kind: ReferenceKind;
  /** imported: a new live snapshot; unchanged: the same version was already live (nothing written). */
  readonly outcome: 'imported' | 'unchanged';
  readonly version: string;
  readonly createdAt: string;
  readonly rows: number;
  /** The version this import replaced, if any. */
  readonly superseded: string | null;
}

/** A checked file, ready to write. */
export interface CheckedReference {
  readonly kind: ReferenceKind;
  readonly version: string;
  readonly createdAt: string;
  readonly source: string;
  /** DuckDB column definitions and one row of values per entry, in that order. */
  readonly columns: string;
  readonly rows: readonly (readonly DuckDBValue[])[];
  /** An ISO date for the ledger's `files.date` (NOT NULL there). */
  readonly date: string;
  /**
   * Column -> the expression COPY stores instead: the appender writes only integers and text, so lists of structs
   * travel as JSON text, times as ISO text, and NULL as ''.
   */
  readonly casts?: Readonly<Record<string, string>>;
  /** ORDER BY of the Parquet file (what its lookups filter on first). */
  readonly order?: string;
}

const PREFIX_COLUMNS = 'family INTEGER, prefix VARCHAR, prefix_len INTEGER, first_hex VARCHAR, last_hex VARCHAR';

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ReferenceFileError(`${path}: cannot read (${(err as Error).message})`);
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ReferenceFileError(`${source}: not JSON (${(err as Error).message})`);
  }
}

/** Reads and checks an ip-ranges.json. */
export async function readAwsIpRanges(path: string): Promise<CheckedReference> {
  const source = basename(path);
  const snapshot = parseAwsIpRanges(parseJson(await readText(path), source), source);
  return {
    kind: 'ip_ranges',
    version: snapshot.syncToken,
    createdAt: snapshot.createdAt,
    source,
    date: snapshot.createdAt.slice(0, 10),
    columns: `${PREFIX_COLUMNS}, service VARCHAR, region VARCHAR, network_border_group VARCHAR`,
    rows: snapshot.rows.map((r: AwsRangeRow) => [
      r.family,
      r.prefix,
      r.prefixLen,
      r.firstHex,
      r.lastHex,
      r.service,
      r.region,
      r.networkBorderGroup,
    ]),
  };
}

/** Reads and checks a networks file (YAML, or JSON, which YAML reads too). */
export async function readOwnNetworks(path: string, now: Date = new Date()): Promise<CheckedReference> {
  const source = basename(path);
  const text = await readText(path);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ReferenceFileError(`${source}: not YAML or JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const rows = parseOwnNetworks(doc, source);
  // The file carries no version of its own: its rows are its version, so importing the same networks is a no-op.
  const version = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16);
  return {
    kind: 'networks',
    version,
    createdAt: now.toISOString(),
    source,
    date: now.toISOString().slice(0, 10),
    columns: `${PREFIX_COLUMNS}, name VARCHAR, attributes STRUCT(key VARCHAR, value VARCHAR)[]`,
    rows: rows.map((r: NetworkRow) => [
      r.family,
      r.prefix,
      r.prefixLen,
      r.firstHex,
      r.lastHex,
      r.name,
      JSON.stringify(r.attributes),
    ]),
  };
}

/**
 * Reads and checks describe-instances / describe-network-interfaces outputs as one inventory snapshot valid from
 * `asOf`. Every file is checked before anything is written: one bad entry refuses them all.
 */
export async function readInventory(paths: readonly string[], asOf: Date): Promise<CheckedReference> {
  if (Number.isNaN(asOf.getTime())) throw new ReferenceFileError('--as-of: not a time');
  const documents = [];
  for (const path of paths) {
    const source = basename(path);
    documents.push({ source, doc: parseJson(await readText(path), source) });
  }
  return inventoryFromDocuments(documents, asOf);
}

/**
 * Checks parsed describe-* documents (read from files, or asked of the EC2 API by `inventory fetch`) as one inventory
 * snapshot valid from `asOf`; `source` names each in errors. The same rows at the same time are the same version,
 * wherever they came from.
 */
export function inventoryFromDocuments(
  documents: readonly { readonly source: string; readonly doc: unknown }[],
  asOf: Date,
): CheckedReference {
  if (Number.isNaN(asOf.getTime())) throw new ReferenceFileError('--as-of: not a time');
  const parts = documents.map(({ source, doc }) => ({ source, rows: parseEc2Document(doc, source) }));
  const rows = mergeInventory(parts);
  const validFrom = asOf.toISOString();
  // Its rows and its time are its version: the same files at the same as-of are a no-op.
  const version = createHash('sha256')
    .update(JSON.stringify([validFrom, rows]))
    .digest('hex')
    .slice(0, 16);
  return {
    kind: 'inventory',
    version,
    createdAt: validFrom,
    source: parts.map((p) => p.source).join(','),
    date: validFrom.slice(0, 10),
    columns:
      'account_id VARCHAR, resource_id VARCHAR, resource_type VARCHAR, instance_id VARCHAR, name VARCHAR, tags VARCHAR, valid_from VARCHAR, instance_type VARCHAR, security_groups VARCHAR, private_addresses VARCHAR, launch_time VARCHAR, attach_time VARCHAR',
    casts: {
      tags: 'CAST(tags AS JSON)::STRUCT(key VARCHAR, value VARCHAR)[]',
      security_groups: 'CAST(security_groups AS JSON)::STRUCT(id VARCHAR, name VARCHAR)[]',
      instance_type: "NULLIF(instance_type, '')",
      private_addresses: 'CAST(private_addresses AS JSON)::VARCHAR[]',
      launch_time: "CAST(replace(NULLIF(launch_time, ''), 'Z', '') AS TIMESTAMP)",
      attach_time: "CAST(replace(NULLIF(attach_time, ''), 'Z', '') AS TIMESTAMP)",
      // The lookup compares with record times, which are naive UTC TIMESTAMPs.
      valid_from: "CAST(replace(valid_from, 'Z', '') AS TIMESTAMP)",
      instance_id: "NULLIF(instance_id, '')",
      name: "NULLIF(name, '')",
    },
    order: 'resource_id',
    rows: rows.map((r: InventoryRow) => [
      r.accountId,
      r.resourceId,
      r.resourceType,
      r.instanceId ?? '',
      r.name ?? '',
      JSON.stringify(r.tags),
      validFrom,
      r.instanceType ?? '',
      JSON.stringify(r.securityGroups),
      JSON.stringify(r.privateAddresses),
      r.launchTime ?? '',
      r.attachTime ?? '',
    ]),
  };
}

async function one(c: DuckDBConnection, name: string, f: ReturnType<typeof sql>): Promise<Record<string, unknown>[]> {
  const q = build(name, f);
  return (await c.runAndReadAll(q.text, q.params as DuckDBValue[])).getRowObjectsJS();
}

/** Writes `ref` as a zstd Parquet file in staging, rows in `ref.order` (default: family, first_hex, prefix_len). */
async function stageParquet(c: DuckDBConnection, stagingDir: string, ref: CheckedReference): Promise<string> {
  const staged = join(stagingDir, `${ref.kind}-${randomUUID()}.parquet`);
  const networks = ref.kind === 'networks';
  const casts = Object.entries(ref.casts ?? {});
  await c.run(
    `CREATE OR REPLACE TABLE memory.main.reference_rows (${ref.columns.replace(
      'attributes STRUCT(key VARCHAR, value VARCHAR)[]',
      'attributes VARCHAR',
    )})`,
  );
  try {
    const app = await c.createAppender('reference_rows', 'main', 'memory');
    for (const row of ref.rows) {
      for (const v of row) {
        if (typeof v === 'number') app.appendInteger(v);
        else app.appendVarchar(String(v));
      }
      app.endRow();
    }
    app.closeSync();
    // Attributes travel as JSON text through the appender, and are stored as a list of {key, value} structs.
    const select = networks
      ? `SELECT * REPLACE (CAST(attributes AS JSON)::STRUCT(key VARCHAR, value VARCHAR)[] AS attributes)`
      : casts.length > 0
        ? `SELECT * REPLACE (${casts.map(([col, e]) => `${e} AS ${col}`).join(', ')})`
        : 'SELECT *';
    await c.run(
      `COPY (${select} FROM memory.main.reference_rows ORDER BY ${ref.order ?? 'family, first_hex, prefix_len'})
         TO '${staged.replaceAll("'", "''")}' (${PARQUET_WRITE_OPTIONS})`,
    );
  } finally {
    await c.run('DROP TABLE IF EXISTS memory.main.reference_rows');
  }
  return staged;
}

/** Options of importReference. */
export interface ReferenceImportOptions {
  readonly storage: WarehouseStorage;
  readonly stageHook?: StageHook;
}

/**
 * Imports a checked reference file into the warehouse: a no-op when its version is live already; for ip_ranges an
 * older syncToken than the live one is refused (AWS only publishes newer files; importing an old one by mistake
 * would rename history backwards). An inventory snapshot replaces only the one of the same as-of time: the others
 * stay live, each naming its own stretch of time. Returns what it did.
 */
export async function importReference(
  ref: CheckedReference,
  opts: ReferenceImportOptions,
): Promise<ReferenceImportReport> {
  const { storage } = opts;
  return withRecoveredEngine(storage, { threads: 1 }, async (engine) => {
    const c = engine.main;
    const [live] = await one(
      c,
      'reference.live',
      sql`SELECT r.version, r.path FROM reference_snapshots r JOIN files f ON f.path = r.path AND f.state = 'live'
           WHERE r.kind = ${ref.kind} AND (r.kind <> 'inventory' OR r.created_at = ${ref.createdAt})`,
    );
    const report = { kind: ref.kind, version: ref.version, createdAt: ref.createdAt, rows: ref.rows.length };
    const liveVersion = live ? String(live.version) : null;
    if (liveVersion === ref.version) return { ...report, outcome: 'unchanged', superseded: null };
    if (ref.kind === 'ip_ranges' && liveVersion !== null && BigInt(ref.version) < BigInt(liveVersion)) {
      throw new ReferenceFileError(
        `${ref.source}: syncToken ${ref.version} is older than the loaded snapshot's ${liveVersion}; nothing was imported`,
      );
    }
    const staged = await stageParquet(c, storage.stagingDir, ref);
    try {
      const path = `${referenceDir(ref.kind)}/part-${ref.version}-${basename(staged).slice(ref.kind.length + 1)}`;
      const { commitId } = await nextIds(c);
      const snapshot: ReferenceSnapshot = {
        kind: ref.kind,
        version: ref.version,
        createdAt: ref.createdAt,
        source: ref.source,
        path,
        rows: ref.rows.length,
      };
      await commit(
        c,
        storage,
        {
          commitId,
          kind: 'reference',
          sources: [],
          superseded: [],
          rejects: [],
          added: [
            {
              stagedPath: staged,
              path,
              table: ref.kind,
              accountId: '',
              region: '',
              date: ref.date,
              rows: ref.rows.length,
              bytes: (await stat(staged)).size,
              sources: [],
            },
          ],
          retired: live ? [String(live.path)] : [],
          references: [snapshot],
        },
        opts.stageHook ?? (async () => {}),
      );
    } catch (err) {
      await rm(staged, { force: true });
      throw err;
    }
    return { ...report, outcome: 'imported', superseded: liveVersion };
  });
}
