/**
 * Loads one text flow-log object (gzip or plain) into the batch table. DuckDB's CSV reader reads every line as text
 * columns at C++ speed and an SQL check generated from the field table (textRowAcceptedSql) lets through exactly the
 * rows the TS line parser would accept with the same values; every other line (a bad number, a double space, a tab,
 * a repeated header, garbage, invalid UTF-8) is read again from the file and goes through the line parser, which keeps
 * what it can and names the reason for the rest. Line numbers are the object's own (header = 1, `\n` ends a line).
 * The reader numbers only the rows it returns and skips empty lines silently, so a row's line is its ordinality
 * shifted by the refused and the empty lines above it (empty lines are found by a cheap pass over the bytes:
 * text-line-shape.ts). A file the reader refuses outright, or may number differently (a lone carriage return), goes
 * through the line parser whole (loadByLines, text-line-rescue.ts, with the re-reading of refused lines).
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { build, join, raw, sql, type SqlFragment } from '../store/sql.ts';
import type { HeaderLayout } from './line-parser.ts';
import type { BatchTables } from './ingest-batch-tables.ts';
import {
  CONTEXT_COLUMNS,
  filledColumns,
  projection,
  textColumnsSql,
  textRowAcceptedSql,
  typedTextColumnsSql,
  type SourceContext,
} from './ingest-projection.ts';
import { insertRescued, loadByLines, parseLines, readLines, run } from './text-line-rescue.ts';
import { lineShape } from './text-line-shape.ts';
import type { LoadResult } from './text-load-result.ts';

/** How loadTextObject reads an object: DuckDB's CSV reader checked in SQL (the fast path), or the TS line parser alone. */
export type TextLoadPath = 'duckdb' | 'lines';

/**
 * read_csv over a text object, every row numbered: N text columns and an overflow column (textColumnsSql). The reader
 * returns every non-empty line as a row (null_padding: short lines padded with NULL; strict_mode=false: tokens past
 * the overflow column ignored, in linear time); a null string of a newline, which no token holds, makes NULL mean
 * padding only. Lines it still refuses (invalid UTF-8) land in the connection's reject tables.
 */
function textScan(path: string, gzip: boolean, header: boolean, layout: HeaderLayout): SqlFragment {
  const options = raw(
    `delim=' ', quote='', escape='', header=${header}, auto_detect=false, nullstr='\n', null_padding=true, ` +
      `strict_mode=false, store_rejects=true, compression='${gzip ? 'gzip' : 'none'}', columns=${textColumnsSql(layout)}`,
  );
  return sql`read_csv(${path}, ${options}) WITH ORDINALITY`;
}

/**
 * Loads a local text object; `gzip` picks the decompression (sniffed from the bytes, not the name). The fast path
 * inserts the rows that textRowAcceptedSql accepts (the line parser's rules, from the field table); every other line
 * (refused by that check, or by the reader itself) is read again from the file and goes through the line parser,
 * which keeps it or rejects it with its reason, so both paths keep the same lines with the same values.
 */
export async function loadTextObject(
  c: DuckDBConnection,
  path: string,
  gzip: boolean,
  layout: HeaderLayout,
  header: boolean,
  ctx: SourceContext,
  batches: BatchTables,
  via: TextLoadPath = 'duckdb',
): Promise<LoadResult> {
  const hdr = header ? 1 : 0;
  const columns = filledColumns(layout);
  const table = await batches.tableFor(c, columns);
  const byColumns = (cols: readonly string[]) => batches.tableFor(c, cols);
  if (via === 'lines') return loadByLines(c, path, gzip, layout, header, ctx, byColumns);
  const only = new Set(table.columns);
  const scan = textScan(path, gzip, header, layout);
  const insert = (accepted: SqlFragment) =>
    run(
      c,
      'ingest.load_text',
      sql`INSERT INTO ${raw(table.name)} BY NAME SELECT ${projection(layout, ctx, `ordinality + ${hdr}`, true, only)}
          FROM (SELECT ${raw(typedTextColumnsSql(layout))}, ordinality FROM ${scan} WHERE ${accepted})`,
    );
  const dropRows = () =>
    run(c, 'ingest.drop_text', sql`DELETE FROM ${raw(table.name)} WHERE source_id = ${ctx.sourceId}`);
  // Optimistic: no separator test while the byte scan runs alongside; an object holding a byte that may start one
  // (a tab, a non-ASCII character) is inserted again with the test.
  let accepted = textRowAcceptedSql(layout, { separators: false });
  // The reject tables belong to the connection and outlive the scan; a scan without errors adds no row to them, so
  // stale rows of the connection's previous object would be taken for this one's. Dropped only when they hold rows:
  // a statement per object was a tenth of the time of a small object.
  if (rejectsLeft.has(c))
    await c.run('DROP TABLE IF EXISTS temp.main.reject_errors; DROP TABLE IF EXISTS temp.main.reject_scans');
  rejectsLeft.add(c); // until this scan is known to have left none (a scan that throws may have left some)
  // The line count (for empty lines) runs in Node's thread pool while DuckDB scans: one statement less per object.
  let inserted;
  let shape;
  try {
    // Both settle before either's failure is handled: the catch below drops rows and reads the file again, which
    // must not overlap a statement still running on this connection.
    const [ins, shp] = await Promise.allSettled([insert(accepted), lineShape(path, gzip)]);
    if (ins.status === 'rejected') throw ins.reason;
    if (shp.status === 'rejected') throw shp.reason;
    [inserted, shape] = [ins.value, shp.value];
    if (shape.separatorBytes) {
      await dropRows();
      accepted = textRowAcceptedSql(layout, { separators: true });
      inserted = await insert(accepted);
    }
  } catch {
    // The reader refused the whole file (its state machine stops on, e.g., a line holding only a carriage return
    // in a file of LF lines). The line parser takes the object instead (rows of a statement that did finish go first).
    await dropRows();
    return loadByLines(c, path, gzip, layout, header, ctx, byColumns);
  }
  const records = Number(inserted.rowsChanged);
  // Every physical line a header or an accepted record: nothing to look at again (the usual case).
  if (!shape.loneReturn && shape.lines === hdr + records) {
    rejectsLeft.delete(c);
    return { records, rejects: [], columns };
  }
  const redo = async () => {
    // A lone carriage return may end a line for the reader but not for the object's numbering (`\n` only), or the
    // reader's rows do not add up: the line parser takes the whole object, so every line keeps its own number.
    await dropRows();
    return loadByLines(c, path, gzip, layout, header, ctx, byColumns);
  };
  if (shape.loneReturn) return redo();
  const unread = (await c.runAndReadAll('SELECT DISTINCT line FROM temp.main.reject_errors ORDER BY line'))
    .getRowObjectsJS()
    .map((r) => Number(r.line));
  // Rows the reader returned (every line but the header, its rejects and the empty lines it skips without a trace),
  // and the ordinals of those the check refused: read only when some are missing from the insert.
  const returned = shape.lines - hdr - unread.length - shape.empty.length;
  let refused: number[] = [];
  if (returned > records) {
    const q = build('ingest.refused_rows', sql`SELECT ordinality AS k FROM ${scan} WHERE NOT (${accepted}) ORDER BY 1`);
    refused = (await c.runAndReadAll(q.text, q.params as DuckDBValue[])).getRowObjectsJS().map((r) => Number(r.k));
  }
  if (refused.length !== returned - records) return redo();
  if (unread.length === 0) rejectsLeft.delete(c);

  // Lines that produced no row, in order. Row k (1-based) sits after the i-th of them iff k > line_i - hdr - i:
  // shift it by that many lines. Good rows are shifted in place; refused rows get their line the same way.
  const skipped = [...unread, ...shape.empty].sort((a, b) => a - b);
  const thresholds = skipped.map((line, i) => line - hdr - (i + 1));
  if (skipped.length > 0) {
    await run(
      c,
      'ingest.fix_lines',
      sql`UPDATE ${raw(table.name)} SET source_line = source_line +
            (SELECT count(*) FROM unnest(${raw(`[${thresholds.join(',')}]`)}) t(g) WHERE g < source_line - ${hdr})
          WHERE source_id = ${ctx.sourceId}`,
    );
  }
  let below = 0;
  const refusedLines = refused.map((k) => {
    while (below < thresholds.length && thresholds[below]! < k) below++;
    return k + hdr + below;
  });
  const again = [...unread, ...refusedLines].sort((a, b) => a - b);
  const texts = await readLines(path, gzip, again);
  const { rescued, rejects, otherHeader } = parseLines(
    layout,
    again.map((line) => ({ line, text: texts.get(line) ?? '' })),
  );
  // Another format's header: the lines after it were read under this one's names. The line path follows it (only
  // in an object whose layout came from its own header: a given format wins, as in parse).
  if (header && otherHeader !== null) return redo();
  if (rescued.length > 0) await insertRescued(c, layout, ctx, rescued, table);
  return { records: records + rescued.length, rejects, columns };
}

/** One object of a group read by loadTextGroup: a plain text object (text-object-scan.ts) of the group's layout. */
export interface GroupMember {
  readonly path: string;
  readonly ctx: SourceContext;
  /** Its lines, from the scan (header included). */
  readonly lines: number;
}

function literalList(paths: readonly string[]): string {
  return `[${paths.map((p) => `'${p.replaceAll("'", "''")}'`).join(', ')}]`;
}

/**
 * Loads plain text objects of one layout (the same header line and compression) with one statement: read_csv over
 * the list of files, the file name joined to each object's source context. The reader numbers the rows of all files
 * in one sequence, file after file in list order; a plain object's rows are its lines but the header (no empty line,
 * nothing the reader refuses: text-object-scan.ts), so object i's rows are a known range of that sequence and a row's
 * line is its place in the range. The numbering is checked, not assumed: a row outside its object's range is stored
 * with line -1 and the counts per object must fit, else every object goes through the one-object path. Lines the SQL
 * check refuses are the lines of the range with no row; they are read again and go through the line parser, as in
 * loadTextObject. Returns per member its result, or null when it must be loaded alone (its rows are removed): all null
 * when the reader refused the statement (e.g. a file that changed or broke since its scan).
 */
export async function loadTextGroup(
  c: DuckDBConnection,
  members: readonly GroupMember[],
  gzip: boolean,
  layout: HeaderLayout,
  header: boolean,
  batches: BatchTables,
): Promise<(LoadResult | null)[]> {
  if (members.length === 0) return [];
  const hdr = header ? 1 : 0;
  const columns = filledColumns(layout);
  let next = 1;
  const ranges = members.map((m) => {
    const rows = Math.max(0, m.lines - hdr);
    const lo = next;
    next += rows;
    return { lo, rows };
  });
  const table = await batches.tableFor(c, columns, next - 1);
  const sourceIds = members.map((m) => Math.trunc(m.ctx.sourceId));
  const ids = raw(sourceIds.join(', '));
  const dropAll = () => run(c, 'ingest.drop_group', sql`DELETE FROM ${raw(table.name)} WHERE source_id IN (${ids})`);
  const contexts = join(
    members.map(
      (m, i) =>
        sql`(${m.path}, CAST(${m.ctx.sourceId} AS INTEGER), CAST(${m.ctx.keyAccountId} AS VARCHAR), CAST(${m.ctx.keyRegion} AS VARCHAR),
             CAST(${m.ctx.keyDate} AS VARCHAR), CAST(${ranges[i]!.lo} AS BIGINT), CAST(${ranges[i]!.lo + ranges[i]!.rows - 1} AS BIGINT))`,
    ),
    ', ',
  );
  const options = raw(
    `delim=' ', quote='', escape='', header=${header}, auto_detect=false, nullstr='
', null_padding=true, ` +
      `strict_mode=false, store_rejects=true, filename=true, compression='${gzip ? 'gzip' : 'none'}', columns=${textColumnsSql(layout)}`,
  );
  // Plain objects hold no byte the separator test looks for (no tab, VT, FF, nothing outside ASCII).
  const accepted = textRowAcceptedSql(layout, { separators: false });
  if (rejectsLeft.has(c))
    await c.run('DROP TABLE IF EXISTS temp.main.reject_errors; DROP TABLE IF EXISTS temp.main.reject_scans');
  rejectsLeft.add(c);
  try {
    await run(
      c,
      'ingest.load_text_group',
      sql`INSERT INTO ${raw(table.name)} BY NAME
          SELECT ${projection(layout, CONTEXT_COLUMNS, 'line', true, new Set(table.columns))}
          FROM (SELECT ${raw(typedTextColumnsSql(layout))}, g.ctx_source_id, g.ctx_key_account_id, g.ctx_key_region, g.ctx_key_date,
                       CASE WHEN s.ordinality BETWEEN g.ctx_lo AND g.ctx_hi THEN s.ordinality - g.ctx_lo + ${1 + hdr} ELSE -1 END AS line
                FROM (SELECT * FROM read_csv(${raw(literalList(members.map((m) => m.path)))}, ${options}) WITH ORDINALITY WHERE ${accepted}) s
                JOIN (VALUES ${contexts}) g(ctx_path, ctx_source_id, ctx_key_account_id, ctx_key_region, ctx_key_date, ctx_lo, ctx_hi)
                  ON g.ctx_path = s.filename)`,
    );
  } catch {
    await dropAll();
    return members.map(() => null);
  }
  // The range lets the scan skip the batch's earlier groups by their row groups' statistics: the IN list alone read
  // the whole batch after every group, which grew with the batch (18 groups of 1.67M records: 0.36 -> 0.15 CPU s).
  const counts = new Map(
    (
      await c.runAndReadAll(
        build(
          'ingest.group_counts',
          sql`SELECT source_id, count(*) AS n, count(*) FILTER (WHERE source_line < 0) AS misplaced FROM ${raw(table.name)}
              WHERE source_id BETWEEN ${raw(String(Math.min(...sourceIds)))} AND ${raw(String(Math.max(...sourceIds)))}
                AND source_id IN (${ids}) GROUP BY source_id`,
        ).text,
      )
    )
      .getRowObjectsJS()
      .map((r) => [Number(r.source_id), { n: Number(r.n), misplaced: Number(r.misplaced) }]),
  );
  const unread = Number(
    (await c.runAndReadAll('SELECT count(*) AS n FROM temp.main.reject_errors')).getRowObjectsJS()[0]!.n,
  );
  if (unread === 0) rejectsLeft.delete(c);
  const numbered = members.every((m, i) => {
    const got = counts.get(m.ctx.sourceId) ?? { n: 0, misplaced: 0 };
    return got.misplaced === 0 && got.n <= ranges[i]!.rows;
  });
  if (unread > 0 || !numbered) {
    // Not the rows the scans promised: the numbering cannot be trusted for any object of the statement.
    await dropAll();
    return members.map(() => null);
  }
  const results: (LoadResult | null)[] = [];
  for (const [i, m] of members.entries()) {
    const records = counts.get(m.ctx.sourceId)?.n ?? 0;
    if (records === ranges[i]!.rows) {
      results.push({ records, rejects: [], columns });
      continue;
    }
    // Lines of the object with no row: refused by the check; the line parser keeps them or says why not.
    const q = build(
      'ingest.group_refused',
      sql`SELECT r.l FROM range(${hdr + 1}, ${m.lines + 1}) r(l)
          ANTI JOIN (SELECT source_line FROM ${raw(table.name)} WHERE source_id = ${m.ctx.sourceId}) b ON b.source_line = r.l
          ORDER BY 1`,
    );
    const refused = (await c.runAndReadAll(q.text, q.params as DuckDBValue[])).getRows().map((r) => Number(r[0]));
    const texts = await readLines(m.path, gzip, refused);
    const { rescued, rejects, otherHeader } = parseLines(
      layout,
      refused.map((line) => ({ line, text: texts.get(line) ?? '' })),
    );
    if (header && otherHeader !== null) {
      // Another format's header: this object's later rows were read under the group's names; it loads alone.
      await run(c, 'ingest.drop_member', sql`DELETE FROM ${raw(table.name)} WHERE source_id = ${m.ctx.sourceId}`);
      results.push(null);
      continue;
    }
    if (rescued.length > 0) await insertRescued(c, layout, m.ctx, rescued, table);
    results.push({ records: records + rescued.length, rejects, columns });
  }
  return results;
}

/** Connections whose reject tables hold rows of their last scan (see loadTextObject). */
const rejectsLeft = new WeakSet<DuckDBConnection>();
