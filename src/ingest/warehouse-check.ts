/**
 * `flowql check [--repair]`: a warehouse against its manifest and ledger. Every manifest file must exist with its
 * size, open as Parquet, hold the manifest's row count and its table's columns, and decode; files under a table
 * prefix that neither the manifest nor the ledger knows are orphans; the ledger's live files and the manifest must
 * agree; and every loaded object's records must sit in live flows files.
 *
 * Repair takes the damaged files (and the derived files of their partitions, now stale) out of the manifest in one
 * commit, marks every object whose records are no longer all visible for reload (its ledger version is changed, so
 * the next `flowql ingest` of the same sources treats it as a changed object: the rows it still has elsewhere are
 * rewritten away and the whole object is loaded again, exactly once), lets recovery drop the orphans, and re-derives
 * the derived tables of partitions left without them.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { stat } from 'node:fs/promises';
import { STORED_COLUMNS } from '../domain/flow-schema.ts';
import { partitionKey, TABLES, type Manifest, type ManifestFile } from '../store/layout.ts';
import { staleDerivedFiles } from '../analytics/derived-hours.ts';
import { build, sql } from '../store/sql.ts';
import { commit, saveLedger, withRecoveredEngine } from './ingest-commit.ts';
import { runRederive } from './ingest-rederive.ts';
import { liveFiles, nextIds } from './ledger.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

/** A manifest file that cannot be served. */
export interface DamagedFile {
  readonly path: string;
  readonly partition: string;
  readonly problem: 'missing' | 'size' | 'unreadable' | 'rows' | 'schema';
  readonly detail: string;
}

/** A loaded object whose records are not all in live flows files. */
export interface ObjectMissingRows {
  readonly uri: string;
  readonly records: number;
  readonly visible: number;
  /** Already marked by a repair: the next ingest of its source reloads it. */
  readonly markedForReload: boolean;
}

/** What a check found. */
export interface CheckReport {
  readonly location: string;
  readonly generation: number;
  readonly filesChecked: number;
  readonly damaged: readonly DamagedFile[];
  /** Files under a table prefix listed by neither the manifest (live or retired) nor the ledger. */
  readonly orphans: readonly string[];
  /** Live in the ledger, absent from the manifest (a commit not rolled forward). */
  readonly notInManifest: readonly string[];
  /** In the manifest, not live in the ledger. */
  readonly notInLedger: readonly string[];
  readonly objectsMissingRows: readonly ObjectMissingRows[];
  /** False when the warehouse has no ledger (written elsewhere): only the manifest was checked. */
  readonly ledger: boolean;
}

/** What a repair did, and the check after it. */
export interface RepairReport {
  readonly before: CheckReport;
  readonly filesRemoved: number;
  readonly objectsMarkedForReload: number;
  readonly partitionsRederived: number;
  readonly after: CheckReport;
}

/** True when nothing needs repairing (objects already marked for reload wait for the next ingest, not a repair). */
export function isHealthy(r: CheckReport): boolean {
  return (
    r.damaged.length === 0 &&
    r.orphans.length === 0 &&
    r.notInManifest.length === 0 &&
    r.notInLedger.length === 0 &&
    r.objectsMissingRows.every((o) => o.markedForReload)
  );
}

/** The version a repair gives an object to reload: it matches no listed object, so the next ingest replaces it. */
const RELOAD_PREFIX = 'reload-after-repair:';

async function rows(c: DuckDBConnection, name: string, f: ReturnType<typeof sql>): Promise<Record<string, unknown>[]> {
  const q = build(name, f);
  return (await c.runAndReadAll(q.text, q.params as DuckDBValue[])).getRowObjectsJS();
}

/** Columns and types of a Parquet file, as one comparable string. */
async function signatureOf(c: DuckDBConnection, local: string): Promise<string> {
  const described = await rows(
    c,
    'check.describe',
    sql`DESCRIBE SELECT * FROM read_parquet(${local}, hive_partitioning = false)`,
  );
  return described.map((r) => `${String(r.column_name)} ${String(r.column_type)}`).join(', ');
}

const FLOWS_SIGNATURE = STORED_COLUMNS.map((col) => `${col.column} ${col.type}`).join(', ');

/** Checks one manifest file: null when it serves. */
async function checkFile(
  c: DuckDBConnection,
  storage: WarehouseStorage,
  f: ManifestFile,
  sizes: Map<string, number>,
): Promise<{ damage: DamagedFile } | { signature: string }> {
  const partition = partitionKey(f);
  const damaged = (problem: DamagedFile['problem'], detail: string) => ({
    damage: { path: f.path, partition, problem, detail },
  });
  const size = sizes.get(f.path);
  if (size === undefined) return damaged('missing', 'listed in the manifest, not on storage');
  if (size !== f.bytes) return damaged('size', `${size} bytes, the manifest says ${f.bytes}`);
  try {
    const local = await storage.readableFile(f.path);
    const [meta] = await rows(c, 'check.metadata', sql`SELECT sum(num_rows) AS n FROM parquet_file_metadata(${local})`);
    const n = Number(meta?.n ?? -1);
    if (n !== f.rows) return damaged('rows', `${n} rows, the manifest says ${f.rows}`);
    const signature = await signatureOf(c, local);
    // Every column decoded: a corrupt page fails here even when the footer is whole.
    await rows(
      c,
      'check.decode',
      sql`SELECT count(*) FROM read_parquet(${local}, hive_partitioning = false) t WHERE hash(t) IS NOT NULL`,
    );
    return { signature };
  } catch (err) {
    return damaged(
      'unreadable',
      ((err as Error).message.split('\n')[0] ?? '').replaceAll(storage.stagingDir, '<staging>'),
    );
  }
}

/**
 * Checks the warehouse in `storage`. `ledger` is a connection on which the ledger's tables are the unqualified ones
 * (the ingest engine's `USE ledger`), or null when the warehouse has none.
 */
export async function checkWarehouse(storage: WarehouseStorage, ledger: DuckDBConnection | null): Promise<CheckReport> {
  const manifest: Manifest | null = await storage.readManifest();
  if (manifest === null)
    throw new Error(
      `${storage.location} has no manifest (_flowql/manifest.json): not a flowql warehouse, or never ingested`,
    );
  const sizes = new Map<string, number>();
  const stored: string[] = [];
  for (const table of TABLES) {
    for (const f of await storage.listFiles(`${table}/`)) {
      sizes.set(f.path, f.bytes);
      stored.push(f.path);
    }
  }
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  const damaged: DamagedFile[] = [];
  try {
    const signatures = new Map<string, { file: ManifestFile; signature: string }[]>();
    for (const f of manifest.files) {
      const result = await checkFile(c, storage, f, sizes);
      if ('damage' in result) damaged.push(result.damage);
      else signatures.set(f.table, [...(signatures.get(f.table) ?? []), { file: f, signature: result.signature }]);
    }
    // Flows files must have the stored columns; a derived table's files the columns most of its files have.
    for (const [table, files] of signatures) {
      const counts = new Map<string, number>();
      for (const { signature } of files) counts.set(signature, (counts.get(signature) ?? 0) + 1);
      const expected = table === 'flows' ? FLOWS_SIGNATURE : [...counts].sort((a, b) => b[1] - a[1])[0]![0];
      for (const { file, signature } of files) {
        if (signature !== expected) {
          damaged.push({
            path: file.path,
            partition: partitionKey(file),
            problem: 'schema',
            detail: `columns (${signature}), expected (${expected})`,
          });
        }
      }
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }

  const listed = new Set([...manifest.files, ...(manifest.references ?? [])].map((f) => f.path));
  const known = new Set([...listed, ...(manifest.retired ?? []).map((f) => f.path)]);
  let notInManifest: string[] = [];
  let notInLedger: string[] = [];
  let objectsMissingRows: ObjectMissingRows[] = [];
  if (ledger) {
    const ledgerFiles = await rows(
      ledger,
      'check.ledger_files',
      sql`SELECT path, state FROM files WHERE state IN ('live', 'retired')`,
    );
    const live = new Set(ledgerFiles.filter((r) => r.state === 'live').map((r) => String(r.path)));
    for (const r of ledgerFiles) known.add(String(r.path));
    notInManifest = [...live].filter((p) => !listed.has(p)).sort();
    notInLedger = [...listed].filter((p) => !live.has(p)).sort();
    const bad = new Set(damaged.map((d) => d.path));
    const perSource = await rows(
      ledger,
      'check.source_rows',
      sql`SELECT s.uri, s.version, s.records, fs.path, fs.rows, f.state, f.table_name
            FROM sources s LEFT JOIN file_sources fs ON fs.source_id = s.source_id LEFT JOIN files f ON f.path = fs.path
           WHERE s.state = 'loaded' ORDER BY s.uri`,
    );
    const bySource = new Map<string, ObjectMissingRows>();
    for (const r of perSource) {
      const uri = String(r.uri);
      const prev = bySource.get(uri) ?? {
        uri,
        records: Number(r.records),
        visible: 0,
        markedForReload: String(r.version).startsWith(RELOAD_PREFIX),
      };
      const counts = r.state === 'live' && r.table_name === 'flows' && !bad.has(String(r.path));
      bySource.set(uri, counts ? { ...prev, visible: prev.visible + Number(r.rows) } : prev);
    }
    objectsMissingRows = [...bySource.values()].filter((o) => o.visible !== o.records);
  }
  return {
    location: storage.location,
    generation: manifest.generation,
    filesChecked: manifest.files.length,
    damaged: damaged.sort((a, b) => a.path.localeCompare(b.path)),
    orphans: stored.filter((p) => !known.has(p)).sort(),
    notInManifest,
    notInLedger,
    objectsMissingRows,
    ledger: ledger !== null,
  };
}

/** Runs `work` on a read-only view of the warehouse's ledger (null when it has none). */
export async function withLedgerReadOnly<T>(
  storage: WarehouseStorage,
  work: (ledger: DuckDBConnection | null) => Promise<T>,
): Promise<T> {
  const path = await storage.ledgerPath();
  if (!(await stat(path).catch(() => null))) return work(null);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    try {
      await c.run(`ATTACH '${path.replaceAll("'", "''")}' AS ledger (READ_ONLY)`);
    } catch (err) {
      const msg = (err as Error).message;
      const hint = /lock/i.test(msg)
        ? ' (an ingest, compact or derive is running on this warehouse: check again when it is done)'
        : '';
      throw new Error(`cannot open the ledger ${path}${hint}: ${msg}`, { cause: err });
    }
    await c.run('USE ledger');
    return await work(c);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Checks the warehouse without changing it. */
export function runCheck(storage: WarehouseStorage): Promise<CheckReport> {
  return withLedgerReadOnly(storage, (ledger) => checkWarehouse(storage, ledger));
}

/** Checks, repairs what can be repaired, re-derives, and checks again. */
export async function runRepair(
  storage: WarehouseStorage,
  onLog: (line: string) => void = () => {},
): Promise<RepairReport> {
  if (!(await stat(await storage.ledgerPath()).catch(() => null))) {
    throw new Error(
      `${storage.location} has no ledger (_flowql/ledger.duckdb): --repair needs the ingest ledger to know what to reload`,
    );
  }
  const before = await runCheck(storage);
  const { filesRemoved, objectsMarkedForReload } = await withRecoveredEngine(storage, {}, async (engine) => {
    const c = engine.main;
    const report = await checkWarehouse(storage, c); // after recovery: orphans gone, manifest matches the ledger
    const damaged = new Set(report.damaged.map((d) => d.path));
    const partitions = new Set(report.damaged.map((d) => d.partition));
    const live = await liveFiles(c);
    // Derived files a damaged flows file fed are stale (or damaged themselves): they go too, re-derived below. Those
    // are its partition's and its neighbouring days' (pairing crosses midnight), and its region's org tables'.
    const changed = live
      .filter((f) => f.table === 'flows' && damaged.has(f.path))
      .map((f) => ({ partition: { accountId: f.accountId, region: f.region, date: f.date }, starts: 'all' as const }));
    const stale = new Set(staleDerivedFiles(live, changed).map((f) => f.path));
    const retired = live.filter(
      (f) => damaged.has(f.path) || stale.has(f.path) || (f.table !== 'flows' && partitions.has(partitionKey(f))),
    );
    if (retired.length > 0) {
      const { commitId } = await nextIds(c);
      await commit(
        c,
        storage,
        {
          commitId,
          kind: 'repair',
          sources: [],
          superseded: [],
          rejects: [],
          added: [],
          retired: retired.map((f) => f.path),
        },
        async () => {},
      );
      for (const d of report.damaged) onLog(`removed ${d.path} (partition ${d.partition}): ${d.problem}, ${d.detail}`);
    }
    const missing = (await checkWarehouse(storage, c)).objectsMissingRows.filter((o) => !o.markedForReload);
    for (const o of missing) {
      const q = build(
        'check.mark_reload',
        sql`UPDATE sources SET version = ${RELOAD_PREFIX} || version WHERE uri = ${o.uri} AND state = 'loaded'`,
      );
      await c.run(q.text, q.params as DuckDBValue[]);
      onLog(`marked for reload: ${o.uri} (${o.visible} of its ${o.records} records remain visible)`);
    }
    if (missing.length > 0) await saveLedger(c, storage);
    return { filesRemoved: retired.length, objectsMarkedForReload: missing.length };
  });
  const derived = await runRederive({ storage, onLog });
  const after = await runCheck(storage);
  return { before, filesRemoved, objectsMarkedForReload, partitionsRederived: derived.partitionsDerived, after };
}
