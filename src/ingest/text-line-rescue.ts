/**
 * The line parser's side of a text load: lines DuckDB's reader refused, or the SQL check did not let through, are
 * read again from the file and parsed in TypeScript; accepted ones are inserted through the shared projection, the
 * others become rejects with the parser's reason. loadByLines takes a whole object this way.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { build, raw, sql } from '../store/sql.ts';
import { compileLayout, isHeaderLine, isSpace, looksLikeHeader, parseLine, type HeaderLayout } from './line-parser.ts';
import type { BatchTable } from './ingest-batch-tables.ts';
import { filledColumns, projection, rawType, type SourceContext } from './ingest-projection.ts';
import { readLineBatches, readLinesAt } from './text-lines.ts';
import { openDecoded } from './decoded-stream.ts';
import { MAX_REJECT_TEXT, type LoadResult, type RejectRow } from './text-load-result.ts';

/** Runs a named statement of `fragment` on `c`. */
export async function run(c: DuckDBConnection, name: string, fragment: ReturnType<typeof sql>) {
  const q = build(name, fragment);
  return c.run(q.text, q.params as DuckDBValue[]);
}

/** The text of some lines of a (possibly gzip) local file, by line number (ascending). */
export async function readLines(path: string, gzip: boolean, lines: readonly number[]): Promise<Map<number, string>> {
  const { bytes, close } = openDecoded(path, gzip, { readBytes: 256 * 1024 });
  try {
    return await readLinesAt(bytes, lines);
  } finally {
    close();
  }
}

/** A line the parser accepted: its text values in layout column order. */
interface RescuedRow {
  readonly line: number;
  readonly values: (string | null)[];
}

/**
 * A header line other than `layout`'s: the object concatenates objects of another format, and the lines after it are
 * records of that format (as the line parser reads them: flow-file-reader.ts). Only the whole-object line path
 * (loadByLines) follows it; the fast paths hand such an object to it.
 */
export function isOtherHeader(layout: HeaderLayout, text: string): boolean {
  return looksLikeHeader(text) && !isHeaderLine(layout, text);
}

/**
 * Lines through the TS parser: records to insert, rejects with their reasons; blank lines and headers skipped.
 * `otherHeader` is the first line that is another format's header (see isOtherHeader), if any: the caller must load
 * the object by lines instead, or its later lines would be read under the wrong field names.
 */
export function parseLines(
  layout: HeaderLayout,
  lines: readonly { line: number; text: string }[],
): { rescued: RescuedRow[]; rejects: RejectRow[]; otherHeader: number | null } {
  const rejects: RejectRow[] = [];
  const rescued: RescuedRow[] = [];
  let otherHeader: number | null = null;
  for (const { line, text } of lines) {
    const clean = text.replace(/\r$/, '');
    if (isBlank(clean) || isHeaderLine(layout, clean)) continue;
    if (otherHeader === null && isOtherHeader(layout, clean)) otherHeader = line;
    const result = parseLine(layout, clean);
    if (result.ok) {
      const rec = result.record;
      const values = layout.columns.map((col, i) => {
        const v = layout.specs[i] ? rec[col] : rec.extra?.[col];
        return v === null || v === undefined ? null : String(v);
      });
      rescued.push({ line, values });
    } else {
      rejects.push({ line, field: result.field ?? null, reason: result.reason, text: clean.slice(0, MAX_REJECT_TEXT) });
    }
  }
  return { rescued, rejects, otherHeader };
}

/** True for a line of separators only (as the line parser splits), which is neither a record nor a reject. */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

/** Lines handed to the parser at a time on the whole-object path (bounds memory on a large object). */
const LINES_PER_CHUNK = 50_000;

/**
 * Loads a whole object through the TS line parser. A header line of another format (isOtherHeader) switches the
 * layout for the lines after it, as the line parser does when reading (objects of two formats concatenated): each
 * layout's rows go to the batch table of its columns (`tableFor`). A header naming no known field makes the lines
 * under it rejects that say so.
 */
export async function loadByLines(
  c: DuckDBConnection,
  path: string,
  gzip: boolean,
  first: HeaderLayout,
  header: boolean,
  ctx: SourceContext,
  tableFor: (columns: readonly string[]) => Promise<BatchTable>,
): Promise<LoadResult> {
  const { bytes, close } = openDecoded(path, gzip, { readBytes: 256 * 1024 });
  let records = 0;
  const rejects: RejectRow[] = [];
  const columns = new Set<string>(filledColumns(first));
  // The layout in force: null under a header that names no known field (its lines are rejects).
  let layout: HeaderLayout | null = first;
  let unusable = { line: 0, reason: '' };
  let chunk: { line: number; text: string }[] = [];
  const flush = async () => {
    const lines = chunk;
    chunk = [];
    if (lines.length === 0) return;
    if (layout === null) {
      for (const { line, text } of lines) {
        if (isBlank(text)) continue;
        const reason = `under the header of line ${unusable.line}, which is not a flow-log header: ${unusable.reason}`;
        rejects.push({ line, field: null, reason, text: text.slice(0, MAX_REJECT_TEXT) });
      }
      return;
    }
    const parsed = parseLines(layout, lines);
    rejects.push(...parsed.rejects);
    if (parsed.rescued.length > 0) {
      await insertRescued(c, layout, ctx, parsed.rescued, await tableFor(filledColumns(layout)));
    }
    records += parsed.rescued.length;
  };
  try {
    let line = 0;
    for await (const batch of readLineBatches(bytes)) {
      for (const text of batch) {
        line++;
        if (header && line === 1) continue;
        const clean = text.replace(/\r$/, '');
        // Only an object whose layout came from its own header follows a new one (a given format wins, as in parse).
        if (header && (layout === null ? looksLikeHeader(clean) : isOtherHeader(layout, clean))) {
          await flush();
          try {
            layout = compileLayout(clean);
            for (const col of filledColumns(layout)) columns.add(col);
          } catch (err) {
            layout = null;
            unusable = { line, reason: (err as Error).message };
          }
          continue;
        }
        chunk.push({ line, text });
      }
      if (chunk.length >= LINES_PER_CHUNK) await flush();
    }
    await flush();
  } finally {
    close();
  }
  return { records, rejects, columns: [...columns], byLines: true };
}

/** Appends parser-accepted lines through a temp table of text columns, then the shared projection. */
export async function insertRescued(
  c: DuckDBConnection,
  layout: HeaderLayout,
  ctx: SourceContext,
  rows: readonly RescuedRow[],
  table: BatchTable,
): Promise<void> {
  const cols = layout.specs.map((_s, i) => `c${i} VARCHAR`).join(', ');
  await c.run(`CREATE OR REPLACE TEMP TABLE rescued (${cols}, line INTEGER)`);
  const appender = await c.createAppender('rescued', 'main', 'temp');
  for (const row of rows) {
    for (const v of row.values) {
      if (v === null) appender.appendNull();
      else appender.appendVarchar(v);
    }
    appender.appendInteger(row.line);
    appender.endRow();
  }
  appender.closeSync();
  const typed = raw(layout.specs.map((s, i) => `CAST(c${i} AS ${rawType(s)}) AS c${i}`).join(', '));
  await run(
    c,
    'ingest.load_rescued',
    sql`INSERT INTO ${raw(table.name)} BY NAME SELECT ${projection(layout, ctx, 'line', false, new Set(table.columns))}
        FROM (SELECT ${typed}, line FROM temp.main.rescued)`,
  );
  await c.run('DROP TABLE temp.main.rescued');
}
