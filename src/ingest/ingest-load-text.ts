/**
 * Loads one text flow-log object (gzip or plain) into the batch table. DuckDB's CSV reader takes every well-formed
 * line at C++ speed; the lines it rejects (double spaces, tabs, a repeated header, garbage) go through the TS line
 * parser, which keeps what it can and names the reason for the rest. Line numbers are the object's own (header = 1).
 * The CSV reader numbers only the rows it returns and skips empty lines silently, so a good row's line is its
 * ordinality shifted by the rejected and the empty lines above it (empty lines are found by a cheap line count).
 * A file the reader refuses outright goes through the line parser whole (loadByLines).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import { compileLayout, isHeaderLine, parseLine, type HeaderLayout } from './line-parser.ts';
import type { BatchTable, BatchTables } from './ingest-batch-tables.ts';
import { csvColumnsSql, filledColumns, projection, rawType, type SourceContext } from './ingest-projection.ts';

/** A line that is not a flow record. */
export interface RejectRow {
  readonly line: number;
  readonly field: string | null;
  readonly reason: string;
  readonly text: string;
}

/** What loading one object produced. */
export interface LoadResult {
  readonly records: number;
  readonly rejects: RejectRow[];
  /** Stored columns the object's rows can have values in (see filledColumns). */
  readonly columns: readonly string[];
}

const MAX_REJECT_TEXT = 1000;

/** The first line of a (possibly gzip) local file, without its newline; null for an empty file. */
export async function readFirstLine(path: string, gzip: boolean): Promise<string | null> {
  const file = createReadStream(path, { highWaterMark: 16 * 1024 });
  const stream = gzip ? file.pipe(createGunzip()) : file;
  let text = '';
  try {
    for await (const chunk of stream) {
      text += (chunk as Buffer).toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '');
      if (text.length > 64 * 1024) break;
    }
  } finally {
    file.destroy();
    stream.destroy();
  }
  return text.length > 0 ? text.replace(/\r$/, '') : null;
}

/** The layout of a text object from its first line: a header, or AWS's default format when the file has none. */
export function layoutFromFirstLine(first: string, defaultFormat: string): { layout: HeaderLayout; header: boolean } {
  try {
    return { layout: compileLayout(first), header: true };
  } catch {
    // No known field name in the first line: a headerless export (e.g. CloudWatch); data in the default format.
    return { layout: compileLayout(defaultFormat), header: false };
  }
}

async function run(c: DuckDBConnection, name: string, fragment: ReturnType<typeof sql>) {
  const q = build(name, fragment);
  return c.run(q.text, q.params as DuckDBValue[]);
}

/** Loads a local text object; `gzip` picks the decompression (sniffed from the bytes, not the name). */
export async function loadTextObject(
  c: DuckDBConnection,
  path: string,
  gzip: boolean,
  layout: HeaderLayout,
  header: boolean,
  ctx: SourceContext,
  batches: BatchTables,
): Promise<LoadResult> {
  const hdr = header ? 1 : 0;
  const columns = filledColumns(layout);
  const table = await batches.tableFor(c, columns);
  const only = new Set(table.columns);
  const options = raw(
    `delim=' ', quote='', escape='', header=${header}, auto_detect=false, nullstr='-', store_rejects=true, ` +
      `compression='${gzip ? 'gzip' : 'none'}', columns=${csvColumnsSql(layout)}`,
  );
  // The reject tables belong to the connection and outlive the scan; a scan without errors adds no row to them, so
  // stale rows of the connection's previous object would be taken for this one's. Dropped only when they hold rows:
  // a statement per object was a tenth of the time of a small object.
  if (rejectsLeft.has(c)) await c.run('DROP TABLE IF EXISTS temp.main.reject_errors; DROP TABLE IF EXISTS temp.main.reject_scans');
  rejectsLeft.add(c); // until this scan is known to have left none (a scan that throws may have left some)
  // The line count (for empty lines) runs in Node's thread pool while DuckDB scans: one statement less per object.
  let inserted;
  let physical;
  try {
    [inserted, physical] = await Promise.all([
      run(
        c,
        'ingest.load_text',
        sql`INSERT INTO ${raw(table.name)} BY NAME SELECT ${projection(layout, ctx, `ordinality + ${hdr}`, true, only)}
            FROM read_csv(${path}, ${options}) WITH ORDINALITY`,
      ),
      countLines(path, gzip),
    ]);
  } catch {
    // The reader refused the whole file (its state machine stops on, e.g., a line holding only a carriage return
    // in a file of LF lines). The statement inserted nothing; the line parser takes the object instead.
    return loadByLines(c, path, gzip, layout, header, ctx, table);
  }
  const records = Number(inserted.rowsChanged);
  // Every physical line a header or a record: nothing was rejected or skipped, so no need to ask (the usual case).
  const complete = physical !== null && physical === hdr + records;
  const failed = complete
    ? []
    : (
        await c.runAndReadAll(
          `SELECT line, any_value(csv_line) AS text FROM temp.main.reject_errors GROUP BY line ORDER BY line`,
        )
      ).getRowObjectsJS();
  if (failed.length === 0) rejectsLeft.delete(c);
  const lines = failed.map((r) => ({ line: Number(r.line), text: String(r.text ?? '') }));
  const empty = await emptyLines(c, path, gzip, hdr + records + lines.length, physical);
  if (lines.length === 0 && empty.length === 0) return { records, rejects: [], columns };

  // Lines that produced no good row, in order. Good row k (1-based) sits after the i-th of them iff
  // k > line_i - hdr - i: shift it by that many lines.
  const skipped = [...lines.map((l) => l.line), ...empty].sort((a, b) => a - b);
  const thresholds = skipped.map((line, i) => line - hdr - (i + 1));
  await run(
    c,
    'ingest.fix_lines',
    sql`UPDATE ${raw(table.name)} SET source_line = source_line +
          (SELECT count(*) FROM unnest(${raw(`[${thresholds.join(',')}]`)}) t(g) WHERE g < source_line - ${hdr})
        WHERE source_id = ${ctx.sourceId}`,
  );
  const { rescued, rejects } = parseLines(layout, lines);
  if (rescued.length > 0) await insertRescued(c, layout, ctx, rescued, table);
  return { records: records + rescued.length, rejects, columns };
}

/** A line the parser accepted: its text values in layout column order. */
interface RescuedRow {
  readonly line: number;
  readonly values: (string | null)[];
}

/** Lines through the TS parser: records to insert, rejects with their reasons; blank lines and headers skipped. */
function parseLines(layout: HeaderLayout, lines: readonly { line: number; text: string }[]): { rescued: RescuedRow[]; rejects: RejectRow[] } {
  const rejects: RejectRow[] = [];
  const rescued: RescuedRow[] = [];
  for (const { line, text } of lines) {
    const clean = text.replace(/\r$/, '');
    if (clean.trim() === '' || isHeaderLine(layout, clean)) continue;
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
  return { rescued, rejects };
}

/** Lines handed to the parser at a time on the whole-object path (bounds memory on a large object). */
const LINES_PER_CHUNK = 50_000;

/**
 * A whole object through the TS line parser, for a file DuckDB's reader refuses outright: slower than the reader,
 * but every good line is kept and every bad one named. Lines are numbered as the object's own (header = 1), a
 * CRLF or a lone carriage return ending a line as a newline does.
 */
async function loadByLines(
  c: DuckDBConnection,
  path: string,
  gzip: boolean,
  layout: HeaderLayout,
  header: boolean,
  ctx: SourceContext,
  table: BatchTable,
): Promise<LoadResult> {
  const file = createReadStream(path);
  const input = gzip ? file.pipe(createGunzip()) : file;
  let records = 0;
  const rejects: RejectRow[] = [];
  let chunk: { line: number; text: string }[] = [];
  const flush = async () => {
    const parsed = parseLines(layout, chunk);
    chunk = [];
    rejects.push(...parsed.rejects);
    if (parsed.rescued.length > 0) await insertRescued(c, layout, ctx, parsed.rescued, table);
    records += parsed.rescued.length;
  };
  try {
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (header && line === 1) continue;
      chunk.push({ line, text });
      if (chunk.length >= LINES_PER_CHUNK) await flush();
    }
    await flush();
  } finally {
    file.destroy();
    input.destroy();
  }
  return { records, rejects, columns: filledColumns(layout) };
}

/** Reads each line as one column: empty lines come back as NULL rows instead of being skipped. */
function lineReader(path: string, gzip: boolean): SqlFragment {
  // A 4-byte delimiter no flow log contains; strict_mode=false keeps a line that happens to contain it as one row.
  const options = raw(
    `delim='\x01\x02\x03\x04', quote='', escape='', header=false, auto_detect=false, strict_mode=false, ` +
      `compression='${gzip ? 'gzip' : 'none'}', columns={'l': 'VARCHAR'}`,
  );
  return sql`read_csv(${path}, ${options})`;
}

/** Connections whose reject tables hold rows of their last scan (see loadTextObject). */
const rejectsLeft = new WeakSet<DuckDBConnection>();

/**
 * Lines of a (possibly gzip) local file: newlines plus an unterminated last line. null when the file has a carriage
 * return not followed by a newline, which DuckDB may take as a line break: the caller then asks DuckDB itself.
 */
export async function countLines(path: string, gzip: boolean): Promise<number | null> {
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  const stream = gzip ? file.pipe(createGunzip()) : file;
  let newlines = 0;
  let returns = 0;
  let crlf = 0;
  let last = -1;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      if (buf.length === 0) continue;
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) {
        newlines++;
        if ((i > 0 ? buf[i - 1] : last) === 13) crlf++;
      }
      for (let i = buf.indexOf(13); i >= 0; i = buf.indexOf(13, i + 1)) returns++;
      last = buf[buf.length - 1]!;
    }
  } finally {
    file.destroy();
    stream.destroy();
  }
  if (returns !== crlf || last === 13) return null;
  return newlines + (last === -1 || last === 10 ? 0 : 1);
}

/**
 * Physical numbers of the empty lines of an object whose reader returned `accounted` lines (header, good rows and
 * rejected lines). One line count (`physical`, from countLines; null: count in DuckDB) settles the usual case (no
 * empty line): every empty line adds a newline the reader did not account for. Only a mismatch pays for positions.
 */
async function emptyLines(c: DuckDBConnection, path: string, gzip: boolean, accounted: number, physical: number | null): Promise<number[]> {
  let counted = physical;
  if (counted === null) {
    const q = build('ingest.count_lines', sql`SELECT count(*) AS n FROM ${lineReader(path, gzip)}`);
    const [row] = (await c.runAndReadAll(q.text, q.params as DuckDBValue[])).getRowObjectsJS();
    counted = Number(row!.n);
  }
  if (counted === accounted) return [];
  const e = build(
    'ingest.empty_lines',
    sql`SELECT ordinality AS line FROM ${lineReader(path, gzip)} WITH ORDINALITY WHERE l IS NULL OR trim(l, E'\r') = '' ORDER BY 1`,
  );
  return (await c.runAndReadAll(e.text, e.params as DuckDBValue[])).getRowObjectsJS().map((r) => Number(r.line));
}

/** Appends parser-accepted lines through a temp table of text columns, then the shared projection. */
async function insertRescued(
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
