/**
 * `/ready`: can this process answer queries? The warehouse directory is readable, the manifest exists and parses
 * (migrations/commits have produced a warehouse), and — when an ingest ledger exists — its schema version is the
 * newest this build knows (an old ledger means `flowql ingest` has not migrated it yet). The ledger is opened
 * read-only in a separate DuckDB instance; while an ingest holds its lock the check reports "busy" and stays ready
 * (the last ingest committed a manifest readers can use). Results are cached by file stamps, so probes are cheap.
 * The files check is red while a manifest file is missing, has the wrong size (checked by `stat` once per generation
 * and minute; not for an S3 replica, whose files are fetched on demand) or failed a query (or its fetch) as damaged (src/store/warehouse-damage.ts); `flowql check --repair` fixes it.
 * Callers without an operator key (when keys are configured) see no paths or file names: `publicReadiness`.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { warehousePaths, type Manifest } from '../store/layout.ts';
import { loadMigrations } from '../store/migrations.ts';
import { currentDamage, type FileDamage } from '../store/warehouse-damage.ts';
import { notAWarehouseReason } from '../store/warehouse-presence.ts';
import type { WarehouseReader } from '../store/warehouse-reader.ts';

/** One named check and its outcome. */
export interface ReadinessCheck {
  readonly name: 'warehouse' | 'manifest' | 'files' | 'ledger';
  readonly ok: boolean;
  readonly detail: string;
  /** What a caller without an operator key may see instead of `detail` (default: `detail` without the warehouse path). */
  readonly publicDetail?: string;
}

/** All checks; ready when every one is ok. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: readonly ReadinessCheck[];
}

const stampOf = async (path: string): Promise<string | null> => {
  const s = await stat(path).catch(() => null);
  return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : null;
};

async function ledgerVersion(path: string): Promise<number> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    try {
      const rows = (
        await connection.runAndReadAll('SELECT max(version) AS v FROM schema_migrations')
      ).getRowObjectsJS();
      return Number(rows[0]?.v ?? 0);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/**
 * The checks as `/ready` shows them: everything to an operator; to anyone else (when API keys are configured) no
 * path under the warehouse and no file name, which would name accounts.
 */
export function readinessChecksFor(
  readiness: Readiness,
  root: string,
  operator: boolean,
): { name: string; ok: boolean; detail: string }[] {
  return readiness.checks.map((c) => ({
    name: c.name,
    ok: c.ok,
    detail: operator ? c.detail : (c.publicDetail ?? c.detail.replaceAll(root, '<data>')),
  }));
}

/** Damage a stat shows: a manifest file that is missing or whose size is not the manifest's. */
async function statDamage(root: string, manifest: Manifest): Promise<FileDamage[]> {
  const found: FileDamage[] = [];
  const files = manifest.files;
  for (let i = 0; i < files.length; i += 64) {
    await Promise.all(
      files.slice(i, i + 64).map(async (f) => {
        const s = await stat(join(root, ...f.path.split('/'))).catch(() => null);
        const reason =
          s === null ? 'missing' : s.size !== f.bytes ? `${s.size} bytes, the manifest says ${f.bytes}` : null;
        if (reason)
          found.push({
            file: f.path,
            partition: `${f.accountId}/${f.region}/${f.date}`,
            reason,
            generation: manifest.generation,
          });
      }),
    );
  }
  return found.sort((a, b) => (a.file ?? '').localeCompare(b.file ?? ''));
}

/** Seconds a stat sweep of the manifest's files is reused while the generation does not change. */
const STAT_SWEEP_MS = 60_000;

/**
 * A readiness checker for the warehouse behind `warehouse`. `dataArg` is the `--data` the operator gave, for the
 * commands it suggests: an s3:// warehouse is served from a local cache, which has no ledger to check or repair.
 */
export function createReadinessCheck(
  warehouse: WarehouseReader,
  dataArg: string = warehouse.root,
): () => Promise<Readiness> {
  const paths = warehousePaths(warehouse.root);
  let ledgerCache: { stamp: string; check: ReadinessCheck } | null = null;
  let newest: number | null = null;
  let sweep: { generation: number; at: number; damage: FileDamage[] } | null = null;

  async function filesCheck(m: Manifest): Promise<ReadinessCheck> {
    // Files fetched on demand (an S3 replica) are mostly not on disk: only what requests found (missing on S3, or
    // corrupt) counts.
    if (warehouse.files) sweep = { generation: m.generation, at: Date.now(), damage: [] };
    else if (sweep?.generation !== m.generation || Date.now() - sweep.at > STAT_SWEEP_MS) {
      sweep = { generation: m.generation, at: Date.now(), damage: await statDamage(warehouse.root, m) };
    }
    const byFile = new Map<string, FileDamage>();
    for (const d of [...sweep.damage, ...currentDamage(warehouse.root, m)])
      byFile.set(d.file ?? '?', byFile.get(d.file ?? '?') ?? d);
    const damage = [...byFile.values()];
    if (damage.length === 0) {
      const where = warehouse.files ? 'listed (fetched on demand)' : 'present';
      return { name: 'files', ok: true, detail: `${m.files.length} files ${where}` };
    }
    const named = damage
      .slice(0, 3)
      .map((d) => `${d.file ?? 'a file DuckDB did not name'} (partition ${d.partition ?? 'unknown'}): ${d.reason}`);
    const more = damage.length > 3 ? `; and ${damage.length - 3} more` : '';
    return {
      name: 'files',
      ok: false,
      detail: `${damage.length} damaged file(s): ${named.join('; ')}${more}; run flowql check --repair --data ${dataArg}`,
      publicDetail: `${damage.length} damaged file(s): the warehouse needs flowql check --repair`,
    };
  }

  async function ledgerCheck(): Promise<ReadinessCheck> {
    const stamp = await stampOf(paths.ledger);
    if (!stamp)
      return { name: 'ledger', ok: true, detail: 'no ledger (a warehouse written elsewhere): nothing to check' };
    if (ledgerCache?.stamp === stamp) return ledgerCache.check;
    newest ??= Math.max(0, ...(await loadMigrations()).map((m) => m.version));
    let check: ReadinessCheck;
    try {
      const version = await ledgerVersion(paths.ledger);
      check =
        version >= newest
          ? { name: 'ledger', ok: true, detail: `schema version ${version} is current` }
          : {
              name: 'ledger',
              ok: false,
              detail: `schema version ${version} is older than ${newest}: run flowql ingest to migrate it`,
            };
    } catch (err) {
      const message = (err as Error).message;
      if (/lock/i.test(message))
        return { name: 'ledger', ok: true, detail: 'busy (an ingest holds the ledger); not rechecked' };
      check = { name: 'ledger', ok: false, detail: `${paths.ledger}: cannot be read (${message})` };
    }
    ledgerCache = { stamp, check };
    return check;
  }

  return async () => {
    const checks: ReadinessCheck[] = [];
    const readable = await access(warehouse.root, constants.R_OK | constants.X_OK).then(
      () => true,
      () => false,
    );
    checks.push(
      readable
        ? { name: 'warehouse', ok: true, detail: `${warehouse.root} is readable` }
        : { name: 'warehouse', ok: false, detail: `${warehouse.root} is missing or not readable` },
    );
    if (!(await stampOf(paths.manifest))) {
      // A wrong --data path reads as an empty warehouse unless someone says so.
      const notWarehouse = await notAWarehouseReason(warehouse.root, dataArg);
      checks.push({
        name: 'manifest',
        ok: false,
        detail: notWarehouse ?? `${paths.manifest} does not exist yet: run flowql ingest`,
        publicDetail: 'the served folder is not a flowql warehouse yet (no manifest): the operator runs flowql ingest',
      });
    } else {
      try {
        const m = await warehouse.manifest();
        checks.push({ name: 'manifest', ok: true, detail: `generation ${m.generation}, ${m.files.length} files` });
        checks.push(await filesCheck(m));
      } catch (err) {
        checks.push({ name: 'manifest', ok: false, detail: (err as Error).message });
      }
    }
    if (readable) checks.push(await ledgerCheck());
    return { ready: checks.every((c) => c.ok), checks };
  };
}
