/**
 * Detects what an input object holds from its first bytes, because AWS delivers plain text and Parquet under the
 * same prefixes and names can lie (flow-logs.md §5.6): magic bytes first (gzip 1f 8b, Parquet `PAR1`), then a look
 * inside (gunzipping the prefix if needed) for JSON versus text. For text, the first lines then decide whether it is
 * a flow log at all (textLayoutVerdict): buckets also hold digests, manifests, `_SUCCESS` markers and READMEs.
 */
import { constants, inflateRawSync, gunzipSync } from 'node:zlib';
import { DEFAULT_FORMAT_STRING } from '../domain/fields.ts';
import { compileLayout, looksLikeHeader, parseLine, tokenize, type HeaderLayout } from './line-parser.ts';

/** What an input holds. `gzip-text` is AWS's S3 text format; `cloudwatch` a (possibly gzipped) JSON document. */
export type InputFormat = 'gzip-text' | 'text' | 'parquet' | 'cloudwatch';

/** What sniffing can also find: binary that is none of the formats, or a gzip stream whose start will not inflate. */
export type SniffResult = InputFormat | 'unknown' | 'corrupt-gzip';

/** Bytes to read before sniffing: enough for a gzip header plus some text, and for a UTF-8 check. */
export const SNIFF_BYTES = 4096;

/**
 * An object whose content shows it is not a flow log (a JSON digest, a README, an empty marker, a Parquet table of
 * something else). Unlike a read failure it will not change by reading it again: ingest records it once as skipped.
 */
export class NotFlowLogError extends Error {
  override readonly name = 'NotFlowLogError';
}

/** True for gzip's magic number followed by its only compression method, deflate (8). */
export function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 8;
}

/** Gunzips as much of a prefix as possible (a prefix is a truncated stream, so no end-of-stream is required). */
export function gunzipPrefix(bytes: Buffer): Buffer | undefined {
  try {
    return gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    // gunzipSync rejects some prefixes outright; skip the 10-byte header (no optional fields) and inflate raw.
    try {
      return bytes[3] === 0 ? inflateRawSync(bytes.subarray(10), { finishFlush: constants.Z_SYNC_FLUSH }) : undefined;
    } catch {
      return undefined;
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when a line is UTF-8 without NULs; `cut` allows a multi-byte character cut off at its end. */
function isCleanLine(line: Buffer, cut: boolean): boolean {
  if (line.includes(0)) return false;
  try {
    utf8.decode(cut ? line.subarray(0, Math.max(0, line.length - 3)) : line);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when the bytes read as text: most lines (or the first) are UTF-8 without NULs. Judged per line rather than
 * on the whole prefix so that one damaged line (a NUL, an invalid byte) is that line's reject, not the object's
 * verdict; binary has a newline byte every ~256 bytes at random and almost every "line" of it fails the check.
 */
function isText(bytes: Buffer): boolean {
  let clean = 0;
  let damaged = 0;
  let firstClean: boolean | undefined;
  for (let from = 0; from < bytes.length;) {
    let to = bytes.indexOf(0x0a, from);
    const last = to < 0;
    if (last) to = bytes.length;
    if (to > from) {
      const ok = isCleanLine(bytes.subarray(from, to), last);
      firstClean ??= ok;
      if (ok) clean++;
      else damaged++;
    }
    from = to + 1;
  }
  return firstClean !== false && clean >= damaged;
}

/** The first non-whitespace character of the text, or '' when there is none. */
function firstChar(bytes: Buffer): string {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return String.fromCharCode(b);
  return '';
}

/** Classifies an input from its first bytes (up to SNIFF_BYTES). */
export async function sniffInput(firstBytes: Buffer): Promise<SniffResult> {
  if (firstBytes.length >= 4 && firstBytes.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  if (isGzip(firstBytes)) {
    const inner = gunzipPrefix(firstBytes);
    if (inner === undefined) return 'corrupt-gzip';
    if (firstChar(inner) === '{') return 'cloudwatch';
    return isText(inner) ? 'gzip-text' : 'unknown';
  }
  if (firstChar(firstBytes) === '{') return 'cloudwatch';
  return isText(firstBytes) ? 'text' : 'unknown';
}

/** Why a JSON document (first bytes, gunzipped) is not loaded by ingest: a CloudWatch Logs payload, or other JSON. */
export function jsonSkipReason(head: Buffer): string {
  const text = head.toString('utf8');
  if (/"messageType"\s*:/.test(text) && /"logEvents"\s*:/.test(text)) {
    return 'a CloudWatch Logs subscription payload: ingest loads the S3 delivery (text or Parquet objects); read payloads with flowql parse';
  }
  return 'a JSON document (a digest, manifest or metadata file?), not a flow log';
}

/** How a text object's lines are to be read: its header's layout, or AWS's default format when it has no header. */
export interface TextLayout {
  readonly layout: HeaderLayout;
  readonly header: boolean;
}

/** Lines of the head of a text object looked at to decide whether it holds any flow record. */
const VERDICT_LINES = 20;

/**
 * Decides from its first lines (`head`, the decoded start of the object) whether a text object is a flow log: the
 * first non-blank line is a header of field names, or one of the first lines is a record of AWS's default format
 * (a header-less export; a damaged first record does not hide the good ones after it). `complete`: `head` is the
 * whole object. Throws NotFlowLogError with the reason otherwise (an empty object, a README, a `_SUCCESS` marker, a
 * CSV of something else).
 */
export function textLayoutVerdict(head: string, complete: boolean): TextLayout {
  const lines = head.split('\n');
  // Unless the head is the whole object, its last piece is a line cut short: left out.
  if (!complete) lines.pop();
  if (!complete && lines.length === 0)
    throw new NotFlowLogError(`no line break in the first ${head.length} characters`);
  // The first VERDICT_LINES non-blank lines are all the verdict reads (tokenizing every line of the head cost more
  // than the rest of preparing an object).
  const nonBlank: string[] = [];
  for (const l of lines) {
    const line = l.replace(/\r$/, '');
    if (tokenize(line).length > 0 && nonBlank.push(line) >= VERDICT_LINES) break;
  }
  if (nonBlank.length === 0) throw new NotFlowLogError('empty object (no header, no records)');
  const first = nonBlank[0]!.replace(/^\uFEFF/, '');
  if (looksLikeHeader(first)) {
    try {
      return { layout: compileLayout(first), header: true };
    } catch (err) {
      throw new NotFlowLogError(`its first line looks like a header but is not one: ${(err as Error).message}`);
    }
  }
  const layout = compileLayout(DEFAULT_FORMAT_STRING);
  if (nonBlank.slice(0, VERDICT_LINES).some((l) => parseLine(layout, l).ok)) return { layout, header: false };
  const shown = first.length > 60 ? `${first.slice(0, 60)}…` : first;
  throw new NotFlowLogError(
    `first line '${shown}' is neither a header of field names nor a record of the default format, and neither is any of the next ${Math.min(nonBlank.length, VERDICT_LINES) - 1} lines`,
  );
}
