/**
 * `/ready`: can this process answer queries? The warehouse directory is readable, the manifest exists and parses
 * (migrations/commits have produced a warehouse), and — when an ingest ledger exists — its schema version is the
 * newest this build knows (an old ledger means `flowql ingest` has not migrated it yet). The ledger is opened
 * read-only in a separate DuckDB instance; while an ingest holds its lock the check reports "busy" and stays ready
 * (the last ingest committed a manifest readers can use). Results are cached by file stamps, so probes are cheap.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { warehousePaths } from '../store/layout.ts';
import { loadMigrations } from '../store/migrations.ts';
import { notAWarehouseReason } from '../store/warehouse-presence.ts';
import type { WarehouseReader } from '../store/warehouse-reader.ts';

/** One named check and its outcome. */
export interface ReadinessCheck {
  readonly name: 'warehouse' | 'manifest' | 'ledger';
  readonly ok: boolean;
  readonly detail: string;
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
      const rows = (await connection.runAndReadAll('SELECT max(version) AS v FROM schema_migrations')).getRowObjectsJS();
      return Number(rows[0]?.v ?? 0);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** A readiness checker for the warehouse behind `warehouse`. */
export function createReadinessCheck(warehouse: WarehouseReader): () => Promise<Readiness> {
  const paths = warehousePaths(warehouse.root);
  let ledgerCache: { stamp: string; check: ReadinessCheck } | null = null;
  let newest: number | null = null;

  async function ledgerCheck(): Promise<ReadinessCheck> {
    const stamp = await stampOf(paths.ledger);
    if (!stamp) return { name: 'ledger', ok: true, detail: 'no ledger (a warehouse written elsewhere): nothing to check' };
    if (ledgerCache?.stamp === stamp) return ledgerCache.check;
    newest ??= Math.max(0, ...(await loadMigrations()).map((m) => m.version));
    let check: ReadinessCheck;
    try {
      const version = await ledgerVersion(paths.ledger);
      check =
        version >= newest
          ? { name: 'ledger', ok: true, detail: `schema version ${version} is current` }
          : { name: 'ledger', ok: false, detail: `schema version ${version} is older than ${newest}: run flowql ingest to migrate it` };
    } catch (err) {
      const message = (err as Error).message;
      if (/lock/i.test(message)) return { name: 'ledger', ok: true, detail: 'busy (an ingest holds the ledger); not rechecked' };
      check = { name: 'ledger', ok: false, detail: `${paths.ledger}: cannot be read (${message})` };
    }
    ledgerCache = { stamp, check };
    return check;
  }

  return async () => {
    const checks: ReadinessCheck[] = [];
    const readable = await access(warehouse.root, constants.R_OK | constants.X_OK).then(() => true, () => false);
    checks.push(
      readable
        ? { name: 'warehouse', ok: true, detail: `${warehouse.root} is readable` }
        : { name: 'warehouse', ok: false, detail: `${warehouse.root} is missing or not readable` },
    );
    if (!(await stampOf(paths.manifest))) {
      // A wrong --data path reads as an empty warehouse unless someone says so.
      const notWarehouse = await notAWarehouseReason(warehouse.root);
      checks.push({ name: 'manifest', ok: false, detail: notWarehouse ?? `${paths.manifest} does not exist yet: run flowql ingest` });
    } else {
      try {
        const m = await warehouse.manifest();
        checks.push({ name: 'manifest', ok: true, detail: `generation ${m.generation}, ${m.files.length} files` });
      } catch (err) {
        checks.push({ name: 'manifest', ok: false, detail: (err as Error).message });
      }
    }
    if (readable) checks.push(await ledgerCheck());
    return { ready: checks.every((c) => c.ok), checks };
  };
}
