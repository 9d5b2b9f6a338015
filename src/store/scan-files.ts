/**
 * The one step between a question's pruning and its statement: the files it is about to read are counted in the
 * request's cost and made readable (fetched into an S3 replica's cache and held there for the request; nothing to do
 * for a local warehouse). Every question calls it with exactly the files its SQL names, so a replica downloads only
 * what a request prunes to (docs/ARCHITECTURE.md, "Visibility is the manifest").
 */
import type { ManifestFile } from './layout.ts';
import type { QueryContext } from './query-runner.ts';

/** Records `files` as scanned by the request and waits until each is readable at its absolutePath. */
export async function scanFiles(ctx: QueryContext, files: readonly ManifestFile[]): Promise<void> {
  ctx.cost.recordScan(files);
  if (files.length > 0) await ctx.warehouse.prepare(files);
}
