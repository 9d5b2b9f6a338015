/** A warehouse in a local folder: publishing is a rename, the manifest is replaced by temp file + rename. */
import { readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { warehousePaths, type Manifest } from '../store/layout.ts';
import {
  DEFAULT_RETIRE_GRACE_MS,
  type StorageOptions,
  type StoredFile,
  type WarehouseStorage,
} from './warehouse-storage.ts';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every file under `dir` with its size (none when it does not exist). Read synchronously: every ingest lists the
 * whole warehouse for orphans (ingest-commit.ts recover), and a promise per stat cost about 0.15 ms of CPU per file
 * (local-source.ts), a cost growing with the warehouse at every delivery.
 */
function filesUnder(dir: string, root: string, out: StoredFile[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, root, out);
    else if (e.isFile()) {
      try {
        out.push({ path: relative(root, p).split(sep).join('/'), bytes: statSync(p).size });
      } catch {
        // Gone since the folder was read: not a file of the warehouse.
      }
    }
  }
}

/** Opens (creating its folders) the local warehouse rooted at `root`. */
export async function createLocalWarehouseStorage(root: string, opts: StorageOptions = {}): Promise<WarehouseStorage> {
  const paths = warehousePaths(root);
  await mkdir(paths.staging, { recursive: true });
  const abs = (path: string) => join(root, ...path.split('/'));
  return {
    location: pathToFileURL(root).href,
    retireGraceMs: opts.retireGraceMs ?? DEFAULT_RETIRE_GRACE_MS,
    stagingDir: paths.staging,
    ledgerPath: async () => paths.ledger,
    saveLedger: async () => {},
    async publishFile(staged, path) {
      const target = abs(path);
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(staged, target);
      } catch (err) {
        // Rolled forward after a crash: the rename already happened.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (await exists(target))) return;
        throw err;
      }
    },
    async deleteFile(path) {
      await rm(abs(path), { force: true });
    },
    async listFiles(prefix) {
      const files: StoredFile[] = [];
      filesUnder(abs(prefix), root, files);
      return files;
    },
    readableFile: async (path) => abs(path),
    async readManifest() {
      try {
        return JSON.parse(await readFile(paths.manifest, 'utf8')) as Manifest;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new Error(`cannot read ${paths.manifest}: ${(err as Error).message}`, { cause: err });
      }
    },
    async writeManifest(manifest) {
      const tmp = `${paths.manifest}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(manifest, null, 1));
      await rename(tmp, paths.manifest);
    },
  };
}
