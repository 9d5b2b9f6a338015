/**
 * The commit protocol (see warehouse-storage.ts for the storage side): staged files -> ledger transaction (the
 * commit point) -> publish files -> delete files retired longer than the grace period -> manifest -> mark finished.
 * A run killed anywhere leaves either the old manifest (nothing visible changed; the next run's recovery rolls a
 * recorded commit forward, or throws away unrecorded staged files and reloads their objects) or the new one. Readers
 * only read manifest files, and the files a commit retires stay on storage for the grace period (retired-files.ts).
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { TABLES, type Manifest } from '../store/layout.ts';
import {
  finishCommit,
  ingestTotals,
  liveFiles,
  liveReferences,
  recordCommit,
  unfinishedCommits,
  type CommitPlan,
  type UnfinishedCommit,
} from './ledger.ts';
import { openIngestEngine, type EngineOptions, type IngestEngine } from './ingest-engine.ts';
import { retiredFiles, sweepRetiredFiles } from './retired-files.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

/** Points where `--debug-pause-after-stage` can stop a run (internal: the crash tests kill the process there). */
export const COMMIT_STAGES = ['staged', 'recorded', 'published', 'manifest'] as const;
export type CommitStage = (typeof COMMIT_STAGES)[number];

/** Called after each stage; the crash tests' hook pauses the process there. */
export type StageHook = (stage: CommitStage) => Promise<void>;

/** Checkpoints the ledger and makes it durable in the storage (S3: uploads it). */
export async function saveLedger(c: DuckDBConnection, storage: WarehouseStorage): Promise<void> {
  await c.run('CHECKPOINT ledger');
  await storage.saveLedger(await storage.ledgerPath());
}

/** Writes the manifest from the ledger's live files and the retired files still kept (generation + 1). */
export async function writeManifestFromLedger(c: DuckDBConnection, storage: WarehouseStorage): Promise<Manifest> {
  const previous = await storage.readManifest();
  const manifest: Manifest = {
    formatVersion: 1,
    generation: (previous?.generation ?? 0) + 1,
    updatedAt: new Date().toISOString(),
    files: await liveFiles(c),
    ingest: await ingestTotals(c),
    retired: await retiredFiles(c, storage.retireGraceMs),
    references: await liveReferences(c),
  };
  await storage.writeManifest(manifest);
  return manifest;
}

async function complete(
  c: DuckDBConnection,
  storage: WarehouseStorage,
  work: UnfinishedCommit,
  hook: StageHook,
): Promise<void> {
  for (const f of work.publish) await storage.publishFile(f.stagedPath, f.path);
  await hook('published');
  // Files retired by earlier commits are in no manifest since then: past the grace period nobody reads them.
  await sweepRetiredFiles(c, storage);
  await writeManifestFromLedger(c, storage);
  await hook('manifest');
  // This commit's retired files stay (work.retire): finishing stamps their retire time.
  await finishCommit(c, work.commitId);
  await saveLedger(c, storage);
}

/** Runs the protocol for one plan whose files are already staged. */
export async function commit(
  c: DuckDBConnection,
  storage: WarehouseStorage,
  plan: CommitPlan,
  hook: StageHook,
): Promise<void> {
  await hook('staged');
  await recordCommit(c, plan);
  await saveLedger(c, storage);
  await hook('recorded');
  await complete(
    c,
    storage,
    {
      commitId: plan.commitId,
      publish: plan.added.map((f) => ({ stagedPath: f.stagedPath, path: f.path })),
      retire: plan.retired,
    },
    hook,
  );
}

/** What recovery did, for the log. */
export interface RecoveryReport {
  readonly rolledForward: number;
  readonly stagedRemoved: number;
  readonly orphansRemoved: number;
  /** Retired files deleted because their grace period had passed. */
  readonly retiredRemoved: number;
}

/**
 * Start-of-run recovery: roll recorded commits forward, delete staging leftovers (their objects are still pending
 * in the ledger, so this run loads them again), delete files under every table's prefix that no live or retired
 * ledger row names, delete retired files past their grace period, and rewrite the manifest so it matches the ledger.
 */
export async function recover(c: DuckDBConnection, storage: WarehouseStorage): Promise<RecoveryReport> {
  const pending = await unfinishedCommits(c);
  for (const work of pending) await complete(c, storage, work, async () => {});
  let stagedRemoved = 0;
  for (const name of await readdir(storage.stagingDir).catch(() => [] as string[])) {
    if (name === 'duckdb-spill') continue;
    await rm(join(storage.stagingDir, name), { recursive: true, force: true });
    stagedRemoved++;
  }
  const live = new Set((await liveFiles(c)).map((f) => f.path));
  const kept = new Set([
    ...live,
    ...(await liveReferences(c)).map((r) => r.path),
    ...(await retiredFiles(c, storage.retireGraceMs)).map((f) => f.path),
  ]);
  let orphansRemoved = 0;
  for (const prefix of [...TABLES, 'reference']) {
    // `flows/` with its slash: on S3 a bare `flows` prefix also lists flows_hourly/.
    for (const f of await storage.listFiles(`${prefix}/`)) {
      if (!kept.has(f.path)) {
        await storage.deleteFile(f.path);
        orphansRemoved++;
      }
    }
  }
  const retiredRemoved = await sweepRetiredFiles(c, storage);
  const manifest = await storage.readManifest();
  if (pending.length > 0 || orphansRemoved > 0 || manifest === null || manifest.files.length !== live.size) {
    await writeManifestFromLedger(c, storage);
  }
  if (retiredRemoved > 0) await saveLedger(c, storage);
  return { rolledForward: pending.length, stagedRemoved, orphansRemoved, retiredRemoved };
}

/**
 * Opens the warehouse's ingest engine, completes or rolls back whatever a killed run left (recover), runs `work`, and
 * closes the engine: the frame of every job that commits to a warehouse besides ingest (compact, derive).
 */
export async function withRecoveredEngine<T>(
  storage: WarehouseStorage,
  opts: EngineOptions,
  work: (engine: IngestEngine) => Promise<T>,
): Promise<T> {
  const engine = await openIngestEngine(await storage.ledgerPath(), storage.stagingDir, opts);
  try {
    await recover(engine.main, storage);
    return await work(engine);
  } finally {
    engine.close();
  }
}
