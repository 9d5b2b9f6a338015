/**
 * Whether a local folder is a flowql warehouse: `flowql ingest` writes `_flowql/` (manifest and ledger) on its first
 * run, even when it loads nothing, so a folder without it is a wrong path or a warehouse not made yet. `flowql serve`
 * says so at start and `/ready` explains it, instead of answering zeros as if the warehouse were empty.
 */
import { stat } from 'node:fs/promises';
import { warehousePaths } from './layout.ts';

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Why `root` is not a warehouse (a missing folder, or one without `_flowql/`), or null when it is one: `_flowql/`
 * appears with the first ingest (a run that died before its first commit leaves one too: a warehouse in the making).
 * `shown` names the warehouse in the message (the `--data` value, e.g. an s3:// prefix served from a local cache).
 */
export async function notAWarehouseReason(root: string, shown: string = root): Promise<string | null> {
  if (await exists(warehousePaths(root).meta)) return null;
  const make = `create it with \`flowql ingest SOURCE --data ${shown}\` (or \`flowql serve --demo\` for demo data)`;
  if (!(await exists(root))) return `${shown} does not exist: ${make}`;
  return `${shown} is not a flowql warehouse (no _flowql/ folder): ${make}`;
}
