/**
 * A QueryContext for tests of readers and query builders: the real locked-down API instance over a fixture warehouse,
 * a fresh cost meter and a quiet logger that keeps its lines for assertions.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import { openApiDatabase } from '../../src/store/duckdb.ts';
import { CostMeter } from '../../src/store/query-cost.ts';
import type { QueryContext, QueryLogger } from '../../src/store/query-runner.ts';
import { createWarehouseReader } from '../../src/store/warehouse-reader.ts';

/** A logger that records instead of printing. */
export function memoryLogger(): QueryLogger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}

/** A context for one "request" over the warehouse at `root` (pass `db` to share one instance across tests). */
export async function testQueryContext(
  root: string,
  options: { db?: DuckDBInstance; budgetMs?: number } = {},
): Promise<QueryContext> {
  return {
    db: options.db ?? (await openApiDatabase({ warehouseRoot: root, threads: 1 })),
    warehouse: createWarehouseReader(root),
    cost: new CostMeter(),
    deadline: Date.now() + (options.budgetMs ?? 30_000),
    log: memoryLogger(),
  };
}
