/**
 * Reads one input object, whatever AWS delivered (gzip text, plain text, Parquet, a CloudWatch Logs subscription
 * payload), into numbered records and rejects. Bad lines become rejects and reading goes on; an object that is not a
 * flow log at all raises one FlowFormatError naming it, after any good records read before the damage (a truncated
 * gzip keeps its complete lines).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DEFAULT_FORMAT_STRING } from '../domain/fields.ts';
import { cloudWatchItems, parseCloudWatchPayload } from './cloudwatch-payload.ts';
import { isGzip, sniffInput, SNIFF_BYTES, type SniffResult } from './format-sniff.ts';
import {
  compileLayout,
  FlowFormatError,
  isHeaderLine,
  looksLikeHeader,
  parseLine,
  parseSpan,
  tokenize,
  type FlowItem,
  type HeaderLayout,
} from './line-parser.ts';
import { readParquetBatches } from './parquet-input.ts';
import { readLineChunks } from './text-lines.ts';

export type { InputFormat } from './format-sniff.ts';

// Defined beside FlowRecord so the Parquet and CloudWatch readers can yield it without importing this module.
export type { FlowItem } from './line-parser.ts';

/** An object to read: `name` names it in errors; `path` (a local file) lets Parquet be read in place. */
export interface FlowInput {
  readonly name: string;
  readonly path?: string;
  open(): Promise<NodeJS.ReadableStream>;
}

/** Reading options. `format` is a `${field} ...` string: required for header-less input, and it wins over a header. */
export interface ReadOptions {
  readonly format?: string;
}

/** Longest reject text kept, so a binary line cannot blow up the reject log. */
const MAX_REJECT_TEXT = 2000;

/**
 * Sniffs and reads an input. For text, the header is line 1 and data lines are numbered from 2; a repeated header or
 * a blank line is skipped. Parquet rows and CloudWatch events are numbered from 1.
 */
export function readFlowFile(input: FlowInput, opts: ReadOptions = {}): AsyncIterable<FlowItem> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<FlowItem> {
      // Hand-written rather than `yield*` over the batches: an async generator adds an extra await per item, and this
      // is the per-record path (the bench measured about 2x less overhead than the generator version).
      const batches = readFlowBatches(input, opts);
      let batch: FlowItem[] = [];
      let i = 0;
      const next = (): Promise<IteratorResult<FlowItem>> => {
        if (i < batch.length) return Promise.resolve({ value: batch[i++]!, done: false });
        return batches.next().then((r) => {
          if (r.done) return { value: undefined, done: true };
          batch = r.value;
          i = 0;
          return next();
        });
      };
      return {
        next,
        return: async () => {
          await batches.return(undefined);
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/** As readFlowFile, in batches (a few hundred items each): one await per batch instead of per record. */
export async function* readFlowBatches(input: FlowInput, opts: ReadOptions = {}): AsyncGenerator<FlowItem[]> {
  const formatLayout = opts.format === undefined ? undefined : namedLayout(input.name, opts.format, '--format');
  const stream = await input.open();
  const source = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head = await readHead(source);
  const format: SniffResult = await sniffInput(head.bytes);
  const rest = replay(head.bytes, head.done ? undefined : source);
  switch (format) {
    case 'unknown':
      await source.return?.();
      throw new FlowFormatError(`${input.name}: not a flow log: binary content that is neither gzip text nor Parquet`);
    case 'corrupt-gzip':
      await source.return?.();
      throw new FlowFormatError(`${input.name}: corrupt gzip stream: its first bytes do not inflate`);
    case 'parquet':
      if (input.path !== undefined) {
        await source.return?.();
        yield* readParquetBatches(input.path, input.name);
      } else yield* spooledParquet(input.name, rest);
      return;
    case 'cloudwatch': {
      const bytes = await collect(isGzip(head.bytes) ? gunzipped(rest) : rest, input.name);
      const payload = parseCloudWatchPayload(bytes.toString('utf8'), input.name);
      yield cloudWatchItems(payload, formatLayout ?? compileLayout(DEFAULT_FORMAT_STRING));
      return;
    }
    default:
      yield* textBatches(input.name, format === 'gzip-text' ? gunzipped(rest) : rest, formatLayout);
  }
}

/** Compiles a header or format, naming the input and where the text came from on failure. */
function namedLayout(name: string, text: string, where: string): HeaderLayout {
  try {
    return compileLayout(text);
  } catch (err) {
    throw new FlowFormatError(`${name}: ${where}: ${(err as Error).message}`);
  }
}

async function readHead(source: AsyncIterator<Buffer | string>): Promise<{ bytes: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < SNIFF_BYTES) {
    const next = await source.next();
    if (next.done) return { bytes: Buffer.concat(parts), done: true };
    const buf = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    parts.push(buf);
    size += buf.length;
  }
  return { bytes: Buffer.concat(parts), done: false };
}

async function* replay(head: Buffer, source: AsyncIterator<Buffer | string> | undefined): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  if (source === undefined) return;
  for (;;) {
    const next = await source.next();
    if (next.done) return;
    yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
  }
}

async function collect(chunks: AsyncIterable<Buffer>, name: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const c of chunks) parts.push(c);
  } catch (err) {
    throw gzipError(name, err, 'before the end of the JSON payload');
  }
  return Buffer.concat(parts);
}

/** Gunzips a byte stream (concatenated gzip members too, as when objects are joined). */
function gunzipped(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  const source = Readable.from(chunks, { objectMode: false });
  source.on('error', (err) => gunzip.destroy(err));
  return source.pipe(gunzip);
}

/** A zlib failure as FlowFormatError ("truncated gzip ..."); other errors (I/O) pass through unchanged. */
function gzipError(name: string, err: unknown, where: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string' || !e.code.startsWith('Z_')) return err as Error;
  const what = e.code === 'Z_BUF_ERROR' ? 'truncated gzip stream' : 'corrupt gzip stream';
  return new FlowFormatError(`${name}: ${what} (${e.message}) ${where}`);
}

/** Reads a text object line by line: its layout, whether the header has been seen, the line number. */
async function* textBatches(
  name: string,
  chunks: AsyncIterable<Buffer>,
  formatLayout: HeaderLayout | undefined,
): AsyncGenerator<FlowItem[]> {
  let layout = formatLayout;
  let lineNo = 0;
  let sawFirst = false;
  try {
    for await (const { text, end } of readLineChunks(chunks)) {
      const items: FlowItem[] = [];
      // Decoding turned invalid UTF-8 into U+FFFD; with a NUL, such a line is damaged: rejected, never parsed (the
      // ingester rejects the same lines, src/ingest/damaged-lines.ts). One search per chunk keeps clean text fast.
      const damaged = text.includes('\0') || text.includes('\uFFFD');
      for (let from = 0, to = 0; from < end; from = to + 1) {
        to = text.indexOf('\n', from);
        if (to < 0 || to >= end) to = end;
        lineNo++;
        if (damaged) {
          const reject = damagedReject(text.slice(from, to), lineNo, layout);
          if (reject !== null) {
            items.push(reject);
            continue;
          }
        }
        if (layout !== undefined && sawFirst) {
          // Hot path: parse in place; only a line that may be a repeated header is cut out first.
          const c = text.charCodeAt(from);
          if ((c <= 32 || text.startsWith(layout.names[0]!, from)) && isHeaderLine(layout, text.slice(from, to)))
            continue;
          const r = parseSpan(layout, text, from, to);
          if (r.ok) items.push({ kind: 'record', line: lineNo, record: r.record });
          else layout = onFailure(name, text.slice(from, to), lineNo, r, layout, formatLayout, items);
          continue;
        }
        const line = text.slice(from, to);
        // The first non-blank line is the header, unless a format was given (then a header, if any, is skipped).
        if (isBlank(line)) continue;
        sawFirst = true;
        const first = lineNo === 1 ? line.replace(/^\uFEFF/, '') : line;
        if (looksLikeHeader(first)) {
          layout ??= namedLayout(name, first, `line ${lineNo}`);
          continue;
        }
        if (layout === undefined) {
          throw new FlowFormatError(
            `${name}: not a flow log: line ${lineNo} is not a header of field names (such as 'version account-id interface-id ...'); for header-less input pass the format ('\${version} \${account-id} ...')`,
          );
        }
        const r = parseLine(layout, line);
        if (r.ok) items.push({ kind: 'record', line: lineNo, record: r.record });
        else layout = onFailure(name, line, lineNo, r, layout, formatLayout, items);
      }
      if (items.length > 0) yield items;
    }
  } catch (err) {
    throw gzipError(
      name,
      err,
      `after line ${lineNo}; the lines before it were kept and the incomplete last line dropped`,
    );
  }
}

/** The reject of a line holding a NUL or an invalid UTF-8 sequence (decoded as U+FFFD), or null for a clean line. */
function damagedReject(line: string, lineNo: number, layout: HeaderLayout | undefined): FlowItem | null {
  const nul = line.indexOf('\0');
  const invalid = line.indexOf('\uFFFD');
  if (nul < 0 && invalid < 0) return null;
  const at = nul < 0 ? invalid : invalid < 0 ? nul : Math.min(nul, invalid);
  const before = tokenize(line.slice(0, at));
  const index = at > 0 && !/\s/.test(line[at - 1]!) && before.length > 0 ? before.length - 1 : before.length;
  const field = layout?.names[index];
  const what = at === nul ? 'a NUL byte' : 'bytes that are not valid UTF-8';
  const text = line.replace(/\r$/, '').replaceAll('\0', '\\x00');
  return {
    kind: 'reject',
    line: lineNo,
    reason: `${field === undefined ? '' : `${field}: `}${what} (character ${at + 1} of the line)`,
    ...(field === undefined ? {} : { field }),
    text: text.length > MAX_REJECT_TEXT ? text.slice(0, MAX_REJECT_TEXT) : text,
  };
}

/** A line that did not parse: blank (skipped), a new header (followed, unless a format was given) or a reject. */
function onFailure(
  name: string,
  line: string,
  lineNo: number,
  r: { reason: string; field?: string },
  layout: HeaderLayout,
  formatLayout: HeaderLayout | undefined,
  items: FlowItem[],
): HeaderLayout {
  if (isBlank(line)) return layout;
  if (looksLikeHeader(line)) {
    // A different header mid-stream: objects of another format were concatenated.
    return formatLayout ?? namedLayout(name, line, `line ${lineNo}`);
  }
  const text = line.length > MAX_REJECT_TEXT ? line.slice(0, MAX_REJECT_TEXT) : line;
  items.push(
    r.field === undefined
      ? { kind: 'reject', line: lineNo, reason: r.reason, text }
      : { kind: 'reject', line: lineNo, reason: r.reason, field: r.field, text },
  );
  return layout;
}

function isBlank(line: string): boolean {
  return tokenize(line).length === 0;
}

/** Parquet needs random access: a stream (e.g. an S3 object) is spooled to a temporary file first. */
async function* spooledParquet(name: string, bytes: AsyncIterable<Buffer>): AsyncGenerator<FlowItem[]> {
  const dir = await mkdtemp(join(tmpdir(), 'flowql-parquet-'));
  try {
    const path = join(dir, 'input.parquet');
    await pipeline(Readable.from(bytes), createWriteStream(path));
    yield* readParquetBatches(path, name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
